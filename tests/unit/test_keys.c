/* Unit tests of the Redis key names of SPEC §2 under a prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "keys.h"

static void expect_key(char *key, const char *want)
{
    assert_string_equal(key, want);
    free(key);
}

static void test_default_prefix(void **state)
{
    (void)state;
    expect_key(keys_submissions("vetd:"), "vetd:submissions");
    expect_key(keys_processing("vetd:", "web-1"), "vetd:processing:web-1");
    expect_key(keys_deliveries("vetd:"), "vetd:deliveries");
    expect_key(keys_instance("vetd:", "web-1"), "vetd:instance:web-1");
    expect_key(keys_instances("vetd:"), "vetd:instances");
    expect_key(keys_app("vetd:", "abc"), "vetd:app:abc");
    expect_key(keys_state("vetd:", "backend-developer", "qualified"),
               "vetd:state:backend-developer:qualified");
    expect_key(keys_history("vetd:", "abc"), "vetd:history:abc");
    expect_key(keys_by_email("vetd:", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
               "vetd:by-email:da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_key(keys_notifications("vetd:"), "vetd:notifications");
    expect_key(keys_notif_processing("vetd:", "mailer-1"),
               "vetd:notifications:processing:mailer-1");
    expect_key(keys_dead("vetd:"), "vetd:dead");
    expect_key(keys_dead_item("vetd:", 42), "vetd:dead:42");
    expect_key(keys_dead_seq("vetd:"), "vetd:dead:seq");
}

/* The prefix is used as given: the colon is part of it. */
static void test_other_prefixes(void **state)
{
    (void)state;
    expect_key(keys_submissions("t1:"), "t1:submissions");
    expect_key(keys_app("x", "1"), "xapp:1");
    expect_key(keys_dead_item("{t}:", 9223372036854775807LL), "{t}:dead:9223372036854775807");
    expect_key(keys_processing("jobs:vetd:", "vetd@blue"), "jobs:vetd:processing:vetd@blue");
}

/* A prefix inside a SCAN MATCH pattern matches only itself. */
static void test_glob_escape(void **state)
{
    (void)state;
    expect_key(keys_glob_escape("vetd:"), "vetd:");
    expect_key(keys_glob_escape("a*b?[c]\\d"), "a\\*b\\?\\[c\\]\\\\d");
    expect_key(keys_glob_escape(""), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_prefix),
        cmocka_unit_test(test_other_prefixes),
        cmocka_unit_test(test_glob_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
