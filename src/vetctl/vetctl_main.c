/* vetctl: the reviewer's and operator's CLI. main() takes the global
 * options out of argv (before or after the command) and dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ctl.h"

static const struct ctl_command commands[] = {
    {"score", ctl_score, "score FILE [--role ID] [--roles-dir DIR]",
     "score a submission offline (no Redis, no config)"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: vetctl [-c FILE] [--redis URL] [--json] COMMAND ...\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-44s %s\n", commands[i].usage, commands[i].help);
}

int main(int argc, char **argv)
{
    struct ctl ctl = {0};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0;

    if (rest == NULL)
        abort();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            ctl.json = true;
        } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--redis") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vetctl: %s needs a value\n", argv[i]);
                free(rest);
                return EX_USAGE;
            }
            if (argv[i][1] == 'c')
                ctl.config_path = argv[++i];
            else
                ctl.redis_url = argv[++i];
        } else if (nrest == 0 && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            usage(stdout);
            free(rest);
            return 0;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    ctl.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
    if (nrest == 0) {
        usage(stderr);
        free(rest);
        return EX_USAGE;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(rest[0], commands[i].name) == 0) {
            int rc = commands[i].run(&ctl, nrest, rest);
            free(rest);
            return rc;
        }
    }
    fprintf(stderr, "vetctl: unknown command '%s' (try vetctl --help)\n", rest[0]);
    free(rest);
    return EX_USAGE;
}
