/* Unit tests of the review transition table (SPEC §5): every pair of
 * states checked against the spec's table, and the Lua copy of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "xmalloc.h"

/* SPEC §5, written out independently of state.c. */
static const char *const spec_allowed[][2] = {
    {"qualified", "in_review"},     {"qualified", "contacted"},     {"qualified", "declined"},
    {"qualified", "not_qualified"}, {"not_qualified", "in_review"}, {"not_qualified", "declined"},
    {"not_qualified", "qualified"}, {"in_review", "contacted"},     {"in_review", "declined"},
    {"in_review", "qualified"},     {"in_review", "not_qualified"}, {"contacted", "declined"},
    {"declined", "in_review"},      {"qualified", "erased"},        {"not_qualified", "erased"},
    {"in_review", "erased"},        {"contacted", "erased"},        {"declined", "erased"},
};
#define NALLOWED (sizeof spec_allowed / sizeof spec_allowed[0])

static bool spec_allows(const char *from, const char *to)
{
    for (size_t i = 0; i < NALLOWED; i++)
        if (strcmp(spec_allowed[i][0], from) == 0 && strcmp(spec_allowed[i][1], to) == 0)
            return true;
    return false;
}

static void test_names_round_trip(void **state)
{
    static const char *const names[STATE_COUNT] = {"qualified", "not_qualified", "in_review",
                                                   "contacted", "declined",      "erased"};
    (void)state;

    for (int i = 0; i < STATE_COUNT; i++) {
        enum state s;
        assert_string_equal(state_name((enum state)i), names[i]);
        assert_true(state_parse(names[i], &s));
        assert_int_equal(s, i);
    }
    assert_string_equal(state_name(STATE_COUNT), "?");
}

static void test_parse_unknown(void **state)
{
    static const char *const bad[] = {"",        "Qualified",   "in-review", "reviewing",
                                      "erased ", "qualified\n", "new"};
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum state s = STATE_DECLINED;
        assert_false(state_parse(bad[i], &s));
        assert_int_equal(s, STATE_DECLINED);
    }
}

/* All 36 pairs: allowed exactly when the spec's table says so. */
static void test_every_pair(void **state)
{
    int allowed = 0;
    (void)state;

    for (int f = 0; f < STATE_COUNT; f++) {
        for (int t = 0; t < STATE_COUNT; t++) {
            bool want = spec_allows(state_name((enum state)f), state_name((enum state)t));
            if (state_allowed((enum state)f, (enum state)t) != want)
                fail_msg("%s -> %s: want %s", state_name((enum state)f), state_name((enum state)t),
                         want ? "allowed" : "forbidden");
            allowed += want;
        }
    }
    assert_int_equal(allowed, NALLOWED);
}

static void test_erased(void **state)
{
    (void)state;
    for (int f = 0; f < STATE_COUNT; f++) {
        bool want = f != STATE_ERASED;
        assert_int_equal(state_allowed((enum state)f, STATE_ERASED), want);
        assert_false(state_allowed(STATE_ERASED, (enum state)f));
        assert_false(state_allowed((enum state)f, (enum state)f));
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    assert_false(state_allowed(STATE_COUNT, STATE_ERASED));
    assert_false(state_allowed(STATE_QUALIFIED, STATE_COUNT));
    assert_false(state_allowed((enum state) - 1, STATE_QUALIFIED));
}

static void test_allowed_list(void **state)
{
    char out[128];
    (void)state;

    state_allowed_list(STATE_QUALIFIED, out, sizeof out);
    assert_string_equal(out, "not_qualified, in_review, contacted, declined, erased");
    state_allowed_list(STATE_CONTACTED, out, sizeof out);
    assert_string_equal(out, "declined, erased");
    state_allowed_list(STATE_ERASED, out, sizeof out);
    assert_string_equal(out, "");
    state_allowed_list(STATE_QUALIFIED, out, 12);
    assert_true(strlen(out) < 12);
}

/* Only contacted and declined reach the candidate (SPEC §6); overrides,
 * in_review and erased emit nothing. */
static void test_events(void **state)
{
    (void)state;
    assert_string_equal(state_event(STATE_CONTACTED), "candidate.contacted");
    assert_string_equal(state_event(STATE_DECLINED), "candidate.declined");
    assert_null(state_event(STATE_QUALIFIED));
    assert_null(state_event(STATE_NOT_QUALIFIED));
    assert_null(state_event(STATE_IN_REVIEW));
    assert_null(state_event(STATE_ERASED));
}

/* The Lua table lists exactly the allowed pairs, each once, and every
 * state (erased with an empty set). */
static void test_lua_table(void **state)
{
    char *lua = state_table_lua();
    size_t entries = 0;
    (void)state;

    assert_true(lua[0] == '{' && lua[strlen(lua) - 1] == '}');
    for (int f = 0; f < STATE_COUNT; f++) {
        char *head = xasprintf("%s%s={", f == 0 ? "{" : "},", state_name((enum state)f));
        char *start = strstr(lua, head);
        if (start == NULL)
            fail_msg("no entry for %s in %s", state_name((enum state)f), lua);
        start += strlen(head);
        size_t len = strcspn(start, "}");
        for (int t = 0; t < STATE_COUNT; t++) {
            char *item = xasprintf("%s=true,", state_name((enum state)t));
            char *hit = strstr(start, item);
            bool in = hit != NULL && hit < start + len && (hit == start || hit[-1] == ',');
            assert_int_equal(in, state_allowed((enum state)f, (enum state)t));
            entries += in;
            free(item);
        }
        free(head);
    }
    size_t trues = 0;
    for (char *p = lua; (p = strstr(p, "=true")) != NULL; p++)
        trues++;
    assert_int_equal(trues, NALLOWED);
    assert_int_equal(entries, NALLOWED);
    assert_non_null(strstr(lua, "erased={}"));
    free(lua);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip), cmocka_unit_test(test_parse_unknown),
        cmocka_unit_test(test_every_pair),       cmocka_unit_test(test_erased),
        cmocka_unit_test(test_out_of_range),     cmocka_unit_test(test_allowed_list),
        cmocka_unit_test(test_events),           cmocka_unit_test(test_lua_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
