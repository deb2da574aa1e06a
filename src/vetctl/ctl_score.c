/* vetctl score: validate and score one submission file offline (no Redis,
 * no configuration) and print the analysis, for people or as JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "ctl.h"
#include "out.h"
#include "render.h"
#include "role.h"
#include "score.h"
#include "submission.h"
#include "xmalloc.h"

#define SCORE_MAX_BYTES 262144 /* SPEC §7 max_payload_bytes default */
#define SCORE_SYSTEM_ROLES "/etc/vetd/roles"

static void score_help(void)
{
    printf("usage: vetctl [--json] score FILE [--role ID] [--roles-dir DIR] [--json]\n"
           "\n"
           "Validate and score one submission offline (no Redis, no configuration needed) and\n"
           "print the analysis: score and threshold, verdict, the criteria met with their\n"
           "evidence, the missing ones, and the optimization plan. FILE `-` reads standard\n"
           "input.\n"
           "\n"
           "  --role ID        score against role ID instead of the submission's `role`\n"
           "  --roles-dir DIR  the role files; default: the roles_dir of the configuration\n"
           "                   named by -c or $VETCTL_CONFIG, else $VETD_ROLES_DIR, else %s\n"
           "                   when it exists (the source tree's conf/roles is never assumed:\n"
           "                   pass --roles-dir conf/roles there)\n"
           "  --json           print the analysis exactly as vetd stores it\n"
           "\n"
           "exit: 0 scored, 64 usage, 65 invalid submission (code and detail on stderr),\n"
           "      66 FILE not readable, 78 bad or missing role files\n",
           SCORE_SYSTEM_ROLES);
}

/* Read at most max bytes of path ("-": stdin) into *data (caller frees);
 * a longer input reads max + 1 bytes so the validator says too_large.
 * Returns 0 or an errno value. */
static int read_input(const char *path, size_t max, char **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *p;
    size_t n = 0;
    int err = 0;

    if (f == NULL)
        return errno;
    p = xmalloc(max + 2);
    while (n <= max) {
        size_t got = fread(p + n, 1, max + 1 - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(f))
        err = errno ? errno : EIO;
    if (f != stdin)
        fclose(f);
    if (err != 0) {
        free(p);
        return err;
    }
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}

/* The roles directory in force, or NULL when there is none to use. */
static const char *roles_dir(const char *given)
{
    const char *env = getenv("VETD_ROLES_DIR");
    struct stat st;

    if (given != NULL)
        return given;
    if (env != NULL && *env != '\0')
        return env;
    if (stat(SCORE_SYSTEM_ROLES, &st) == 0 && S_ISDIR(st.st_mode))
        return SCORE_SYSTEM_ROLES;
    return NULL;
}

/* The submission's own lines: who, which application, which role. */
static void add_header(struct buf *b, bool color, const struct submission *s, json_object *a)
{
    const char *title = render_str(a, "role_title");

    buf_adds(b, out_on(color, OUT_BOLD));
    out_escape(b, s->name, strlen(s->name), OUT_FOLD_WS);
    buf_adds(b, out_off(color));
    buf_adds(b, " <");
    out_escape(b, s->email, strlen(s->email), 0);
    buf_adds(b, ">  id ");
    out_escape(b, s->id, strlen(s->id), 0);
    buf_adds(b, "\nrole ");
    if (title != NULL)
        out_escape(b, title, strlen(title), 0);
    buf_printf(b, " (%s, version %s)\n\n", render_str(a, "role") ? render_str(a, "role") : "",
               render_str(a, "role_version") ? render_str(a, "role_version") : "");
}

static void add_verdict(struct buf *b, bool color, json_object *a)
{
    json_object *q = render_get(a, "qualified", json_type_boolean);
    bool qualified = q != NULL && json_object_get_boolean(q);
    int score = render_int(a, "score"), threshold = render_int(a, "threshold");

    buf_printf(b, "score %s%d%s / 100   threshold %d   verdict ", out_on(color, OUT_BOLD), score,
               out_off(color), threshold);
    out_styled(b, color, qualified ? OUT_GREEN : OUT_RED,
               qualified ? "qualified" : "not qualified");
    buf_addc(b, '\n');
    if (!qualified && score >= threshold)
        buf_printf(b, "%s(the score reaches the threshold but a required criterion is missing)%s\n",
                   out_on(color, OUT_YELLOW), out_off(color));
}

/* The analysis for a person: header, verdict, then met, missing and the
 * plan laid out as `vetctl show` lays them out. */
static int print_human(struct ctl *ctl, const struct submission *s, const char *analysis)
{
    json_object *a = json_tokener_parse(analysis);
    struct buf b = BUF_INIT;

    if (a == NULL)
        return ctl_fail(ctl, EX_SOFTWARE, "the scorer produced an unreadable analysis");
    add_header(&b, ctl->color, s, a);
    add_verdict(&b, ctl->color, a);
    render_analysis(&b, ctl->color, a);
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
    json_object_put(a);
    return 0;
}

/* Validate and score the bytes against the role set; print the result. */
static int score_bytes(struct ctl *ctl, const char *file, const char *data, size_t len,
                       const struct roleset *rs, const char *role_opt)
{
    struct submission s;
    struct score_result res;
    char detail[256] = "";
    const struct role *r;
    enum sub_code code;
    int rc = 0;

    code = submission_parse(&s, data, len, SCORE_MAX_BYTES, role_opt ? NULL : rs, detail,
                            sizeof detail);
    if (code != SUB_OK)
        return ctl_fail(ctl, EX_DATAERR, " %s: %s: %s", file, sub_code_name(code), detail);
    r = roleset_find(rs, role_opt ? role_opt : s.role);
    if (r == NULL) {
        submission_free(&s);
        return ctl_fail(ctl, EX_USAGE, "--role %s: no such role", role_opt);
    }
    score_submission(r, &s, "vetd " VETD_VERSION, &res);
    if (ctl->json) {
        fputs(res.analysis, stdout);
        fputc('\n', stdout);
    } else {
        rc = print_human(ctl, &s, res.analysis);
    }
    score_result_free(&res);
    submission_free(&s);
    return rc;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

int ctl_score(struct ctl *ctl, int argc, char **argv)
{
    const char *role_opt = NULL, *dir_opt = NULL, *dir;
    const struct ctl_opt opts[] = {
        {"--role", true, &role_opt, NULL},
        {"--roles-dir", true, &dir_opt, NULL},
        {"--json", false, NULL, &ctl->json},
        {NULL, false, NULL, NULL},
    };
    char *pos[1], *data = NULL, *cause = NULL;
    struct roleset *rs;
    size_t len = 0;
    int npos, rc, err;

    if (wants_help(argc, argv)) {
        score_help();
        return 0;
    }
    if ((rc = ctl_parse(ctl, argc, argv, opts, pos, &npos, 1, 1)) != 0)
        return rc < 0 ? 0 : rc;
    if ((err = read_input(pos[0], SCORE_MAX_BYTES, &data, &len)) != 0)
        return ctl_fail(ctl, EX_NOINPUT, " %s: %s", pos[0], strerror(err));
    /* A configuration named on purpose says where its roles are. */
    bool named = false;
    if (dir_opt == NULL && (rc = ctl_named_config(ctl, &named)) != 0) {
        free(data);
        return rc;
    }
    if ((dir = named ? ctl->cfg.roles_dir : roles_dir(dir_opt)) == NULL) {
        free(data);
        return ctl_fail(ctl, EX_CONFIG,
                        "no roles directory: give --roles-dir DIR or set VETD_ROLES_DIR "
                        "(%s does not exist)",
                        SCORE_SYSTEM_ROLES);
    }
    if ((rs = roleset_load(dir, &cause)) == NULL) {
        rc = ctl_fail(ctl, EX_CONFIG, "%s", cause ? cause : dir);
        free(cause);
        free(data);
        return rc;
    }
    rc = score_bytes(ctl, pos[0], data, len, rs, role_opt);
    roleset_free(rs);
    free(data);
    return rc;
}
