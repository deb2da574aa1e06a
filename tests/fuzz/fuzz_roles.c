/* libFuzzer target: the input becomes the one role file <id>.json of a
 * scratch roles directory for roleset_load; a role that loads scores a
 * fixed submission, whose analysis must be strict JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz_util.h"
#include "jsoncheck.h"
#include "role.h"
#include "score.h"
#include "submission.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every searchable field, some terms of every kind and unusual text. */
static const char submission_text[] =
    "{\"role\":\"any-role\",\"name\":\"Ada\",\"email\":\"ada@example.org\",\"consent\":true,"
    "\"headline\":\"Senior Node.js / Go developer \\u2014 C++17, CI/CD, ASP.NET\","
    "\"summary\":\"Java\\u2019s fine. 12k rps on PostgreSQL and Redis;\\tMongoDB,\\r\\nMySQL\","
    "\"years_experience\":7.5,"
    "\"skills\":[\"Python\",\"REST APIs\",\"AWS\",\"GCP\",\"Docker\",\"Kubernetes\",\"SQL\","
    "\"\\u00e9t\\u00e9\",\"\\ud83d\\ude00 emoji\"],"
    "\"certifications\":[\"AWS Certified Solutions Architect\"],"
    "\"experience\":[{\"title\":\"Backend engineer\",\"company\":\"Acme\","
    "\"description\":\"Built   APIs\\nserving 3000 req per second with node js\",\"years\":4},"
    "{\"title\":\"Dev\",\"years\":2.5}],"
    "\"cv_text\":\"\\u00abGo\\u00bb\\u00a0Terraform, security (OWASP), 5 million users, "
    "\\u3000\\u65e5\\u672c\\u8a9e\","
    "\"links\":{\"github\":\"https://github.com/ada\",\"blog\":\"http://ada.example:8080/x\"}}";

static char dir[4096];
static struct submission sub;

static void cleanup(void)
{
    submission_free(&sub);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    char detail[256];

    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "%s/vetd-fuzz-roles.%ld", tmp != NULL && *tmp ? tmp : "/tmp",
             (long)getpid());
    if (mkdir(dir, 0700) != 0) {
        perror(dir);
        exit(1);
    }
    if (submission_parse(&sub, submission_text, strlen(submission_text), 262144, NULL, detail,
                         sizeof detail) != SUB_OK) {
        fprintf(stderr, "fuzz_roles: fixed submission rejected: %s\n", detail);
        exit(1);
    }
    atexit(cleanup);
    return 0;
}

/* The file must be named after the role's id, so take the id from the
 * input when json-c finds a plausible one; otherwise any name will do
 * (the loader then reports the mismatch, also a path worth covering). */
static void role_file_name(const uint8_t *data, size_t size, char *name, size_t cap)
{
    char *copy = strndup((const char *)data, size);
    json_object *root, *id;
    const char *s = NULL;

    if (copy == NULL)
        abort();
    root = json_tokener_parse(copy);
    if (json_object_object_get_ex(root, "id", &id) && json_object_is_type(id, json_type_string))
        s = json_object_get_string(id);
    if (s == NULL || s[0] == '\0' || s[0] == '-' || strlen(s) > 64 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s))
        s = "fuzz";
    snprintf(name, cap, "%s", s);
    json_object_put(root);
    free(copy);
}

/* Score the fixed submission against every role of the set. */
static void score_all(const struct roleset *rs)
{
    for (size_t i = 0; i < roleset_count(rs); i++) {
        const struct role *role = roleset_get(rs, i);
        struct score_result res;
        struct jsoncheck_result r;

        memset(&res, 0, sizeof res);
        score_submission(role, &sub, "vetd fuzz", &res);
        if (res.analysis == NULL)
            fuzz_die("no analysis");
        if (jsoncheck_run(res.analysis, strlen(res.analysis), 64, &r) != JSONCHECK_OK)
            fuzz_die("analysis is not strict JSON (%s at %zu: %s): %s", jsoncheck_code_name(r.code),
                     r.offset, r.reason, res.analysis);
        if (res.score < 0 || res.score > 100 || res.threshold != role_threshold(role))
            fuzz_die("score %d threshold %d", res.score, res.threshold);
        if (res.qualified && res.score < res.threshold)
            fuzz_die("qualified with %d < %d", res.score, res.threshold);
        score_result_free(&res);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[80], path[sizeof dir + sizeof name + 8];
    char *cause = NULL;
    struct roleset *rs;

    role_file_name(data, size, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    fuzz_write_file(path, data, size);
    rs = roleset_load(dir, &cause);
    if (rs == NULL) {
        if (cause == NULL || strncmp(cause, path, strlen(path)) != 0)
            fuzz_die("failed load without a cause naming %s: %s", path, cause ? cause : "(null)");
        if (!fuzz_utf8_valid((const uint8_t *)cause, strlen(cause)))
            fuzz_die("cause is not UTF-8");
    } else {
        if (cause != NULL)
            fuzz_die("loaded with a cause: %s", cause);
        if (roleset_count(rs) != 1 || roleset_find(rs, name) == NULL)
            fuzz_die("set of %zu roles without %s", roleset_count(rs), name);
        score_all(rs);
        roleset_free(rs);
    }
    free(cause);
    unlink(path);
    return 0;
}
