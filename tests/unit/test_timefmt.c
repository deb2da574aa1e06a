/* Unit tests of the RFC 3339 times: formatting known instants and the
 * validation of submitted_at (SPEC §3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "timefmt.h"

static void expect_format(int64_t ms, const char *want)
{
    char out[TIMEFMT_LEN + 1];
    memset(out, 'x', sizeof out);
    timefmt_format(ms, out);
    assert_string_equal(out, want);
}

static void test_format(void **state)
{
    (void)state;
    expect_format(0, "1970-01-01T00:00:00.000Z");
    expect_format(1, "1970-01-01T00:00:00.001Z");
    expect_format(999, "1970-01-01T00:00:00.999Z");
    expect_format(1000, "1970-01-01T00:00:01.000Z");
    expect_format(INT64_C(1795875376123), "2026-11-28T14:16:16.123Z");
    expect_format(INT64_C(951782400000), "2000-02-29T00:00:00.000Z");
    expect_format(INT64_C(4102444799999), "2099-12-31T23:59:59.999Z");
}

static void test_format_is_valid(void **state)
{
    char out[TIMEFMT_LEN + 1];
    (void)state;

    timefmt_format(timefmt_now_ms(), out);
    assert_int_equal(strlen(out), TIMEFMT_LEN);
    assert_true(timefmt_rfc3339_valid(out, strlen(out)));
}

static void test_now_is_sane(void **state)
{
    (void)state;
    /* After 2024-01-01 and before 2100. */
    assert_in_range(timefmt_now_ms(), INT64_C(1704067200000), INT64_C(4102444800000));
}

static bool valid(const char *s)
{
    return timefmt_rfc3339_valid(s, strlen(s));
}

static void test_valid(void **state)
{
    static const char *const good[] = {
        "2026-11-28T14:16:16Z",      "2026-11-28T14:16:16.123Z",
        "2026-11-28T14:16:16.1Z",    "2026-11-28T14:16:16.123456789Z",
        "2026-11-28T14:16:16+01:00", "2026-11-28T14:16:16.5-05:30",
        "2026-11-28T23:59:60Z",      "2024-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",      "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-00:00",
    };
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!valid(good[i]))
            fail_msg("rejected %s", good[i]);
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-11-28",
        "2026-11-28t14:16:16Z",
        "2026-11-28T14:16:16z",
        "2026-11-28 14:16:16Z",
        "2026-11-28T14:16:16",
        "2026-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28T14:60:00Z",
        "2026-11-28T14:16:61Z",
        "2026-11-28T14:16:16.Z",
        "2026-11-28T14:16:16+0100",
        "2026-11-28T14:16:16+01",
        "2026-11-28T14:16:16+24:00",
        "2026-11-28T14:16:16+01:60",
        "2026-11-28T14:16:16Z ",
        "2026-11-28T14:16:16ZZ",
        "2026-11-28T14:16:16+01:00:00",
        "26-11-28T14:16:16Z",
        "2026-1-28T14:16:16Z",
        "2026-11-28T14:16:1Z",
        "+2026-11-28T14:16:16Z",
        "2026-11-28T14:16:16,5Z",
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
}

/* Only the n bytes given are looked at (values come from JSON, not C
 * strings). */
static void test_length_bounded(void **state)
{
    static const char s[] = "2026-11-28T14:16:16Zgarbage";
    (void)state;

    assert_true(timefmt_rfc3339_valid(s, 20));
    assert_false(timefmt_rfc3339_valid(s, 21));
    assert_false(timefmt_rfc3339_valid(s, 19));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),      cmocka_unit_test(test_format_is_valid),
        cmocka_unit_test(test_now_is_sane), cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),     cmocka_unit_test(test_length_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
