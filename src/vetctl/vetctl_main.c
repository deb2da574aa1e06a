/* vetctl: the reviewer's and operator's CLI. main() takes the global
 * options out of argv (before or after the command) and dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ctl.h"
#include "xmalloc.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vetctl [-c FILE] [--redis URL] [--json] COMMAND ...\n\n"
               "options:\n"
               "  -c FILE       configuration file (default: $VETCTL_CONFIG,\n"
               "                ~/.config/vetd/vetctl.conf, /etc/vetd/vetd.conf)\n"
               "  --redis URL   Redis to use instead of the configured one\n"
               "  --json        machine-readable output\n"
               "  --version     print the version\n\n"
               "commands:\n");
    for (size_t i = 0; i < ctl_ncommands; i++)
        fprintf(f, "  %s\n      %s\n", ctl_commands[i].usage, ctl_commands[i].help);
    fprintf(f, "\n`vetctl COMMAND --help` describes one command; vetctl(1) all of them.\n");
}

/* Take the global options that precede the command out of argv; the
 * command and everything after it go to rest (ctl_parse() takes the global
 * options that follow the command, so that an option's value or anything
 * after `--` is never mistaken for one). Returns -1 to go on, else an exit
 * code. */
static int global_options(struct ctl *ctl, int argc, char **argv, char **rest, int *nrest)
{
    int i = 1;

    for (; i < argc; i++) {
        const char *a = argv[i];
        int m;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("vetctl %s\n", VETD_VERSION);
            return 0;
        }
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if ((m = ctl_global_opt(ctl, argc, argv, &i)) == EX_USAGE)
            return EX_USAGE;
        if (m == 1)
            continue;
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "vetctl: unknown option %s (try vetctl --help)\n", a);
            return EX_USAGE;
        }
        break;
    }
    for (; i < argc; i++)
        rest[(*nrest)++] = argv[i];
    return -1;
}

int main(int argc, char **argv)
{
    struct ctl ctl = {0};
    char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0;
    int rc = global_options(&ctl, argc, argv, rest, &nrest);

    if (rc >= 0)
        goto out;
    ctl.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
    rc = EX_USAGE;
    if (nrest == 0) {
        usage(stderr);
        goto out;
    }
    for (size_t i = 0; i < ctl_ncommands; i++) {
        if (strcmp(rest[0], ctl_commands[i].name) == 0) {
            ctl.cmd = ctl_commands[i].name;
            rc = ctl_commands[i].run(&ctl, nrest, rest);
            ctl_close(&ctl);
            goto out;
        }
    }
    fprintf(stderr, "vetctl: unknown command '%s' (try vetctl --help)\n", rest[0]);
out:
    free(rest);
    return rc;
}
