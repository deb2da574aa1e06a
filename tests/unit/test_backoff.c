/* Unit tests of the reconnect backoff schedule: bounds, cap, reset, and no
 * overflow however long Redis stays away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>

#include "backoff.h"

/* With rnd = 0 the delay is the lower bound d/2; with rnd = d - d/2 the
 * upper bound d. */
static void test_schedule_bounds(void **state)
{
    static const int64_t steps[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    struct backoff lo, hi;
    (void)state;

    backoff_init(&lo, 100, 5000);
    backoff_init(&hi, 100, 5000);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t d = steps[i];
        assert_int_equal(backoff_next(&lo, 0), d / 2);
        assert_int_equal(backoff_next(&hi, (uint64_t)(d - d / 2)), d);
    }
}

static void test_every_random_value_in_bounds(void **state)
{
    struct backoff b;
    uint64_t rnd = 0x9e3779b97f4a7c15ULL;
    int64_t d = 250;
    (void)state;

    backoff_init(&b, 250, 30000);
    for (int i = 0; i < 200; i++) {
        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t v = backoff_next(&b, rnd);
        assert_in_range(v, d / 2, d);
        d = d * 2 > 30000 ? 30000 : d * 2;
    }
    assert_int_equal(d, 30000);
}

static void test_random_wraps_within_range(void **state)
{
    struct backoff b;
    (void)state;

    backoff_init(&b, 100, 5000);
    /* d = 100: 51 possible values 50..100; UINT64_MAX % 51 = 0. */
    assert_int_equal(backoff_next(&b, UINT64_MAX), 50 + (int64_t)(UINT64_MAX % 51));
    assert_int_equal(backoff_next(&b, 101), 100 + 101 % 101);
}

static void test_cap_below_base(void **state)
{
    struct backoff b;
    (void)state;

    backoff_init(&b, 1000, 300);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(backoff_next(&b, 0), 150);
        assert_int_equal(b.attempt, 0);
    }
}

static void test_reset(void **state)
{
    struct backoff b;
    (void)state;

    backoff_init(&b, 100, 5000);
    for (int i = 0; i < 10; i++)
        backoff_next(&b, 0);
    assert_int_equal(backoff_next(&b, 0), 2500);
    backoff_reset(&b);
    assert_int_equal(b.attempt, 0);
    assert_int_equal(backoff_next(&b, 0), 50);
    assert_int_equal(backoff_next(&b, 0), 100);
}

/* The counter stops at the cap, and even a forced huge attempt count gives
 * the cap rather than an overflowed shift. */
static void test_huge_attempts(void **state)
{
    struct backoff b;
    (void)state;

    backoff_init(&b, 100, 5000);
    for (int i = 0; i < 1000000; i++)
        backoff_next(&b, (uint64_t)i);
    assert_true(b.attempt < 64);
    assert_in_range(backoff_next(&b, 12345), 2500, 5000);

    b.attempt = UINT_MAX;
    assert_int_equal(backoff_next(&b, 0), 2500);
    assert_int_equal(b.attempt, UINT_MAX);

    backoff_init(&b, INT64_MAX / 3, INT64_MAX);
    b.attempt = 70;
    assert_int_equal(backoff_next(&b, 0), INT64_MAX / 2);
    assert_int_equal(backoff_next(&b, INT64_MAX - INT64_MAX / 2), INT64_MAX);
}

/* reconnect_max_ms is reloadable: a new cap applies to the next delay. */
static void test_cap_change(void **state)
{
    struct backoff b;
    (void)state;

    backoff_init(&b, 100, 5000);
    for (int i = 0; i < 10; i++)
        backoff_next(&b, 0);
    b.cap_ms = 1000;
    assert_int_equal(backoff_next(&b, 0), 500);
    b.cap_ms = 60000;
    assert_int_equal(backoff_next(&b, 0), 3200);
    assert_int_equal(backoff_next(&b, 0), 6400);
}

static void test_init_clamps(void **state)
{
    struct backoff b;
    (void)state;

    backoff_init(&b, 0, -5);
    assert_int_equal(b.base_ms, 1);
    assert_int_equal(b.cap_ms, 1);
    assert_in_range(backoff_next(&b, 7), 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_bounds),
        cmocka_unit_test(test_every_random_value_in_bounds),
        cmocka_unit_test(test_random_wraps_within_range),
        cmocka_unit_test(test_cap_below_base),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_huge_attempts),
        cmocka_unit_test(test_cap_change),
        cmocka_unit_test(test_init_clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
