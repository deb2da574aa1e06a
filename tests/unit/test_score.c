/* Unit tests of scoring: each criterion kind, rounding, required criteria,
 * evidence limits and order, the plan's order, and byte-identical analyses
 * whatever the process locale. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "buf.h"
#include "role.h"
#include "score.h"
#include "submission.h"
#include "xmalloc.h"

#define FIXTURES SOURCE_DIR "/tests/fixtures/roles"

static struct roleset *roles;

static int setup(void **state)
{
    char *cause = NULL;
    (void)state;
    roles = roleset_load(FIXTURES "/good", &cause);
    if (roles == NULL) {
        fprintf(stderr, "%s\n", cause);
        free(cause);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    roleset_free(roles);
    return 0;
}

static const char *str_member(json_object *root, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *array_member(json_object *root, const char *key, json_type type)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* Fill s by hand from a JSON text, as submission_parse would for a valid
 * submission, so these tests depend on the scorer alone. */
static void sub_from_json(struct submission *s, const char *json)
{
    json_object *v;

    memset(s, 0, sizeof *s);
    s->root = json_tokener_parse(json);
    assert_non_null(s->root);
    s->role = str_member(s->root, "role");
    s->name = str_member(s->root, "name");
    s->email = str_member(s->root, "email");
    s->headline = str_member(s->root, "headline");
    s->summary = str_member(s->root, "summary");
    s->cv_text = str_member(s->root, "cv_text");
    if (json_object_object_get_ex(s->root, "years_experience", &v)) {
        s->has_years = true;
        s->years_experience = json_object_get_double(v);
    }
    s->skills = array_member(s->root, "skills", json_type_array);
    s->certifications = array_member(s->root, "certifications", json_type_array);
    s->experience = array_member(s->root, "experience", json_type_array);
    s->links = array_member(s->root, "links", json_type_object);
}

/* Score json against role id; returns the analysis (caller frees). */
static char *score_json(const char *id, const char *json, struct score_result *res)
{
    struct submission s;
    const struct role *r = roleset_find(roles, id);

    assert_non_null(r);
    sub_from_json(&s, json);
    score_submission(r, &s, "vetd test", res);
    json_object_put(s.root);
    char *a = res->analysis;
    res->analysis = NULL;
    /* Every analysis is valid JSON. */
    json_object *parsed = json_tokener_parse(a);
    assert_non_null(parsed);
    json_object_put(parsed);
    return a;
}

/* The analysis parsed, for looking at parts of it. */
static json_object *score_tree(const char *id, const char *json, struct score_result *res)
{
    char *a = score_json(id, json, res);
    json_object *t = json_tokener_parse(a);
    free(a);
    return t;
}

/* The criterion ids of analysis[key], comma-separated (caller frees). */
static char *ids_of(json_object *t, const char *key)
{
    json_object *arr = array_member(t, key, json_type_array);
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        buf_printf(&b, "%s%s", i ? "," : "", str_member(json_object_array_get_idx(arr, i), "id"));
    buf_addc(&b, '\0');
    return buf_steal(&b);
}

/* The evidence of met criterion id as "field=text|field=text" (caller frees). */
static char *evidence_of(json_object *t, const char *id)
{
    json_object *met = array_member(t, "met", json_type_array);
    for (size_t i = 0; i < json_object_array_length(met); i++) {
        json_object *c = json_object_array_get_idx(met, i);
        if (strcmp(str_member(c, "id"), id) != 0)
            continue;
        json_object *ev = array_member(c, "evidence", json_type_array);
        struct buf b = BUF_INIT;
        for (size_t k = 0; k < json_object_array_length(ev); k++) {
            json_object *e = json_object_array_get_idx(ev, k);
            buf_printf(&b, "%s%s=%s", k ? "|" : "", str_member(e, "field"), str_member(e, "text"));
        }
        buf_addc(&b, '\0');
        return buf_steal(&b);
    }
    fail_msg("criterion %s not met", id);
    return NULL;
}

#define HEAD "{\"role\":\"test-backend\",\"name\":\"A\",\"email\":\"a@b.cd\",\"consent\":true"

static void test_full_analysis(void **state)
{
    (void)state;
    struct score_result res;
    char *a =
        score_json("test-backend",
                   HEAD ",\"skills\":[\"Node.js\",\"Redis\"],\"summary\":\"On \\\"postgres\\\""
                        "\\n\\nsince 2019.\",\"links\":{\"blog\":\"https://x.example/b\"}}",
                   &res);
    /* nodejs 10 + databases 8 + visible-work 6 = 24 of 40: 60. */
    const char *want =
        "{\"role\":\"test-backend\",\"role_title\":\"Test Backend\",\"role_version\":\"t1\","
        "\"role_sha1\":\"7512af10fd8416f605c19f3098a3fcda56c214a1\",\"score\":60,"
        "\"threshold\":50,\"qualified\":true,\"met\":["
        "{\"id\":\"nodejs\",\"label\":\"Node.js\",\"group\":\"skills\",\"weight\":10,"
        "\"evidence\":[{\"field\":\"skills[0]\",\"text\":\"Node.js\"}]},"
        "{\"id\":\"databases\",\"label\":\"Databases\",\"group\":\"skills\",\"weight\":8,"
        "\"evidence\":[{\"field\":\"skills[1]\",\"text\":\"Redis\"},"
        "{\"field\":\"summary\",\"text\":\"On \\\"postgres\\\" since 2019.\"}]},"
        "{\"id\":\"visible-work\",\"label\":\"Visible work\",\"group\":\"linkedin\","
        "\"weight\":6,\"evidence\":[{\"field\":\"links.blog\",\"text\":\"https://x.example/b\"}]}"
        "],\"missing\":["
        "{\"id\":\"go\",\"label\":\"Go\",\"group\":\"skills\",\"weight\":5,"
        "\"advice\":\"Show some Go.\"},"
        "{\"id\":\"metrics\",\"label\":\"Quantified impact\",\"group\":\"cv\",\"weight\":6,"
        "\"advice\":\"Quantify your impact.\"},"
        "{\"id\":\"seniority\",\"label\":\"Three years\",\"group\":\"experience\","
        "\"weight\":5,\"advice\":\"Gain experience.\"}"
        "],\"plan\":["
        "{\"group\":\"cv\",\"advice\":\"Quantify your impact.\"},"
        "{\"group\":\"skills\",\"advice\":\"Show some Go.\"},"
        "{\"group\":\"experience\",\"advice\":\"Gain experience.\"},"
        "{\"group\":\"outreach\",\"advice\":\"Write to the team.\"},"
        "{\"group\":\"interview\",\"advice\":\"Prepare a system design story.\"}"
        "],\"scored_by\":\"vetd test\"}";
    assert_string_equal(a, want);
    assert_int_equal(res.score, 60);
    assert_int_equal(res.threshold, 50);
    assert_true(res.qualified);
    free(a);
}

static void test_terms_fields(void **state)
{
    (void)state;
    struct score_result res;
    /* go looks only in cv_text and skills: the headline does not count. */
    json_object *t = score_tree("test-backend", HEAD ",\"headline\":\"Go developer\"}", &res);
    char *met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
    t = score_tree("test-backend",
                   HEAD ",\"experience\":[{\"title\":\"Go dev\"},{\"description\":\"golang\"}],"
                        "\"certifications\":[\"Go\"],\"cv_text\":\"Google\"}",
                   &res);
    met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
    t = score_tree("test-backend", HEAD ",\"cv_text\":\"I write Go.\"}", &res);
    met = ids_of(t, "met");
    assert_string_equal(met, "go");
    free(met);
    json_object_put(t);
    /* name and email are never searched. */
    t = score_tree("test-backend",
                   "{\"role\":\"test-backend\",\"name\":\"Node.js Go\",\"email\":\"go@node.js\"}",
                   &res);
    met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
}

static void test_count(void **state)
{
    (void)state;
    struct score_result res;
    /* Synonyms of one entry count once. */
    json_object *t = score_tree(
        "test-backend", HEAD ",\"skills\":[\"PostgreSQL\",\"postgres\",\"Postgres\"]}", &res);
    char *met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
    t = score_tree("test-backend",
                   HEAD ",\"skills\":[\"PostgreSQL\",\"postgres\",\"mongo\",\"MySQL\",\"Redis\"]}",
                   &res);
    met = ids_of(t, "met");
    assert_string_equal(met, "databases");
    free(met);
    /* Evidence shows each entry once, first occurrence first. */
    char *ev = evidence_of(t, "databases");
    assert_string_equal(ev, "skills[0]=PostgreSQL|skills[2]=mongo|skills[3]=MySQL");
    free(ev);
    json_object_put(t);
}

static void test_pattern(void **state)
{
    (void)state;
    struct score_result res;
    json_object *t = score_tree(
        "test-backend",
        HEAD ",\"skills\":[\"50K RPS\"],\"experience\":[{\"description\":\"served 3 M requests\"}]"
             ",\"cv_text\":\"load: 1 req, 2 req and 3 req and 4 req\"}",
        &res);
    char *ev = evidence_of(t, "metrics");
    /* Field order, then position; at most 3. */
    assert_string_equal(ev, "skills[0]=50K RPS|experience[0].description=served 3 M requests|"
                            "cv_text=load: 1 req, 2 req and 3 req and 4 req");
    free(ev);
    json_object_put(t);
    /* Each field separately: a match may not span two skills. */
    t = score_tree("test-backend", HEAD ",\"skills\":[\"100\",\"requests\"]}", &res);
    char *met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
}

static void test_min_years(void **state)
{
    (void)state;
    struct score_result res;
    json_object *t = score_tree("test-backend", HEAD ",\"years_experience\":3}", &res);
    char *ev = evidence_of(t, "seniority");
    assert_string_equal(ev, "years_experience=3");
    free(ev);
    json_object_put(t);
    t = score_tree("test-backend", HEAD ",\"years_experience\":2.99}", &res);
    char *met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
    /* Without years_experience, the sum of experience[].years. */
    t = score_tree("test-backend",
                   HEAD ",\"experience\":[{\"years\":1.25},{\"title\":\"x\"},{\"years\":1.75}]}",
                   &res);
    ev = evidence_of(t, "seniority");
    assert_string_equal(ev, "experience[].years=3");
    free(ev);
    json_object_put(t);
    /* years_experience wins over the sum. */
    t = score_tree("test-backend", HEAD ",\"years_experience\":1,\"experience\":[{\"years\":9}]}",
                   &res);
    met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
}

static void test_links(void **state)
{
    (void)state;
    struct score_result res;
    json_object *t = score_tree("test-backend",
                                HEAD ",\"links\":{\"linkedin\":\"https://l.example/in/a\"}}", &res);
    char *met = ids_of(t, "met");
    assert_string_equal(met, "");
    free(met);
    json_object_put(t);
    t = score_tree(
        "test-backend",
        HEAD ",\"links\":{\"blog\":\"https://b.example\",\"github\":\"https://g.example\"}}", &res);
    char *ev = evidence_of(t, "visible-work");
    /* In the order the criterion names the links. */
    assert_string_equal(ev, "links.github=https://g.example|links.blog=https://b.example");
    free(ev);
    json_object_put(t);
}

static void test_rounding(void **state)
{
    (void)state;
    struct score_result res;
    /* 1 of 8 is 12.5: rounded up to 13, which meets the threshold 13. */
    char *a = score_json("rounding", "{\"skills\":[\"alpha\"]}", &res);
    assert_int_equal(res.score, 13);
    assert_true(res.qualified);
    free(a);
    /* 7 of 8 is 87.5: 88. */
    a = score_json("rounding", "{\"skills\":[\"beta\"]}", &res);
    assert_int_equal(res.score, 88);
    free(a);
    a = score_json("rounding", "{\"skills\":[\"beta\",\"alpha\"]}", &res);
    assert_int_equal(res.score, 100);
    free(a);
    a = score_json("rounding", "{\"skills\":[\"gamma\"]}", &res);
    assert_int_equal(res.score, 0);
    assert_false(res.qualified);
    free(a);
    /* test-backend weighs 40 in all: an odd sum of met weights ends in .5. */
    a = score_json("test-backend", HEAD ",\"skills\":[\"Go\"],\"summary\":\"9 rps\"}", &res);
    /* go 5 + metrics 6 = 11 of 40 = 27.5: 28. */
    assert_int_equal(res.score, 28);
    free(a);
    a = score_json("test-backend", HEAD ",\"skills\":[\"Go\"],\"summary\":\"postgres, mysql\"}",
                   &res);
    /* go 5 + databases 8 = 13 of 40 = 32.5: 33. */
    assert_int_equal(res.score, 33);
    free(a);
    a = score_json("test-backend",
                   HEAD ",\"skills\":[\"Go\"],\"years_experience\":5,\"summary\":\"9 rps\"}", &res);
    /* go 5 + seniority 5 + metrics 6 = 16 of 40: exactly 40. */
    assert_int_equal(res.score, 40);
    free(a);
}

static void test_required(void **state)
{
    (void)state;
    struct score_result res;
    /* Everything but the required nodejs: 30 of 40 = 75 >= 50, not qualified. */
    char *a =
        score_json("test-backend",
                   HEAD ",\"skills\":[\"Go\",\"Redis\",\"MySQL\"],\"years_experience\":5,"
                        "\"summary\":\"1k rps\",\"links\":{\"github\":\"https://g.example\"}}",
                   &res);
    assert_int_equal(res.score, 75);
    assert_false(res.qualified);
    assert_non_null(strstr(a, "\"qualified\":false"));
    free(a);
    a = score_json("test-backend", HEAD ",\"skills\":[\"Go\",\"Redis\",\"MySQL\",\"node.js\"]}",
                   &res);
    /* nodejs 10 + go 5 + databases 8 = 23 of 40 = 57.5: 58 >= 50. */
    assert_int_equal(res.score, 58);
    assert_true(res.qualified);
    free(a);
}

static void test_evidence_limits(void **state)
{
    (void)state;
    struct score_result res;
    struct buf cv = BUF_INIT;
    /* go's fields are [cv_text, skills]: cv_text first; at most 3; an
     * occurrence the previous quote already shows is not quoted again. */
    json_object *t = score_tree(
        "test-backend",
        HEAD ",\"skills\":[\"golang\"],\"cv_text\":\"Go here, Go there, Go everywhere. Go!\"}",
        &res);
    char *ev = evidence_of(t, "go");
    assert_string_equal(ev, "cv_text=Go here, Go there, Go everywhere. Go!|skills[0]=golang");
    free(ev);
    json_object_put(t);

    struct buf far = BUF_INIT, want = BUF_INIT;
    for (int i = 0; i < 4; i++) {
        buf_adds(&far, i ? " Go " : "Go ");
        for (int k = 0; k < 45; k++)
            buf_addc(&far, (char)('a' + i));
    }
    char *json = xasprintf(HEAD ",\"skills\":[\"golang\"],\"cv_text\":\"%s\"}", far.data);
    t = score_tree("test-backend", json, &res);
    free(json);
    ev = evidence_of(t, "go");
    buf_printf(&want, "cv_text=Go %.39s|cv_text=%.39s Go %.39s|cv_text=%.39s Go %.39s",
               far.data + 3, far.data + 48 - 39, far.data + 52, far.data + 97 - 39, far.data + 101);
    assert_string_equal(ev, want.data);
    free(ev);
    json_object_put(t);
    buf_free(&far);
    buf_reset(&want);

    /* Context: 40 code points each side, multi-byte, white space folded. */
    for (int i = 0; i < 50; i++)
        buf_adds(&cv, "é");
    buf_adds(&cv, " \\n\\t Go\\r\\n ");
    for (int i = 0; i < 50; i++)
        buf_adds(&cv, "ü");
    json = xasprintf(HEAD ",\"cv_text\":\"%s\"}", cv.data);
    t = score_tree("test-backend", json, &res);
    ev = evidence_of(t, "go");
    buf_adds(&want, "cv_text=");
    for (int i = 0; i < 39; i++)
        buf_adds(&want, "é");
    buf_adds(&want, " Go ");
    for (int i = 0; i < 39; i++)
        buf_adds(&want, "ü");
    assert_string_equal(ev, want.data);
    free(ev);
    free(json);
    json_object_put(t);
    buf_free(&want);
    buf_free(&cv);
}

/* Overlapping occurrences in one text are one piece of evidence, quoted
 * with context after the end of the later one. */
static void test_evidence_overlap(void **state)
{
    (void)state;
    struct score_result res;
    struct buf cv = BUF_INIT, want = BUF_INIT;

    buf_adds(&cv, "machine learning systems ");
    for (int i = 0; i < 60; i++)
        buf_addc(&cv, 'x');
    char *json = xasprintf("{\"cv_text\":\"%s\"}", cv.data);
    json_object *t = score_tree("overlap", json, &res);
    char *ev = evidence_of(t, "ml");
    buf_printf(&want, "cv_text=machine learning systems %.39s", cv.data + 25);
    assert_string_equal(ev, want.data);
    assert_int_equal(res.score, 100);
    assert_true(res.qualified);
    free(ev);
    free(json);
    json_object_put(t);
    buf_free(&cv);
    buf_free(&want);
}

/* The analysis escapes text exactly as buf_add_json_str does. */
static void test_json_escaping(void **state)
{
    (void)state;
    struct score_result res;
    struct buf want = BUF_INIT;
    static const char quote[] = "say \"Go\" \\ \x01\x1f\x7f caf\xc3\xa9 \xe2\x80\x99";

    char *a = score_json("test-backend",
                         HEAD ",\"cv_text\":\"say \\\"Go\\\" \\\\ \\u0001\\u001f\x7f "
                              "caf\xc3\xa9 \xe2\x80\x99\"}",
                         &res);
    buf_adds(&want, "{\"field\":\"cv_text\",\"text\":");
    buf_add_json_str(&want, quote, strlen(quote));
    buf_addc(&want, '}');
    if (strstr(a, want.data) == NULL)
        fail_msg("%s not in %s", want.data, a);
    free(a);
    buf_free(&want);
}

static void test_plan_order(void **state)
{
    (void)state;
    struct score_result res;
    /* Nothing met: weights 10, 5, 8, 6, 5, 6 -> 10, 8, 6 (metrics before
     * visible-work: file order), 5 (go before seniority), then next steps. */
    json_object *t = score_tree("test-backend", HEAD "}", &res);
    json_object *plan = array_member(t, "plan", json_type_array);
    static const char *const want[] = {"Name Node.js where you used it.",
                                       "Name the databases you know.",
                                       "Quantify your impact.",
                                       "Publish your work.",
                                       "Show some Go.",
                                       "Gain experience.",
                                       "Write to the team.",
                                       "Prepare a system design story."};
    assert_int_equal(json_object_array_length(plan), 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(str_member(json_object_array_get_idx(plan, i), "advice"), want[i]);
    assert_string_equal(str_member(json_object_array_get_idx(plan, 3), "group"), "linkedin");
    assert_string_equal(str_member(json_object_array_get_idx(plan, 7), "group"), "interview");
    char *missing = ids_of(t, "missing");
    assert_string_equal(missing, "nodejs,go,databases,metrics,seniority,visible-work");
    free(missing);
    assert_int_equal(res.score, 0);
    json_object_put(t);
}

static const char locale_profile[] =
    HEAD ",\"headline\":\"Backend engineer: Node.js, Go\",\"summary\":\"İstanbul-based; "
         "I serve 2.5K RPS on PostgreSQL and Redis.\",\"experience\":[{\"title\":\"Lead\","
         "\"description\":\"GO AND NODEJS\",\"years\":2.5},{\"years\":0.75}],"
         "\"cv_text\":\"ıi İI: 1,5 k req\",\"links\":{\"github\":\"https://g.example/ı\"}}";

/* The analysis does not depend on the process locale. */
static void test_locale_independent(void **state)
{
    (void)state;
    static const char *const locales[] = {"tr_TR.UTF-8", "de_DE.UTF-8", "C.UTF-8", "C.utf8"};
    struct score_result res;
    char *ref = score_json("test-backend", locale_profile, &res);
    size_t tried = 0;

    assert_non_null(strstr(ref, "\"field\":\"experience[].years\",\"text\":\"3.25\""));
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (setlocale(LC_ALL, locales[i]) == NULL)
            continue;
        tried++;
        char *a = score_json("test-backend", locale_profile, &res);
        setlocale(LC_ALL, "C");
        assert_string_equal(a, ref);
        free(a);
    }
    /* At least C.UTF-8 exists on every supported system. */
    assert_true(tried > 0);
    free(ref);
}

/* GNU's zero-width anchors (\<, \>) match no byte of their own: a text
 * without '<' or '>' must still be searched. */
static void test_pattern_anchors(void **state)
{
    (void)state;
    char *cause = NULL;
    struct roleset *rs = roleset_load(FIXTURES "/anchors", &cause);
    assert_non_null(rs);
    const struct role *r = roleset_find(rs, "anchors");
    assert_non_null(r);
    static const char *const texts[] = {"we say foo here", "afoo only"};
    static const bool want[] = {true, false};
    for (size_t i = 0; i < 2; i++) {
        char *json = xasprintf("{\"role\":\"anchors\",\"name\":\"N\",\"email\":\"n@example.org\","
                               "\"consent\":true,\"cv_text\":\"%s\"}",
                               texts[i]);
        struct submission s;
        sub_from_json(&s, json);
        struct score_result res;
        score_submission(r, &s, "vetd test", &res);
        assert_int_equal(res.qualified, want[i]);
        score_result_free(&res);
        submission_free(&s);
        free(json);
    }
    roleset_free(rs);
}

/* Roles loaded under another locale compile the same patterns. */
static void test_load_under_locale(void **state)
{
    (void)state;
    struct score_result res;
    char *ref = score_json("test-backend", locale_profile, &res), *cause = NULL;

    if (setlocale(LC_ALL, "C.UTF-8") == NULL)
        assert_non_null(setlocale(LC_ALL, "C.utf8"));
    struct roleset *rs = roleset_load(FIXTURES "/good", &cause);
    assert_non_null(rs);
    struct submission s;
    sub_from_json(&s, locale_profile);
    score_submission(roleset_find(rs, "test-backend"), &s, "vetd test", &res);
    setlocale(LC_ALL, "C");
    assert_string_equal(res.analysis, ref);
    score_result_free(&res);
    assert_null(res.analysis);
    json_object_put(s.root);
    roleset_free(rs);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_analysis),
        cmocka_unit_test(test_terms_fields),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_pattern_anchors),
        cmocka_unit_test(test_min_years),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_evidence_limits),
        cmocka_unit_test(test_evidence_overlap),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_plan_order),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_load_under_locale),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
