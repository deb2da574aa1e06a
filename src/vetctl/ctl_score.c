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
           "Validate and score one submission offline (no Redis, no configuration) and print\n"
           "the analysis: score and threshold, verdict, the criteria met with their evidence,\n"
           "the missing ones, and the optimization plan. FILE `-` reads standard input.\n"
           "\n"
           "  --role ID        score against role ID instead of the submission's `role`\n"
           "  --roles-dir DIR  the role files; default $VETD_ROLES_DIR, else %s\n"
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

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v))
        return "";
    return json_object_get_string(v);
}

static int jint(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

static json_object *jarr(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

/* Sum of the weights of the criteria of one list. */
static int weight_sum(json_object *list)
{
    int sum = 0;

    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
        sum += jint(json_object_array_get_idx(list, i), "weight");
    return sum;
}

static void add_header(struct buf *b, bool color, const struct submission *s, json_object *a)
{
    buf_adds(b, out_on(color, OUT_BOLD));
    out_escape(b, s->name, strlen(s->name), OUT_FOLD_WS);
    buf_adds(b, out_off(color));
    buf_adds(b, " <");
    out_escape(b, s->email, strlen(s->email), 0);
    buf_adds(b, ">  id ");
    out_escape(b, s->id, strlen(s->id), 0);
    buf_adds(b, "\nrole ");
    out_escape(b, jstr(a, "role_title"), strlen(jstr(a, "role_title")), 0);
    buf_printf(b, " (%s, version %s)\n\n", jstr(a, "role"), jstr(a, "role_version"));
}

static void add_verdict(struct buf *b, bool color, json_object *a)
{
    json_object *q;
    bool qualified = json_object_object_get_ex(a, "qualified", &q) && json_object_get_boolean(q);
    int score = jint(a, "score"), threshold = jint(a, "threshold");

    buf_printf(b, "score %s%d%s / 100   threshold %d   verdict ", out_on(color, OUT_BOLD), score,
               out_off(color), threshold);
    out_styled(b, color, qualified ? OUT_GREEN : OUT_RED,
               qualified ? "qualified" : "not qualified");
    buf_addc(b, '\n');
    if (!qualified && score >= threshold)
        buf_printf(b, "%s(the score reaches the threshold but a required criterion is missing)%s\n",
                   out_on(color, OUT_YELLOW), out_off(color));
    buf_adds(b, "\n");
}

/* One criterion line: mark, label padded, group, weight. */
static void add_criterion(struct buf *b, bool color, json_object *c, bool met)
{
    char w[16];

    buf_adds(b, "  ");
    out_styled(b, color, met ? OUT_GREEN : OUT_RED, met ? "+" : "-");
    buf_addc(b, ' ');
    out_cell(b, jstr(c, "label"), 44, true);
    buf_addc(b, ' ');
    out_cell(b, jstr(c, "group"), 12, true);
    snprintf(w, sizeof w, "%3d", jint(c, "weight"));
    buf_adds(b, w);
    buf_addc(b, '\n');
}

static void add_evidence(struct buf *b, bool color, json_object *c)
{
    json_object *ev = jarr(c, "evidence");

    for (size_t i = 0; ev != NULL && i < json_object_array_length(ev); i++) {
        json_object *e = json_object_array_get_idx(ev, i);
        const char *field = jstr(e, "field"), *text = jstr(e, "text");

        buf_printf(b, "      %s", out_on(color, OUT_DIM));
        out_escape(b, field, strlen(field), 0);
        buf_printf(b, ":%s \"", out_off(color));
        out_escape(b, text, strlen(text), OUT_FOLD_WS);
        buf_adds(b, "\"\n");
    }
}

static void add_criteria(struct buf *b, bool color, json_object *a, const char *key, bool met)
{
    json_object *list = jarr(a, key);
    size_t n = list ? json_object_array_length(list) : 0;

    buf_printf(b, "%s%s%s (%zu %s, %d points)\n", out_on(color, OUT_BOLD), met ? "Met" : "Missing",
               out_off(color), n, n == 1 ? "criterion" : "criteria", weight_sum(list));
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(list, i);

        add_criterion(b, color, c, met);
        if (met)
            add_evidence(b, color, c);
    }
    buf_addc(b, '\n');
}

static void add_plan(struct buf *b, bool color, json_object *a, size_t width)
{
    json_object *plan = jarr(a, "plan");
    size_t n = plan ? json_object_array_length(plan) : 0;

    buf_printf(b, "%sOptimization plan%s (%zu steps)\n", out_on(color, OUT_BOLD), out_off(color),
               n);
    for (size_t i = 0; i < n; i++) {
        json_object *step = json_object_array_get_idx(plan, i);

        struct buf text = BUF_INIT;

        buf_printf(b, "%3zu. ", i + 1);
        buf_printf(&text, "[%s] %s", jstr(step, "group"), jstr(step, "advice"));
        out_wrap(b, text.data, 0, 5, width);
        buf_free(&text);
    }
}

/* The analysis for a person: header, verdict, met, missing, plan. */
static int print_human(struct ctl *ctl, const struct submission *s, const char *analysis)
{
    json_object *a = json_tokener_parse(analysis);
    struct buf b = BUF_INIT;

    if (a == NULL)
        return ctl_fail(ctl, EX_SOFTWARE, "the scorer produced an unreadable analysis");
    add_header(&b, ctl->color, s, a);
    add_verdict(&b, ctl->color, a);
    add_criteria(&b, ctl->color, a, "met", true);
    add_criteria(&b, ctl->color, a, "missing", false);
    add_plan(&b, ctl->color, a, out_term_width());
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
    if ((dir = roles_dir(dir_opt)) == NULL) {
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
