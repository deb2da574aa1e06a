/* Unit tests of the term matcher: the SPEC §4 word-boundary rules, white
 * space, case folding, overlapping terms, UTF-8 neighbours and excerpts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "match.h"
#include "xmalloc.h"

/* Collects hits as "term@start-end;" for exact comparison. */
static void collect(void *arg, const struct match_hit *h)
{
    buf_printf(arg, "%zu@%zu-%zu;", h->term, h->start, h->end);
}

/* All hits of the NULL-terminated terms in text, as a string (caller frees). */
static char *scan_terms(const char *const *terms, const char *text)
{
    struct match_set *ms = match_set_new();
    struct buf b = BUF_INIT;

    for (size_t i = 0; terms[i] != NULL; i++) {
        char *cause = NULL;
        assert_int_equal(match_set_add(ms, terms[i], &cause), (int)i);
        assert_null(cause);
    }
    match_set_compile(ms);
    match_set_scan(ms, text, strlen(text), collect, &b);
    match_set_free(ms);
    buf_addc(&b, '\0');
    return buf_steal(&b);
}

/* True when the single term meets text. */
static bool meets(const char *term, const char *text)
{
    const char *terms[] = {term, NULL};
    char *hits = scan_terms(terms, text);
    bool found = hits[0] != '\0';
    free(hits);
    return found;
}

struct meet_case {
    const char *term;
    const char *text;
    bool meets;
};

static const struct meet_case meet_cases[] = {
    /* The examples of SPEC §4. */
    {"C++", "C++17", true},
    {"C++", "I write c++ daily", true},
    {".NET", "ASP.NET Core", true},
    {".NET", "the internet", false},
    {".NET", ".NET", true},
    {"Java", "JavaScript", false},
    {"Java", "Java’s type system", true}, /* U+2019 is punctuation */
    {"Go", "good", false},
    {"Go", "Google", false},
    {"Go", "Go developer", true},
    {"Go", "Go’s channels", true},
    {"Go", "ergo", false},
    {"SQL", "NoSQL", false},
    {"SQL", "PostgreSQL", false},
    {"SQL", "T-SQL", true}, /* '-' is not a word character: the rule says it meets */
    {"SQL", "SQL_Server", false},
    {"Node.js", "node.js", true},
    {"Node.js", "NODE.JS", true},
    {"Node.js", "Node.jsx", false},
    {"CI/CD", "ci/cd", true},
    {"CI/CD", "CI/CDs", false},
    /* Unicode neighbours: é, ß and CJK are word characters. */
    {"Go", "Goé", false},
    {"Go", "éGo", false},
    {"Go", "straßeGo", false},
    {"Go", "中Go", false},
    {"Go", "«Go»", true}, /* U+00AB / U+00BB */
    {"Go",
     "Go\xc2\xa0"
     "developer",
     true},                          /* U+00A0 */
    {"Go", "—Go—", true},            /* U+2014 */
    {"Go", "「Go」", true},          /* U+300C / U+300D */
    {"Go", "Go\xef\xbc\x81", false}, /* U+FF01 is outside the punctuation ranges */
    {"café", "CAFÉ", false},         /* only ASCII folds: É is not é */
    {"café", "CAFé au lait", true},
    {"café", "cafés", false},
    {"café", "caféé", false},
    /* Text start and end. */
    {"Go", "Go", true},
    {"Go", "I use Go", true},
    {"Go", "Go.", true},
    {"Go", "Go1", false},
    /* White-space runs in the term match any run in the text. */
    {"node js", "node js", true},
    {"node js", "node   js", true},
    {"node js", "node\n\tjs", true},
    {"node js", "node\r\n js", true},
    {"node js", "node\xc2\xa0js", true},
    {"node js", "nodejs", false},
    {"node  \t js", "node js", true},
    {"machine learning", "Machine\nLearning", true},
    /* A term ending in punctuation needs no boundary after it. */
    {"C#", "C#10", true},
    {"C#", "ABC#", false},
};

static void test_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof meet_cases / sizeof meet_cases[0]; i++) {
        const struct meet_case *c = &meet_cases[i];
        bool got = meets(c->term, c->text);
        if (got != c->meets)
            fail_msg("term \"%s\" in \"%s\": expected %s", c->term, c->text,
                     c->meets ? "a match" : "no match");
    }
}

static void test_offsets_are_original(void **state)
{
    (void)state;
    const char *terms[] = {"node js", NULL};
    /* The folded view is "x node js"; the match spans the original run. */
    char *hits = scan_terms(terms, "x  NODE \t\n JS!");
    assert_string_equal(hits, "0@3-13;");
    free(hits);
}

static void test_overlapping_terms(void **state)
{
    (void)state;
    const char *terms[] = {"REST", "REST API", "REST APIs", "API", NULL};
    char *hits = scan_terms(terms, "REST APIs and a REST API");
    /* Ends in order: REST(0-4), REST APIs(0-9); "REST API" in "APIs" fails
     * its end boundary; API in APIs fails too; then the second place. */
    assert_string_equal(hits, "0@0-4;2@0-9;0@16-20;1@16-24;3@21-24;");
    free(hits);
}

static void test_every_occurrence(void **state)
{
    (void)state;
    const char *terms[] = {"java", "javascript", NULL};
    char *hits = scan_terms(terms, "JavaScript, Java and java");
    assert_string_equal(hits, "1@0-10;0@12-16;0@21-25;");
    free(hits);
}

static void test_identical_terms(void **state)
{
    (void)state;
    const char *terms[] = {"Go", "go", "GO", NULL};
    char *hits = scan_terms(terms, "go");
    assert_string_equal(hits, "0@0-2;1@0-2;2@0-2;");
    free(hits);
}

static void test_inner_terms(void **state)
{
    (void)state;
    /* "he" is found inside "she" through the dictionary links. */
    const char *terms[] = {"she", "he", "e", NULL};
    char *hits = scan_terms(terms, "she he e");
    assert_string_equal(hits, "0@0-3;1@4-6;2@7-8;");
    free(hits);
}

static void test_bad_terms(void **state)
{
    (void)state;
    struct match_set *ms = match_set_new();
    char *cause = NULL;
    char longterm[MATCH_TERM_MAX + 2];

    assert_int_equal(match_set_add(ms, "", &cause), -1);
    assert_string_equal(cause, "must not be empty");
    free(cause);
    assert_int_equal(match_set_add(ms, " go", &cause), -1);
    assert_string_equal(cause, "must not start with white space");
    free(cause);
    assert_int_equal(match_set_add(ms, "go\t", &cause), -1);
    assert_string_equal(cause, "must not end with white space");
    free(cause);
    memset(longterm, 'a', sizeof longterm - 1);
    longterm[sizeof longterm - 1] = '\0';
    assert_int_equal(match_set_add(ms, longterm, &cause), -1);
    assert_string_equal(cause, "must be at most 128 bytes long");
    free(cause);
    longterm[MATCH_TERM_MAX] = '\0';
    cause = NULL;
    assert_int_equal(match_set_add(ms, longterm, &cause), 0);
    assert_null(cause);
    match_set_free(ms);
}

static void test_empty_set_and_text(void **state)
{
    (void)state;
    struct match_set *ms = match_set_new();
    struct buf b = BUF_INIT;

    match_set_compile(ms);
    match_set_scan(ms, "anything", 8, collect, &b);
    assert_int_equal(b.len, 0);
    match_set_free(ms);
    const char *terms[] = {"go", NULL};
    char *hits = scan_terms(terms, "");
    assert_string_equal(hits, "");
    free(hits);
}

static void test_invalid_utf8_neighbour(void **state)
{
    (void)state;
    /* A stray byte decodes as U+FFFD, a word character: no match beside it. */
    assert_false(meets("Go", "\x80Go"));
    assert_false(meets("Go", "Go\xff"));
    assert_true(meets("Go", "\xff Go"));
}

static void test_utf8_helpers(void **state)
{
    (void)state;
    size_t i = 0, bad = 0;
    const char *s = "a\xc3\xa9\xe2\x80\x99\xf0\x9f\x98\x80";

    assert_int_equal(match_utf8_next(s, strlen(s), &i), 'a');
    assert_int_equal(match_utf8_next(s, strlen(s), &i), 0xe9);
    assert_int_equal(match_utf8_next(s, strlen(s), &i), 0x2019);
    assert_int_equal(match_utf8_next(s, strlen(s), &i), 0x1f600);
    assert_int_equal(i, strlen(s));
    assert_true(match_utf8_valid(s, strlen(s), &bad));
    assert_false(match_utf8_valid("ab\xc0\xaf", 4, &bad)); /* overlong '/' */
    assert_int_equal(bad, 2);
    assert_false(match_utf8_valid("\xed\xa0\x80", 3, &bad)); /* a surrogate */
    assert_int_equal(bad, 0);
    assert_false(match_utf8_valid("x\xe2\x82", 3, &bad)); /* truncated */
    assert_int_equal(bad, 1);
    assert_true(match_is_word('_'));
    assert_true(match_is_word(0x80));
    assert_false(match_is_word(0xa0));
    assert_false(match_is_word(0x2000));
    assert_false(match_is_word(0x206f));
    assert_true(match_is_word(0x2070));
    assert_false(match_is_word(0x303f));
    assert_true(match_is_word(0x3040));
    assert_true(match_is_space(0xa0));
    assert_false(match_is_space(0x2003));
}

/* The excerpt of the first occurrence of needle in text. */
static char *excerpt_of(const char *text, const char *needle)
{
    struct buf b = BUF_INIT;
    const char *at = strstr(text, needle);

    assert_non_null(at);
    match_excerpt(&b, text, strlen(text), (size_t)(at - text),
                  (size_t)(at - text) + strlen(needle));
    buf_addc(&b, '\0');
    return buf_steal(&b);
}

static size_t code_points(const char *s)
{
    size_t n = 0, i = 0, len = strlen(s);
    while (i < len) {
        match_utf8_next(s, len, &i);
        n++;
    }
    return n;
}

static void test_excerpt_short_text(void **state)
{
    (void)state;
    char *e = excerpt_of("  I know\n\n  Node.js\tand\r\nGo.  ", "Node.js");
    assert_string_equal(e, "I know Node.js and Go.");
    free(e);
}

static void test_excerpt_context_cut(void **state)
{
    (void)state;
    struct buf text = BUF_INIT;
    /* 60 two-byte code points on each side of the match. */
    for (int i = 0; i < 60; i++)
        buf_adds(&text, "é");
    buf_adds(&text, "MATCH");
    for (int i = 0; i < 60; i++)
        buf_adds(&text, "ß");
    char *e = excerpt_of(text.data, "MATCH");
    struct buf want = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_adds(&want, "é");
    buf_adds(&want, "MATCH");
    for (int i = 0; i < 40; i++)
        buf_adds(&want, "ß");
    assert_string_equal(e, want.data);
    assert_int_equal(code_points(e), 85);
    free(e);
    buf_free(&want);
    buf_free(&text);
}

static void test_excerpt_long_match(void **state)
{
    (void)state;
    struct buf text = BUF_INIT;
    buf_adds(&text, "before ");
    for (int i = 0; i < 100; i++)
        buf_adds(&text, "€x"); /* 200 code points, 3-byte ones among them */
    buf_adds(&text, " after");
    struct buf b = BUF_INIT;
    match_excerpt(&b, text.data, text.len, 7, text.len - 6);
    assert_int_equal(code_points(b.data), MATCH_EXCERPT_MAX);
    assert_memory_equal(b.data, "€x€x", strlen("€x€x"));
    size_t bad;
    assert_true(match_utf8_valid(b.data, b.len, &bad));
    buf_free(&b);
    buf_free(&text);
}

static void test_excerpt_total_limit(void **state)
{
    (void)state;
    struct buf text = BUF_INIT, match = BUF_INIT;
    for (int i = 0; i < 50; i++)
        buf_adds(&text, "l");
    for (int i = 0; i < 60; i++)
        buf_adds(&match, "m");
    buf_adds(&text, match.data);
    for (int i = 0; i < 50; i++)
        buf_adds(&text, "r");
    char *e = excerpt_of(text.data, match.data);
    /* 60 of match leave 60: 30 on each side. */
    assert_int_equal(strlen(e), 120);
    assert_memory_equal(e, "llllllllllllllllllllllllllllllmmm", 33);
    assert_int_equal(e[119], 'r');
    assert_int_equal(e[90], 'r');
    assert_int_equal(e[89], 'm');
    free(e);
    buf_free(&text);
    buf_free(&match);
}

static void test_excerpt_space_runs_count_once(void **state)
{
    (void)state;
    struct buf text = BUF_INIT;
    /* 39 letters then a run of 10 spaces: the run is one unit of context. */
    buf_adds(&text, "abcdefghijklmnopqrstuvwxyzabcdefghijklm");
    buf_adds(&text, " \t \n \r   ");
    buf_adds(&text, "WORD");
    char *e = excerpt_of(text.data, "WORD");
    assert_string_equal(e, "abcdefghijklmnopqrstuvwxyzabcdefghijklm WORD");
    free(e);
    buf_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_offsets_are_original),
        cmocka_unit_test(test_overlapping_terms),
        cmocka_unit_test(test_every_occurrence),
        cmocka_unit_test(test_identical_terms),
        cmocka_unit_test(test_inner_terms),
        cmocka_unit_test(test_bad_terms),
        cmocka_unit_test(test_empty_set_and_text),
        cmocka_unit_test(test_invalid_utf8_neighbour),
        cmocka_unit_test(test_utf8_helpers),
        cmocka_unit_test(test_excerpt_short_text),
        cmocka_unit_test(test_excerpt_context_cut),
        cmocka_unit_test(test_excerpt_long_match),
        cmocka_unit_test(test_excerpt_total_limit),
        cmocka_unit_test(test_excerpt_space_runs_count_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
