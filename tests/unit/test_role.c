/* Unit tests of role loading: a good set parsed into the model, and every
 * kind of broken file rejected with its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hash.h"
#include "match.h"
#include "role_internal.h"
#include "xmalloc.h"

#define FIXTURES SOURCE_DIR "/tests/fixtures/roles"

struct bad_case {
    const char *dir;
    const char *message; /* after "<FIXTURES>/" */
};

static const struct bad_case bad_cases[] = {
    {"bad-json", "bad-json/bad-json.json:7:1: trailing comma"},
    {"truncated", "truncated/truncated.json:3:22: unexpected end of input"},
    {"unknown-key", "unknown-key/unknown-key.json: criteria[1].colour: unknown key"},
    {"bad-regex",
     "bad-regex/bad-regex.json: criteria[1].pattern: bad regular expression: Unmatched ( or \\("},
    {"empty-pattern",
     "empty-pattern/empty-pattern.json: criteria[1].pattern: must not match the empty text"},
    {"dup-ids", "dup-ids/dup-ids.json: criteria[1].id: duplicate id \"a\""},
    {"weight-zero",
     "weight-zero/weight-zero.json: criteria[1].weight: must be a positive integer (at most 1000)"},
    {"weight-negative", "weight-negative/weight-negative.json: criteria[0].weight: must be a "
                        "positive integer (at most 1000)"},
    {"weight-float", "weight-float/weight-float.json: criteria[1].weight: must be a positive "
                     "integer (at most 1000)"},
    {"weight-string", "weight-string/weight-string.json: criteria[1].weight: must be a positive "
                      "integer (at most 1000)"},
    {"two-tests", "two-tests/two-tests.json: criteria[0]: needs exactly one of terms, count, "
                  "pattern, min_years, link"},
    {"no-test", "no-test/no-test.json: criteria[0]: needs exactly one of terms, count, pattern, "
                "min_years, link"},
    {"count-min",
     "count-min/count-min.json: criteria[1].count.min: must be an integer from 1 to 2"},
    {"bad-field", "bad-field/bad-field.json: criteria[0].fields[1]: must be one of skills, "
                  "certifications, headline, summary, experience, cv_text"},
    {"bad-term", "bad-term/bad-term.json: criteria[1].terms[1]: must not start with white space"},
    {"threshold", "threshold/threshold.json: threshold: must be an integer from 0 to 100"},
    {"name-mismatch",
     "name-mismatch/name-mismatch.json: id: \"something-else\" does not match the file name"},
    {"bad-link",
     "bad-link/bad-link.json: criteria[1].link[0]: must be a link name ([a-z][a-z0-9_-]{0,31})"},
    {"missing-advice", "missing-advice/missing-advice.json: criteria[1].advice: is required"},
    {"one-broken", "one-broken/zzz.json: next_steps[0].advice: is required"},
    {"empty", "empty: no role files (*.json)"},
    {"does-not-exist",
     "does-not-exist: cannot open the roles directory: No such file or directory"},
};

static void test_broken_sets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        char *dir = xasprintf("%s/%s", FIXTURES, bad_cases[i].dir);
        char *want = xasprintf("%s/%s", FIXTURES, bad_cases[i].message);
        char *cause = NULL;
        struct roleset *rs = roleset_load(dir, &cause);
        if (rs != NULL)
            fail_msg("%s: loaded, expected: %s", bad_cases[i].dir, want);
        if (cause == NULL || strcmp(cause, want) != 0)
            fail_msg("%s:\n got  %s\n want %s", bad_cases[i].dir, cause ? cause : "(null)", want);
        free(cause);
        free(want);
        free(dir);
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *data = xmalloc(1 << 20);
    *len = fread(data, 1, 1 << 20, f);
    fclose(f);
    return data;
}

static void test_good_set(void **state)
{
    (void)state;
    char *cause = NULL;
    struct roleset *rs = roleset_load(FIXTURES "/good", &cause);

    assert_null(cause);
    assert_non_null(rs);
    assert_int_equal(roleset_count(rs), 3);
    assert_string_equal(role_id(roleset_get(rs, 0)), "overlap");
    assert_string_equal(role_id(roleset_get(rs, 1)), "rounding");
    assert_string_equal(role_id(roleset_get(rs, 2)), "test-backend");
    assert_null(roleset_get(rs, 3));
    assert_null(roleset_find(rs, "frontend"));
    const struct role *r = roleset_find(rs, "test-backend");
    assert_non_null(r);
    assert_string_equal(role_title(r), "Test Backend");
    assert_string_equal(role_version(r), "t1");
    assert_int_equal(role_threshold(r), 50);
    assert_string_equal(role_description(roleset_find(rs, "rounding")), "");
    assert_string_equal(role_path(r), FIXTURES "/good/test-backend.json");

    size_t len;
    char hex[HASH_HEX_LEN + 1];
    char *data = slurp(FIXTURES "/good/test-backend.json", &len);
    hash_sha1_hex(data, len, hex);
    assert_string_equal(role_sha1(r), hex);
    free(data);
    roleset_free(rs);
}

static void test_model(void **state)
{
    (void)state;
    char *cause = NULL;
    struct roleset *rs = roleset_load(FIXTURES "/good", &cause);
    const struct role *r = roleset_find(rs, "test-backend");

    assert_int_equal(r->ncriteria, 6);
    const struct role_criterion *node = &r->criteria[0], *go = &r->criteria[1];
    assert_true(node->required);
    assert_false(go->required);
    assert_int_equal(node->test, ROLE_TEST_TERMS);
    assert_int_equal(node->weight, 10);
    /* nodejs looks everywhere but certifications, in the given order. */
    assert_int_equal(node->nfields, 5);
    assert_int_equal(node->rank[ROLE_FIELD_CERTIFICATIONS], -1);
    assert_int_equal(node->rank[ROLE_FIELD_CV_TEXT], 4);
    /* go looks in cv_text first, then skills. */
    assert_int_equal(go->nfields, 2);
    assert_int_equal(go->fields[0], ROLE_FIELD_CV_TEXT);
    assert_int_equal(go->rank[ROLE_FIELD_CV_TEXT], 0);
    assert_int_equal(go->rank[ROLE_FIELD_SKILLS], 1);
    assert_int_equal(go->rank[ROLE_FIELD_HEADLINE], -1);
    const struct role_criterion *db = &r->criteria[2];
    assert_int_equal(db->test, ROLE_TEST_COUNT);
    assert_int_equal(db->nentries, 4);
    assert_int_equal(db->min, 2);
    /* Default fields: all six, canonical order. */
    assert_int_equal(db->nfields, ROLE_FIELD_COUNT);
    assert_int_equal(db->fields[ROLE_FIELD_SUMMARY], ROLE_FIELD_SUMMARY);
    assert_int_equal(r->criteria[3].test, ROLE_TEST_PATTERN);
    assert_true(r->criteria[3].has_re);
    assert_int_equal(r->criteria[4].test, ROLE_TEST_MIN_YEARS);
    assert_true(r->criteria[4].min_years == 3.0);
    assert_int_equal(r->criteria[5].test, ROLE_TEST_LINK);
    assert_int_equal(r->criteria[5].nlinks, 2);
    assert_string_equal(r->criteria[5].links[1], "blog");
    /* 3 + 2 terms, then 2 + 1 + 2 + 1 count terms, in one automaton. */
    assert_int_equal(match_set_count(r->terms), 11);
    assert_int_equal(r->owners[5].criterion, 2);
    assert_int_equal(r->owners[5].entry, 0);
    assert_int_equal(r->owners[10].entry, 3);
    assert_int_equal(r->nsteps, 2);
    assert_string_equal(r->steps[1].group, "interview");
    roleset_free(rs);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static void remove_file(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    unlink(path);
    free(path);
}

static const char minimal[] =
    "{\"id\": \"mini\", \"version\": \"1\", \"title\": \"Mini\", \"threshold\": 0,\n"
    " \"criteria\": [{\"id\": \"a\", \"group\": \"g\", \"label\": \"A\", \"weight\": 1,\n"
    "   \"advice\": \"Do A.\", \"terms\": [\"a\"]}]}\n";

/* Hidden files and other extensions are not roles; strictness beyond
 * json-c (NaN, single quotes, a byte-order mark) is a syntax error. */
static void test_directory_rules(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/vetd-test-role-......";
    memset(tmpl + strlen(tmpl) - 6, 'X', 6); /* mkdtemp's template */
    char *dir = mkdtemp(tmpl), *cause = NULL;
    struct roleset *rs;

    assert_non_null(dir);
    write_file(dir, "mini.json", minimal);
    write_file(dir, ".mini.json", "{broken");
    write_file(dir, "README.md", "not a role");
    write_file(dir, "mini.json.orig", "{broken");
    rs = roleset_load(dir, &cause);
    assert_non_null(rs);
    assert_int_equal(roleset_count(rs), 1);
    roleset_free(rs);

    write_file(dir, "nan.json", "{\"id\": \"nan\", \"threshold\": NaN}");
    rs = roleset_load(dir, &cause);
    assert_null(rs);
    char *want = xasprintf("%s/nan.json:1:28: NaN is not JSON", dir);
    assert_string_equal(cause, want);
    free(want);
    free(cause);
    cause = NULL;
    remove_file(dir, "nan.json");

    write_file(dir, "quote.json", "{'id': 'quote'}");
    rs = roleset_load(dir, &cause);
    assert_null(rs);
    want = xasprintf("%s/quote.json:1:2: single quotes are not JSON", dir);
    assert_string_equal(cause, want);
    free(want);
    free(cause);
    remove_file(dir, "quote.json");

    remove_file(dir, "mini.json");
    remove_file(dir, ".mini.json");
    remove_file(dir, "README.md");
    remove_file(dir, "mini.json.orig");
    rmdir(dir);
}

/* Loading leaves the thread's locale as it found it. */
static void test_locale_restored(void **state)
{
    (void)state;
    locale_t before = uselocale((locale_t)0);
    char *cause = NULL;
    struct roleset *rs = roleset_load(FIXTURES "/good", &cause);
    assert_non_null(rs);
    assert_true(uselocale((locale_t)0) == before);
    roleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broken_sets),     cmocka_unit_test(test_good_set),
        cmocka_unit_test(test_model),           cmocka_unit_test(test_directory_rules),
        cmocka_unit_test(test_locale_restored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
