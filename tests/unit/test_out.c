/* Unit tests of vetctl's terminal output helpers (src/vetctl/out.c, which
 * lives outside the core library and so is compiled into this test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/vetctl/out.c"

static void expect_escape(const char *in, size_t n, int flags, const char *want)
{
    struct buf b = BUF_INIT;

    out_escape(&b, in, n, flags);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

#define ESC(in, flags, want) expect_escape(in, sizeof(in) - 1, flags, want)

static void test_escape_controls(void **state)
{
    (void)state;
    ESC("plain text", 0, "plain text");
    ESC("", 0, "");
    ESC("a\x1b[31mred", 0, "a\\x1b[31mred");
    ESC("del\x7f!", 0, "del\\x7f!");
    ESC("nul\0x", 0, "nul\\x00x");
    ESC("a\nb\tc", 0, "a\\x0ab\\x09c");
    ESC("a\r\nb\tc\rd", OUT_KEEP_NL | OUT_KEEP_TAB, "a\nb\tc\\x0dd");
    ESC("  a \t\r\n b  ", OUT_FOLD_WS, " a b ");
    /* C1 controls: U+0085 (NEL) and U+009B (CSI) */
    ESC("x\xc2\x85y\xc2\x9b", 0, "x\\u0085y\\u009b");
}

static void test_escape_bidi(void **state)
{
    (void)state;
    ESC("abc\xe2\x80\xae"
        "cba",
        0, "abc\\u202ecba");                                /* RLO */
    ESC("\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u2066x\\u2069"); /* LRI .. PDI */
    ESC("\xe2\x80\x8e\xe2\x80\x8f", 0, "\\u200e\\u200f");   /* LRM RLM */
    ESC("\xd8\x9c", 0, "\\u061c");                          /* ALM */
    ESC("\xef\xbb\xbfx", 0, "\\ufeffx");                    /* BOM */
    /* ordinary non-ASCII text passes through */
    ESC("Jos\xc3\xa9 \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac", 0,
        "Jos\xc3\xa9 \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac");
}

static void test_escape_bad_utf8(void **state)
{
    (void)state;
    ESC("a\xc0\xafz", 0, "a\\xc0\\xafz");               /* overlong '/' */
    ESC("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");          /* surrogate */
    ESC("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    ESC("\xe2\x82", 0, "\\xe2\\x82");                   /* truncated */
    ESC("\x80x", 0, "\\x80x");                          /* stray continuation */
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(out_width("abc", 3), 3);
    assert_int_equal(out_width("Jos\xc3\xa9", 5), 4);
    assert_int_equal(out_width("\xe6\x9d\xb1\xe4\xba\xac", 6), 4); /* two CJK */
    assert_int_equal(out_width("e\xcc\x81", 3), 1);                /* combining acute */
    assert_int_equal(out_width("\x1b", 1), 4);
    assert_int_equal(out_width("\xe2\x80\xae", 3), 6);
    assert_int_equal(out_width("\xff", 1), 4);
}

static void expect_cell(const char *in, size_t width, bool truncate, const char *want)
{
    struct buf b = BUF_INIT;

    out_cell(&b, in, width, truncate);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void test_cell(void **state)
{
    (void)state;
    expect_cell("ab", 5, false, "ab   ");
    expect_cell("Jos\xc3\xa9", 6, false, "Jos\xc3\xa9  ");
    expect_cell("abcdefgh", 5, false, "abcdefgh");
    expect_cell("abcdefgh", 5, true, "ab...");
    expect_cell("\xe6\x9d\xb1\xe4\xba\xac\xe6\x9d\xb1", 5, true, "\xe6\x9d\xb1...");
    expect_cell("a\x1b", 6, false, "a\\x1b ");
}

static void expect_wrap(const char *in, size_t first, size_t indent, size_t width, const char *want)
{
    struct buf b = BUF_INIT;

    out_wrap(&b, in, first, indent, width);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void test_wrap(void **state)
{
    (void)state;
    expect_wrap("one two three four five six seven eight nine ten eleven", 2, 4, 24,
                "  one two three four\n    five six seven eight\n    nine ten eleven\n");
    /* after a prefix of 4 columns printed by the caller */
    expect_wrap("alpha beta gamma delta", 0, 4, 20, "alpha beta gamma\n    delta\n");
    expect_wrap("para one\n\n\npara  two", 0, 0, 40, "para one\n\npara two\n");
    expect_wrap("", 2, 2, 40, "\n");
    expect_wrap("a supercalifragilisticexpialidocious-word b", 0, 0, 20,
                "a\nsupercalifragilisticexpialidocious-word\nb\n");
    expect_wrap("evil\x1b]0;title\x07 text", 0, 0, 80, "evil\\x1b]0;title\\x07 text\n");
}

static void test_colour(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    assert_string_equal(out_on(false, OUT_RED), "");
    assert_string_equal(out_off(false), "");
    assert_string_equal(out_on(true, OUT_GREEN), "\033[32m");
    out_styled(&b, true, OUT_BOLD, "x");
    assert_string_equal(b.data, "\033[1mx\033[0m");
    buf_reset(&b);
    out_styled(&b, false, OUT_BOLD, "x");
    assert_string_equal(b.data, "x");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_controls),
        cmocka_unit_test(test_escape_bidi),
        cmocka_unit_test(test_escape_bad_utf8),
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_cell),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_colour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
