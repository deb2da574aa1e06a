/* vetctl's shared state and its command table: every command is a
 * function `int ctl_<name>(struct ctl *, int argc, char **argv)` that
 * returns a sysexits code; argv[0] is the command name and the global
 * options have already been taken out. */
#ifndef VETCTL_CTL_H
#define VETCTL_CTL_H

#include <stdbool.h>

struct ctl {
    const char *config_path; /* -c FILE, or NULL: see the lookup order of SPEC §8 */
    const char *redis_url;   /* --redis URL, or NULL */
    bool json;               /* --json */
    bool color;              /* stdout is a terminal and $NO_COLOR is unset */
};

struct ctl_command {
    const char *name;
    int (*run)(struct ctl *ctl, int argc, char **argv);
    const char *usage; /* "score FILE [--role ID] [--roles-dir DIR]" */
    const char *help;  /* one line */
};

int ctl_score(struct ctl *ctl, int argc, char **argv);

#endif
