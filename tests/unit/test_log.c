/* Unit tests of the logfmt line format: field order, quoting, escaping and
 * level filtering, formatted into a buffer (no stderr capture). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "buf.h"
#include "log.h"

/* 2026-11-28T14:16:16.123Z */
#define T0 INT64_C(1795875376123)

static char *line(int level, const char *instance, const struct log_ctx *ctx, const char *msg)
{
    struct buf b = BUF_INIT;
    log_format_line(&b, T0, level, "vetd", instance, ctx, msg);
    return buf_steal(&b);
}

static void test_plain_line(void **state)
{
    char *l = line(CFG_LOG_NOTICE, "web-1", NULL, "connected to redis");
    (void)state;

    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=notice prog=vetd instance=web-1 "
                           "msg=\"connected to redis\"\n");
    free(l);
}

static void test_field_order_with_context(void **state)
{
    struct log_ctx ctx = {"a1b2", "backend-developer", "qualified", 87};
    char *l = line(CFG_LOG_DEBUG, "web-1", &ctx, "scored");
    (void)state;

    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=debug prog=vetd instance=web-1 "
                           "msg=\"scored\" app_id=a1b2 role=backend-developer outcome=qualified "
                           "score=87\n");
    free(l);
}

static void test_optional_fields_left_out(void **state)
{
    struct log_ctx ctx = {NULL, "r", NULL, -1};
    char *l = line(CFG_LOG_ERROR, NULL, &ctx, "x");
    (void)state;

    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=error prog=vetd msg=\"x\" role=r\n");
    free(l);
    struct log_ctx zero = {NULL, NULL, NULL, 0};
    l = line(CFG_LOG_WARNING, "i", &zero, "");
    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=warning prog=vetd instance=i "
                           "msg=\"\" score=0\n");
    free(l);
}

static void test_message_escaping(void **state)
{
    char *l = line(CFG_LOG_INFO, "i", NULL, "say \"hi\" \\ a=b\nnext\r\t\x01\x7f caf\xc3\xa9");
    (void)state;

    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=info prog=vetd instance=i "
                           "msg=\"say \\\"hi\\\" \\\\ a=b\\nnext\\r\\t\\u0001\\u007f "
                           "caf\xc3\xa9\"\n");
    free(l);
}

/* Context values are quoted only when they need it. */
static void test_value_quoting(void **state)
{
    struct log_ctx ctx = {"id with space", "a=b", "say\"x\"", -1};
    char *l = line(CFG_LOG_INFO, "", &ctx, "m");
    (void)state;

    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=info prog=vetd instance=\"\" "
                           "msg=\"m\" app_id=\"id with space\" role=\"a=b\" "
                           "outcome=\"say\\\"x\\\"\"\n");
    free(l);
    struct log_ctx ctx2 = {"back\\slash", "tab\there", "nl\n", -1};
    l = line(CFG_LOG_INFO, "i", &ctx2, "m");
    assert_string_equal(l, "ts=2026-11-28T14:16:16.123Z level=info prog=vetd instance=i "
                           "msg=\"m\" app_id=\"back\\\\slash\" role=\"tab\\there\" "
                           "outcome=\"nl\\n\"\n");
    free(l);
}

/* A line is exactly one line, whatever the message holds. */
static void test_one_line(void **state)
{
    char *l = line(CFG_LOG_INFO, "i\nj", NULL, "a\nb\n\nc");
    size_t newlines = 0;
    (void)state;

    for (char *p = l; *p; p++)
        newlines += *p == '\n';
    assert_int_equal(newlines, 1);
    free(l);
}

static void test_levels(void **state)
{
    (void)state;

    log_init("vetd", "test", CFG_LOG_NOTICE);
    assert_false(log_enabled(CFG_LOG_DEBUG));
    assert_false(log_enabled(CFG_LOG_INFO));
    assert_true(log_enabled(CFG_LOG_NOTICE));
    assert_true(log_enabled(CFG_LOG_ERROR));
    log_set_level(CFG_LOG_DEBUG);
    assert_true(log_enabled(CFG_LOG_DEBUG));
    log_set_level(42); /* ignored */
    assert_true(log_enabled(CFG_LOG_DEBUG));
    log_set_level(CFG_LOG_ERROR);
    assert_false(log_enabled(CFG_LOG_WARNING));
    log_close();
}

static void test_priorities(void **state)
{
    (void)state;
    assert_int_equal(log_priority(CFG_LOG_DEBUG), 7);
    assert_int_equal(log_priority(CFG_LOG_INFO), 6);
    assert_int_equal(log_priority(CFG_LOG_NOTICE), 5);
    assert_int_equal(log_priority(CFG_LOG_WARNING), 4);
    assert_int_equal(log_priority(CFG_LOG_ERROR), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_line),
        cmocka_unit_test(test_field_order_with_context),
        cmocka_unit_test(test_optional_fields_left_out),
        cmocka_unit_test(test_message_escaping),
        cmocka_unit_test(test_value_quoting),
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_priorities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
