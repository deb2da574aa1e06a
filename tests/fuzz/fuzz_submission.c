/* libFuzzer target: submission_parse on arbitrary bytes and score_submission
 * on whatever it accepts, cross-checked against jsoncheck, json-c and an
 * independent UTF-8 decoder, plus a re-serialization round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz_util.h"
#include "jsoncheck.h"
#include "role.h"
#include "score.h"
#include "submission.h"

#define MAX_BYTES 262144
#define MAX_DEPTH 64
#define SCORED_BY "vetd fuzz"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct roleset *roles; /* loaded once, lives until exit */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = fuzz_roles_dir();
    char *cause = NULL;

    (void)argc;
    (void)argv;
    roles = roleset_load(dir, &cause);
    if (roles == NULL) {
        fprintf(stderr, "fuzz_submission: roles %s: %s\n", dir, cause);
        exit(1);
    }
    return 0;
}

static enum sub_code expected_code(enum jsoncheck_code c)
{
    switch (c) {
    case JSONCHECK_BAD_UTF8:
        return SUB_BAD_UTF8;
    case JSONCHECK_NOT_JSON:
        return SUB_NOT_JSON;
    case JSONCHECK_TOO_DEEP:
        return SUB_TOO_DEEP;
    case JSONCHECK_OK:
        break;
    }
    return SUB_OK;
}

/* The verdict on the encoding and the grammar must agree with the strict
 * checker run on its own, with an independent UTF-8 decoder and with
 * json-c: whatever passes the strict grammar, json-c parses too. */
static void check_grammar(const uint8_t *data, size_t size, enum sub_code code)
{
    struct jsoncheck_result r;
    json_object *o;

    if (size > MAX_BYTES) {
        if (code != SUB_TOO_LARGE)
            fuzz_die("%zu bytes not too_large but %s", size, sub_code_name(code));
        return;
    }
    if (!fuzz_utf8_valid(data, size) && code != SUB_BAD_UTF8)
        fuzz_die("invalid UTF-8 accepted as far as %s", sub_code_name(code));
    jsoncheck_run((const char *)data, size, MAX_DEPTH, &r);
    if (r.code != JSONCHECK_OK) {
        if (code != expected_code(r.code))
            fuzz_die("jsoncheck says %s, submission_parse %s", jsoncheck_code_name(r.code),
                     sub_code_name(code));
        return;
    }
    if (code == SUB_BAD_UTF8 || code == SUB_NOT_JSON || code == SUB_TOO_DEEP)
        fuzz_die("jsoncheck accepts, submission_parse says %s", sub_code_name(code));
    if (!fuzz_jsonc_parse(data, size, FUZZ_JSONC_DEPTH, &o))
        fuzz_die("strict grammar accepts what json-c refuses");
    if ((r.top == '{') != json_object_is_type(o, json_type_object))
        fuzz_die("jsoncheck top '%c' disagrees with json-c's type", r.top);
    json_object_put(o);
}

/* detail goes into logs and dead letters: short, printable, valid UTF-8. */
static void check_detail(const char *detail, size_t cap, enum sub_code code)
{
    size_t n = strnlen(detail, cap);

    if (n == cap)
        fuzz_die("detail not NUL-terminated");
    if ((code == SUB_OK) != (n == 0))
        fuzz_die("code %s with detail \"%s\"", sub_code_name(code), detail);
    if (!fuzz_utf8_valid((const uint8_t *)detail, n))
        fuzz_die("detail is not UTF-8");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)detail[i] < 0x20 || detail[i] == 0x7F)
            fuzz_die("control character in detail \"%s\"", detail);
}

/* The analysis must be strict JSON itself and agree with the result. */
static void check_analysis(const struct role *role, const struct score_result *res)
{
    struct jsoncheck_result r;
    json_object *o, *v;
    size_t n;

    if (res->analysis == NULL)
        fuzz_die("no analysis");
    n = strlen(res->analysis);
    if (jsoncheck_run(res->analysis, n, MAX_DEPTH, &r) != JSONCHECK_OK || r.top != '{')
        fuzz_die("analysis is not strict JSON (%s at %zu: %s): %s", jsoncheck_code_name(r.code),
                 r.offset, r.reason, res->analysis);
    if (res->score < 0 || res->score > 100 || res->threshold != role_threshold(role))
        fuzz_die("score %d threshold %d", res->score, res->threshold);
    if (res->qualified && res->score < res->threshold)
        fuzz_die("qualified with %d < %d", res->score, res->threshold);
    if (!fuzz_jsonc_parse((const uint8_t *)res->analysis, n, FUZZ_JSONC_DEPTH, &o))
        fuzz_die("json-c cannot parse the analysis");
    if (!json_object_object_get_ex(o, "score", &v) || json_object_get_int(v) != res->score)
        fuzz_die("analysis score differs from %d", res->score);
    if (!json_object_object_get_ex(o, "qualified", &v) ||
        json_object_get_boolean(v) != res->qualified)
        fuzz_die("analysis verdict differs");
    json_object_put(o);
}

/* Score s against its role; the caller frees the returned analysis. */
static char *score_one(const struct submission *s)
{
    const struct role *role = roleset_find(roles, s->role);
    struct score_result res;
    char *analysis;

    if (role == NULL)
        fuzz_die("accepted with unknown role");
    memset(&res, 0, sizeof res);
    score_submission(role, s, SCORED_BY, &res);
    check_analysis(role, &res);
    analysis = strdup(res.analysis);
    if (analysis == NULL)
        abort();
    score_result_free(&res);
    return analysis;
}

/* Stability: json-c's own rendering of an accepted submission is accepted
 * again and scores to the same bytes. The limit is lifted because escapes
 * (\/, \u0001) make the rendering longer than the input. */
static void check_round_trip(const struct submission *s, const char *analysis)
{
    struct submission again;
    char detail[256];
    size_t n;
    const char *text = json_object_to_json_string_length(s->root, JSON_C_TO_STRING_PLAIN, &n);
    char *copy = strndup(text, n);
    enum sub_code code;

    if (copy == NULL)
        abort();
    code = submission_parse(&again, copy, n, 8 * (size_t)MAX_BYTES, roles, detail, sizeof detail);
    if (code != SUB_OK)
        fuzz_die("re-serialized submission rejected: %s (%s): %s", sub_code_name(code), detail,
                 copy);
    char *analysis2 = score_one(&again);
    if (strcmp(analysis, analysis2) != 0)
        fuzz_die("analysis changed by re-serialization:\n%s\n%s", analysis, analysis2);
    free(analysis2);
    submission_free(&again);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct submission s;
    char detail[256];
    enum sub_code code;

    code = submission_parse(&s, (const char *)data, size, MAX_BYTES, roles, detail, sizeof detail);
    check_detail(detail, sizeof detail, code);
    check_grammar(data, size, code);
    if (strlen(s.digest) != 40)
        fuzz_die("digest \"%s\"", s.digest);
    if (code != SUB_OK) {
        if (s.root != NULL)
            fuzz_die("rejected (%s) but root kept", sub_code_name(code));
        if (code == SUB_UNKNOWN_ROLE) {
            /* Without a role set the role is not checked: it passes. */
            code = submission_parse(&s, (const char *)data, size, MAX_BYTES, NULL, detail,
                                    sizeof detail);
            if (code != SUB_OK)
                fuzz_die("unknown_role, but %s without roles", sub_code_name(code));
            submission_free(&s);
        }
    } else {
        char *analysis = score_one(&s);
        check_round_trip(&s, analysis);
        free(analysis);
        submission_free(&s);
    }
    if (size > 0) {
        code =
            submission_parse(&s, (const char *)data, size, size - 1, roles, detail, sizeof detail);
        if (code != SUB_TOO_LARGE)
            fuzz_die("%zu bytes over a limit of %zu: %s", size, size - 1, sub_code_name(code));
    }
    return 0;
}
