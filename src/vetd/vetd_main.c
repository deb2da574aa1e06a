/* vetd, the application-review queue daemon: its life from the command
 * line to the exit status (SPEC §7). It never forks. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "failpoint.h"
#include "log.h"
#include "lualib.h"
#include "notify.h"
#include "role.h"
#include "vetd.h"
#include "xmalloc.h"

#define VETD_DEFAULT_CONFIG "/etc/vetd/vetd.conf"

struct vetd_args {
    const char *config;
    const char *instance;
    bool check_config;
    bool version;
    bool help;
};

static void vetd_usage(FILE *f)
{
    fprintf(f, "usage: vetd [-c FILE] [--instance NAME] [--check-config] [--version] [--help]\n"
               "  -c, --config FILE  configuration file (default " VETD_DEFAULT_CONFIG ")\n"
               "  --instance NAME    this daemon's name (overrides `instance`)\n"
               "  --check-config     validate the configuration and the roles, then exit\n"
               "  --version          print the version and exit\n"
               "  --help             print this help and exit\n");
}

/* Returns -1 to go on, else the exit status. */
static int vetd_parse_args(int argc, char **argv, struct vetd_args *a)
{
    enum { OPT_INSTANCE = 256, OPT_CHECK, OPT_VERSION, OPT_HELP };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"instance", required_argument, NULL, OPT_INSTANCE},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    a->config = VETD_DEFAULT_CONFIG;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config = optarg;
            break;
        case OPT_INSTANCE:
            a->instance = optarg;
            break;
        case OPT_CHECK:
            a->check_config = true;
            break;
        case OPT_VERSION:
            a->version = true;
            break;
        case OPT_HELP:
            a->help = true;
            break;
        default:
            vetd_usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "vetd: unexpected argument: %s\n", argv[optind]);
        vetd_usage(stderr);
        return EX_USAGE;
    }
    /* Only a command line without errors is answered (`--version --bogus` is 64). */
    if (a->help) {
        vetd_usage(stdout);
        return EX_OK;
    }
    if (a->version) {
        printf("vetd %s (functions %s)\n", VETD_VERSION, lualib_name);
        return EX_OK;
    }
    return -1;
}

/* The configuration and the roles in force at start; false with *cause. */
static bool vetd_load(struct vetd *v, const struct vetd_args *a, char **cause)
{
    cfg_defaults(&v->cfg);
    if (!cfg_load(&v->cfg, a->config, cause))
        return false;
    if (a->instance && !cfg_set(&v->cfg, "instance", a->instance, cause))
        return false;
    if (!cfg_check(&v->cfg, a->config, cause))
        return false;
    v->roles = roleset_load(v->cfg.roles_dir, cause);
    if (v->roles == NULL) {
        /* "DIR: reason" is about the directory itself (missing, no role
         * files): the configuration's line is the one to fix. A role
         * file's error ("DIR/x.json:...") names its own file and line. */
        size_t n = strlen(v->cfg.roles_dir);
        if (strncmp(*cause, v->cfg.roles_dir, n) == 0 && strncmp(*cause + n, ": ", 2) == 0)
            *cause = cfg_blame(&v->cfg, "roles_dir", *cause);
    }
    return v->roles != NULL;
}

/* Overwrite and free the Redis password once it is no longer needed. */
static void vetd_forget_password(char **password)
{
    if (*password == NULL)
        return;
    explicit_bzero(*password, strlen(*password));
    free(*password);
    *password = NULL;
}

int main(int argc, char **argv)
{
    struct vetd_args args = {0};
    int rc = vetd_parse_args(argc, argv, &args);
    if (rc >= 0)
        return rc;

    /* Until the loop's handlers are in place (vetd_init), a stop or reload
     * signal waits, blocked, instead of killing a vetd that is still
     * reading its roles; it is delivered to the loop then. */
    sigset_t early;
    sigemptyset(&early);
    sigaddset(&early, SIGTERM);
    sigaddset(&early, SIGINT);
    sigaddset(&early, SIGHUP);
    sigprocmask(SIG_BLOCK, &early, NULL);

    /* Configuration and roles: any error is 78, before touching Redis. */
    log_init("vetd", NULL, CFG_LOG_INFO);
    struct vetd v = {.config_path = args.config, .instance_override = args.instance};
    char *cause = NULL;
    char *password = NULL;
    if (!vetd_load(&v, &args, &cause))
        goto config_error;
    /* The password file is part of the configuration: --check-config reads
     * it too, so ExecStartPre catches a missing or unreadable one. */
    password = cfg_read_password(&v.cfg, &cause);
    if (cause != NULL)
        goto config_error;
    if (args.check_config) {
        vetd_forget_password(&password);
        printf("%s: ok (%zu role(s) in %s)\n", args.config, roleset_count(v.roles),
               v.cfg.roles_dir);
        vetd_cleanup(&v);
        return EX_OK;
    }
    log_set_instance(v.cfg.instance);
    log_set_level(v.cfg.log_level);

    /* The loop, the connections, the signals; then the life in the loop:
     * connect, load the Functions, claim the name, READY, take and settle
     * until a signal, return what is unsettled, leave. */
    failpoint_init();
    notify_init();
    srandom((unsigned)(getpid() ^ time(NULL)));
    if (!vetd_init(&v, password, &cause))
        goto config_error;
    sigprocmask(SIG_UNBLOCK, &early, NULL);
    vetd_forget_password(&password);
    log_notice("starting vetd %s (functions %s, %zu role(s))", VETD_VERSION, lualib_name,
               roleset_count(v.roles));
    vetd_start(&v);
    event_base_dispatch(v.base);

    rc = v.exit_code;
    vetd_cleanup(&v);
    log_notice("stopped (exit %d)", rc);
    return rc;

config_error:
    log_error("%s", cause ? cause : "configuration error");
    free(cause);
    vetd_forget_password(&password);
    vetd_cleanup(&v);
    return EX_CONFIG;
}
