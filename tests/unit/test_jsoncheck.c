/* Unit tests of the strict JSON/UTF-8 pass: every json-c leniency, UTF-8
 * edge cases, depth, numbers and the SPEC §3 order of the codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <stdbool.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsoncheck.h"
#include "xmalloc.h"

#define OK JSONCHECK_OK
#define UTF8 JSONCHECK_BAD_UTF8
#define JSON JSONCHECK_NOT_JSON
#define DEEP JSONCHECK_TOO_DEEP

struct jcase {
    const char *what;
    const char *text;
    size_t len; /* 0: strlen(text) */
    enum jsoncheck_code want;
};

/* A string literal with embedded NULs keeps its length. */
#define BIN(s) s, sizeof(s) - 1

static const struct jcase cases[] = {
    /* Valid documents. */
    {"empty object", "{}", 0, OK},
    {"nested values", "{\"a\":[1,-2.5e+3,true,false,null,\"x\",{}],\"b\":{\"c\":[]}}", 0, OK},
    {"white space everywhere", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n\t ", 0, OK},
    {"scalar top level", "\"str\"", 0, OK},
    {"all simple escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, OK},
    {"\\u escapes", "[\"\\u00e9\\u20AC\\uFFFF\"]", 0, OK},
    {"escaped surrogate pair", "[\"\\ud83d\\ude00\"]", 0, OK},
    {"\\u0000 in a value", "{\"a\":\"x\\u0000y\"}", 0, OK},
    {"raw DEL in a string", "[\"\x7f\"]", 0, OK},
    {"2-byte UTF-8", "[\"\xc3\xa9\"]", 0, OK},
    {"3-byte UTF-8", "[\"\xe2\x82\xac\"]", 0, OK},
    {"U+FFFF", "[\"\xef\xbf\xbf\"]", 0, OK},
    {"4-byte emoji", "[\"\xf0\x9f\x98\x80\"]", 0, OK},
    {"U+10FFFF", "[\"\xf4\x8f\xbf\xbf\"]", 0, OK},
    {"U+D7FF below surrogates", "[\"\xed\x9f\xbf\"]", 0, OK},
    {"U+E000 above surrogates", "[\"\xee\x80\x80\"]", 0, OK},
    {"minus zero", "[-0]", 0, OK},
    {"zero fraction", "[0.0]", 0, OK},
    {"upper-case exponent", "[1E5,1e-5,1E+5]", 0, OK},
    {"1e308", "[1e308]", 0, OK},
    {"DBL_MAX", "[1.7976931348623157e308]", 0, OK},
    {"underflow to zero", "[0.0e-400]", 0, OK},
    {"tiny non-zero", "[1e-400]", 0, OK},
    {"zero with huge exponent", "[0e999999999999]", 0, OK},
    {"exponent with leading zeros", "[1e000000000000000000000308]", 0, OK},
    {"negative 1e308", "[-1e308]", 0, OK},
    {"0.1e309", "[0.1e309]", 0, OK},
    {"308-digit integer",
     "[999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
     "99999999999999999999999999999999999999999999999999999999]",
     0, OK},

    /* json-c leniencies and other grammar errors. */
    {"empty input", "", 0, JSON},
    {"only white space", " \n\t", 0, JSON},
    {"NaN", "[NaN]", 0, JSON},
    {"Infinity", "[Infinity]", 0, JSON},
    {"-Infinity", "[-Infinity]", 0, JSON},
    {"line comment", "{\"a\":1 // c\n}", 0, JSON},
    {"block comment", "{/* c */\"a\":1}", 0, JSON},
    {"trailing comma in object", "{\"a\":1,}", 0, JSON},
    {"trailing comma in array", "[1,2,]", 0, JSON},
    {"missing value", "[1,,2]", 0, JSON},
    {"single-quoted key", "{'a':1}", 0, JSON},
    {"single-quoted value", "{\"a\":'x'}", 0, JSON},
    {"unquoted key", "{a:1}", 0, JSON},
    {"raw tab in string", "[\"a\tb\"]", 0, JSON},
    {"raw LF in string", "[\"a\nb\"]", 0, JSON},
    {"raw NUL in string", BIN("[\"a\0b\"]"), JSON},
    {"raw 0x1f in string", "[\"\x1f\"]", 0, JSON},
    {"leading zero", "[00]", 0, JSON},
    {"leading zero before digits", "[012]", 0, JSON},
    {"negative leading zero", "[-01]", 0, JSON},
    {"1.", "[1.]", 0, JSON},
    {"1.e5", "[1.e5]", 0, JSON},
    {".5", "[.5]", 0, JSON},
    {"+1", "[+1]", 0, JSON},
    {"lone minus", "[-]", 0, JSON},
    {"minus at end", "-", 0, JSON},
    {"exponent without digits", "[1e]", 0, JSON},
    {"exponent sign without digits", "[1e+]", 0, JSON},
    {"hex number", "[0x10]", 0, JSON},
    {"bad escape \\x", "[\"\\x41\"]", 0, JSON},
    {"bad escape \\'", "[\"\\'\"]", 0, JSON},
    {"short \\u", "[\"\\u12\"]", 0, JSON},
    {"non-hex \\u", "[\"\\u12g4\"]", 0, JSON},
    {"byte-order mark", "\xef\xbb\xbf{}", 0, JSON},
    {"trailing garbage", "{} x", 0, JSON},
    {"two values", "{}{}", 0, JSON},
    {"trailing NUL", BIN("{}\0"), JSON},
    {"trailing form feed", "{}\f", 0, JSON},
    {"non-breaking space as white space", "{}\xc2\xa0", 0, JSON},
    {"unterminated string", "[\"abc", 0, JSON},
    {"unterminated array", "[1,2", 0, JSON},
    {"unterminated object", "{\"a\":1", 0, JSON},
    {"mismatched bracket", "{\"a\":1]", 0, JSON},
    {"mismatched brace", "[1}", 0, JSON},
    {"missing colon", "{\"a\" 1}", 0, JSON},
    {"upper-case literal", "[TRUE]", 0, JSON},
    {"truncated literal", "[tru]", 0, JSON},
    {"Python None", "[None]", 0, JSON},
    {"1e309", "[1e309]", 0, JSON},
    {"1e999", "[1e999]", 0, JSON},
    {"-1e999", "[-1e999]", 0, JSON},
    {"10e308", "[10e308]", 0, JSON},
    {"huge exponent", "[1e99999999999999999999]", 0, JSON},
    {"309-digit integer",
     "[200000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000]",
     0, JSON},
    {"\\u0000 in a key", "{\"a\\u0000b\":1}", 0, JSON},

    /* Encoding errors. */
    {"overlong 2-byte C0", "[\"\xc0\xaf\"]", 0, UTF8},
    {"overlong 2-byte C1", "[\"\xc1\xbf\"]", 0, UTF8},
    {"overlong 3-byte", "[\"\xe0\x80\xaf\"]", 0, UTF8},
    {"overlong 3-byte max", "[\"\xe0\x9f\xbf\"]", 0, UTF8},
    {"overlong 4-byte", "[\"\xf0\x80\x80\xaf\"]", 0, UTF8},
    {"overlong 4-byte max", "[\"\xf0\x8f\xbf\xbf\"]", 0, UTF8},
    {"encoded surrogate D800", "[\"\xed\xa0\x80\"]", 0, UTF8},
    {"encoded surrogate DBFF", "[\"\xed\xaf\xbf\"]", 0, UTF8},
    {"encoded surrogate DC00", "[\"\xed\xb0\x80\"]", 0, UTF8},
    {"encoded surrogate DFFF", "[\"\xed\xbf\xbf\"]", 0, UTF8},
    {"encoded surrogate pair (CESU-8)", "[\"\xed\xa0\xbd\xed\xb8\x80\"]", 0, UTF8},
    {"U+110000", "[\"\xf4\x90\x80\x80\"]", 0, UTF8},
    {"lead byte F5", "[\"\xf5\x80\x80\x80\"]", 0, UTF8},
    {"lead byte F8 (5-byte form)", "[\"\xf8\x88\x80\x80\x80\"]", 0, UTF8},
    {"byte FF", "[\"\xff\"]", 0, UTF8},
    {"byte FE", "[\"\xfe\"]", 0, UTF8},
    {"lone continuation byte", "[\"\x80\"]", 0, UTF8},
    {"truncated 2-byte at end of string", "[\"\xc3\"]", 0, UTF8},
    {"truncated 3-byte", "[\"\xe2\x82\"]", 0, UTF8},
    {"truncated 4-byte", "[\"\xf0\x9f\x98\"]", 0, UTF8},
    {"truncated at end of input", "[\"\xf0\x9f", 0, UTF8},
    {"Latin-1 text", "[\"caf\xe9\"]", 0, UTF8},
    {"invalid byte in a key", "{\"\xff\":1}", 0, UTF8},
    {"escaped lone high surrogate", "[\"\\ud800\"]", 0, UTF8},
    {"escaped lone low surrogate", "[\"\\udc00\"]", 0, UTF8},
    {"escaped high then text", "[\"\\ud83dx\"]", 0, UTF8},
    {"escaped high then non-surrogate", "[\"\\ud83d\\u0041\"]", 0, UTF8},
    {"escaped high high", "[\"\\ud83d\\ud83d\"]", 0, UTF8},
    {"escaped low high (reversed pair)", "[\"\\ude00\\ud83d\"]", 0, UTF8},

    /* The §3 order when several problems exist. */
    {"grammar error then bad UTF-8", "{\"a\":1,} \"\xff\"", 0, UTF8},
    {"bad UTF-8 outside a string", "[1,\xff]", 0, UTF8},
    {"NaN then overlong form", "[NaN, \"\xc0\x80\"]", 0, UTF8},
    {"trailing data with bad UTF-8", "{}\xed\xa0\x80", 0, UTF8},
    {"bad UTF-8 after a control character", "[\"\x01\xff\"]", 0, UTF8},
};

static void test_table(void **state)
{
    (void)state;
    int failures = 0;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct jcase *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        struct jsoncheck_result r;
        enum jsoncheck_code got = jsoncheck_run(c->text, len, 64, &r);
        assert_int_equal(got, r.code);
        if (got != c->want) {
            print_error("case '%s': got %s (%s at %zu), want %s\n", c->what,
                        jsoncheck_code_name(got), r.reason, r.offset, jsoncheck_code_name(c->want));
            failures++;
        }
        if (got != OK)
            assert_true(r.reason != NULL && r.reason[0] != '\0');
        assert_true(r.offset <= len);
    }
    assert_int_equal(failures, 0);
}

/* Everything the checker accepts must be accepted by json-c too, and give
 * the same numbers strtod gives (finite). */
static void test_ok_cases_parse_in_jsonc(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct jcase *c = &cases[i];
        if (c->want != OK)
            continue;
        size_t len = c->len ? c->len : strlen(c->text);
        json_tokener *tok = json_tokener_new_ex(66);
        json_object *o = json_tokener_parse_ex(tok, c->text, (int)len);
        if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
            o = json_tokener_parse_ex(tok, "", 1); /* a bare number needs an end */
        if (json_tokener_get_error(tok) != json_tokener_success)
            fail_msg("json-c refuses '%s'", c->what);
        json_object_put(o);
        json_tokener_free(tok);
    }
}

static char *nested(int depth, char open, char close)
{
    char *s = xmalloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static char *nested_objects(int depth)
{
    /* {"a":{"a":...{}...}} */
    size_t n = (size_t)depth * 6 + 1;
    char *s = xcalloc(1, n);
    for (int i = 0; i < depth - 1; i++)
        strcat(s, "{\"a\":");
    strcat(s, "{}");
    for (int i = 0; i < depth - 1; i++)
        strcat(s, "}");
    return s;
}

static enum jsoncheck_code run(const char *s)
{
    struct jsoncheck_result r;
    return jsoncheck_run(s, strlen(s), 64, &r);
}

static void test_depth(void **state)
{
    (void)state;
    struct {
        int depth;
        char open, close;
        enum jsoncheck_code want;
    } t[] = {
        {1, '[', ']', OK},
        {64, '[', ']', OK},
        {65, '[', ']', DEEP},
        {3000, '[', ']', DEEP}, /* beyond the on-stack container bits */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = nested(t[i].depth, t[i].open, t[i].close);
        assert_int_equal(run(s), t[i].want);
        free(s);
    }
    char *o64 = nested_objects(64), *o65 = nested_objects(65);
    assert_int_equal(run(o64), OK);
    assert_int_equal(run(o65), DEEP);
    free(o64);
    free(o65);
}

/* too_deep ranks below not_json and bad_utf8: a deep document with a
 * grammar or encoding error anywhere reports that error instead. */
static void test_depth_order(void **state)
{
    (void)state;
    struct jsoncheck_result r;
    char *s = nested(2000, '[', ']');

    s[1999] = '}'; /* a mismatched bracket at the innermost level */
    assert_int_equal(jsoncheck_run(s, strlen(s), 64, &r), JSON);
    s[1999] = '[';
    s[3999] = '\xff'; /* the last closing bracket becomes an invalid byte */
    assert_int_equal(jsoncheck_run(s, strlen(s), 64, &r), UTF8);
    assert_int_equal(r.offset, 3999);
    free(s);

    char *d = nested(100, '[', ']');
    assert_int_equal(jsoncheck_run(d, strlen(d), 64, &r), DEEP);
    assert_int_equal(r.offset, 64); /* the 65th bracket */
    free(d);
}

/* The overflow threshold agrees with strtod on both sides of the boundary,
 * reasoned from digits alone. */
static void test_number_boundary(void **state)
{
    (void)state;
    static const char *const nums[] = {
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.797693134862315807937289714053034150799341327100378269361737789804449682927647"
        "50946649017977587207096330286416692887910946555547851940402630657488671505820681"
        "90890200070838367627385484581771153176447573027006985557136695962284291481986083"
        "4936475292719074168444365510704342711559699508093042880177904174497792e308",
        "1.797693134862315807937289714053034150799341327100378269361737789804449682927647"
        "50946649017977587207096330286416692887910946555547851940402630657488671505820681"
        "90890200070838367627385484581771153176447573027006985557136695962284291481986083"
        "4936475292719074168444365510704342711559699508093042880177904174497791999e308",
        "1.797693134862315807937289714053034150799341327100378269361737789804449682927647"
        "50946649017977587207096330286416692887910946555547851940402630657488671505820681"
        "90890200070838367627385484581771153176447573027006985557136695962284291481986083"
        "49364752927190741684443655107043427115596995080930428801779041744977920000e308",
        "1.797693134862315807937289714053034150799341327100378269361737789804449682927647"
        "50946649017977587207096330286416692887910946555547851940402630657488671505820681"
        "90890200070838367627385484581771153176447573027006985557136695962284291481986083"
        "49364752927190741684443655107043427115596995080930428801779041744977920001e308",
        "17976931348623158079372897140530341507993413271003782693617377898044496829276475"
        "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
        "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
        "936475292719074168444365510704342711559699508093042880177904174497791.999",
        "17976931348623158079372897140530341507993413271003782693617377898044496829276475"
        "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
        "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
        "936475292719074168444365510704342711559699508093042880177904174497792",
        "0.000017976931348623158079372897140530341507993413271003782693617377898044496829"
        "27647509466490179775872070963302864166928879109465555478519404026306574886715058"
        "20681908902000708383676273854845817711531764475730270069855571366959622842914819"
        "860834936475292719074168444365510704342711559699508093042880177904174497792e313",
        "-1.79769313486231580793728971405303415079934132710037826936173778980444968292764"
        "75094664901797758720709633028641669288791094655554785194040263065748867150582068"
        "19089020007083836762738548458177115317644757302700698555713669596228429148198608"
        "34936475292719074168444365510704342711559699508093042880177904174497792e308",
        "-1.7976931348623159e308",
        "1.79769313486231e308",
        "17976931348623157e292",
        "17976931348623159e292",
    };
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = uselocale(c);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "[%s]", nums[i]);
        bool finite = isfinite(strtod(nums[i], NULL));
        enum jsoncheck_code got = run(buf);
        if (got != (finite ? OK : JSON))
            fail_msg("%s: strtod says %s, checker says %s", nums[i], finite ? "finite" : "infinite",
                     jsoncheck_code_name(got));
    }
    uselocale(old);
    freelocale(c);
}

static void test_code_names(void **state)
{
    (void)state;
    assert_string_equal(jsoncheck_code_name(OK), "ok");
    assert_string_equal(jsoncheck_code_name(UTF8), "bad_utf8");
    assert_string_equal(jsoncheck_code_name(JSON), "not_json");
    assert_string_equal(jsoncheck_code_name(DEEP), "too_deep");
}

static void test_top_and_offset(void **state)
{
    (void)state;
    struct jsoncheck_result r;
    assert_int_equal(jsoncheck_run("  [1]", 5, 64, &r), OK);
    assert_int_equal(r.top, '[');
    assert_int_equal(jsoncheck_run("{\"a\":01}", 8, 64, &r), JSON);
    assert_int_equal(r.offset, 5);
    assert_string_equal(r.reason, "leading zero");
    assert_int_equal(jsoncheck_run("[\"\xc0\x80\"]", 6, 64, &r), UTF8);
    assert_int_equal(r.offset, 2);
    assert_string_equal(r.reason, "overlong encoding");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),           cmocka_unit_test(test_ok_cases_parse_in_jsonc),
        cmocka_unit_test(test_depth),           cmocka_unit_test(test_depth_order),
        cmocka_unit_test(test_number_boundary), cmocka_unit_test(test_code_names),
        cmocka_unit_test(test_top_and_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
