/* Unit tests of the config parser: every rule of SPEC §7 and the exact
 * error texts. Files are written into a private temporary directory that is
 * the working directory, so error strings start with "vetd.conf:". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "xmalloc.h"

/* The mkdtemp(3) template: its last six characters become 'X'. */
static char tmpdir[] = "/tmp/test_cfg.______";

static int group_setup(void **state)
{
    (void)state;
    memset(tmpdir + strlen(tmpdir) - 6, 'X', 6);
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unlink("vetd.conf");
    unlink("password");
    if (chdir("/") != 0)
        return -1;
    return rmdir(tmpdir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Load text as ./vetd.conf over the defaults; the caller frees c. */
static bool load(struct cfg *c, const char *text, char **cause)
{
    write_file("vetd.conf", text);
    cfg_defaults(c);
    *cause = NULL;
    return cfg_load(c, "vetd.conf", cause);
}

/* text must fail with exactly this cause. */
static void expect_error(const char *text, const char *want)
{
    struct cfg c;
    char *cause;

    assert_false(load(&c, text, &cause));
    assert_non_null(cause);
    assert_string_equal(cause, want);
    free(cause);
    cfg_free(&c);
}

/* text must load; returns the config for inspection. */
static void expect_ok(struct cfg *c, const char *text)
{
    char *cause;
    bool ok = load(c, text, &cause);
    if (!ok)
        fail_msg("unexpected error: %s", cause);
    assert_null(cause);
}

static void test_defaults(void **state)
{
    struct cfg c;
    (void)state;

    cfg_defaults(&c);
    assert_string_equal(c.redis, "redis://127.0.0.1:6379/0");
    assert_null(c.redis_user);
    assert_null(c.redis_password_file);
    assert_string_equal(c.key_prefix, "vetd:");
    assert_non_null(c.instance);
    assert_true(strlen(c.instance) >= 1 && strlen(c.instance) <= 64);
    assert_string_equal(c.roles_dir, "/etc/vetd/roles");
    assert_int_equal(c.batch_size, 64);
    assert_int_equal(c.max_payload_bytes, 262144);
    assert_int_equal(c.max_deliveries, 5);
    assert_int_equal(c.heartbeat_interval_ms, 1000);
    assert_int_equal(c.instance_ttl_ms, 10000);
    assert_int_equal(c.block_timeout_ms, 2000);
    assert_int_equal(c.reconnect_max_ms, 5000);
    assert_int_equal(c.shutdown_timeout_ms, 10000);
    assert_int_equal(c.min_replicas_ack, 0);
    assert_string_equal(c.metrics_listen, "127.0.0.1:9464");
    assert_int_equal(c.log_level, CFG_LOG_INFO);
    char *cause = NULL;
    assert_true(cfg_check(&c, "x", &cause));
    cfg_free(&c);
    assert_null(c.redis);
}

static void test_instance_default_is_host_name(void **state)
{
    char host[256] = "";
    struct cfg c;
    (void)state;

    assert_int_equal(gethostname(host, sizeof host), 0);
    cfg_defaults(&c);
    if (strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") ==
            strlen(host) &&
        strlen(host) <= 64)
        assert_string_equal(c.instance, host);
    else
        assert_string_equal(c.instance, "vetd");
    cfg_free(&c);
}

static void test_every_key_parsed(void **state)
{
    struct cfg c;
    char *cause = NULL;
    (void)state;

    cfg_defaults(&c);
    if (!cfg_load(&c, SOURCE_DIR "/tests/fixtures/conf/full.conf", &cause))
        fail_msg("%s", cause);
    assert_string_equal(c.redis, "sentinel://10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/2");
    assert_string_equal(c.redis_user, "vetd-reviewer");
    assert_string_equal(c.redis_password_file, "/etc/vetd/redis password");
    assert_string_equal(c.key_prefix, "jobs#1:");
    assert_string_equal(c.instance, "web-1.example@blue");
    assert_string_equal(c.roles_dir, "/srv/roles#not-a-comment");
    assert_int_equal(c.batch_size, 128);
    assert_int_equal(c.max_payload_bytes, 1048576);
    assert_int_equal(c.max_deliveries, 3);
    assert_int_equal(c.heartbeat_interval_ms, 500);
    assert_int_equal(c.instance_ttl_ms, 1500);
    assert_int_equal(c.block_timeout_ms, 100);
    assert_int_equal(c.reconnect_max_ms, 600000);
    assert_int_equal(c.shutdown_timeout_ms, 0);
    assert_int_equal(c.min_replicas_ack, 16);
    assert_string_equal(c.metrics_listen, "");
    assert_int_equal(c.log_level, CFG_LOG_DEBUG);
    cfg_free(&c);
}

static void test_error_names_full_path(void **state)
{
    struct cfg c;
    char *cause = NULL;
    (void)state;

    cfg_defaults(&c);
    assert_false(cfg_load(&c, SOURCE_DIR "/tests/fixtures/conf/typo.conf", &cause));
    assert_string_equal(cause, SOURCE_DIR "/tests/fixtures/conf/typo.conf:3: bacth_size: "
                                          "unknown key (did you mean batch_size?)");
    free(cause);
    cfg_free(&c);
}

static char *example_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    cfg_write_example(f);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_example_file_is_generated(void **state)
{
    char *want = example_text();
    FILE *f = fopen(SOURCE_DIR "/conf/vetd.conf", "r");
    char *have = xmalloc(strlen(want) + 2);
    (void)state;

    assert_non_null(f);
    size_t n = fread(have, 1, strlen(want) + 1, f);
    fclose(f);
    have[n] = '\0';
    if (strcmp(have, want) != 0)
        fail_msg("conf/vetd.conf differs from cfg_write_example(); regenerate it");
    free(have);
    free(want);
}

/* The example documents every key, and loading it gives the defaults. */
static void test_example_file_loads(void **state)
{
    struct cfg c, d;
    char *cause = NULL;
    char *text = example_text();
    (void)state;

    cfg_defaults(&c);
    cfg_defaults(&d);
    if (!cfg_load(&c, SOURCE_DIR "/conf/vetd.conf", &cause))
        fail_msg("%s", cause);
    assert_int_equal(c.batch_size, d.batch_size);
    assert_string_equal(c.redis, d.redis);
    assert_int_equal(c.log_level, d.log_level);
    static const char *const keys[] = {"redis",
                                       "redis_user",
                                       "redis_password_file",
                                       "key_prefix",
                                       "instance",
                                       "roles_dir",
                                       "batch_size",
                                       "max_payload_bytes",
                                       "max_deliveries",
                                       "heartbeat_interval_ms",
                                       "instance_ttl_ms",
                                       "block_timeout_ms",
                                       "reconnect_max_ms",
                                       "shutdown_timeout_ms",
                                       "min_replicas_ack",
                                       "metrics_listen",
                                       "log_level"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *line = xasprintf("\n# %s =", keys[i]);
        if (strstr(text, line) == NULL)
            fail_msg("the example does not document %s", keys[i]);
        free(line);
    }
    assert_non_null(strstr(text, "# Range: 1-10000. Reload: yes.\n# batch_size = 64\n"));
    assert_non_null(strstr(text, "Reload: no (restart required).\n# redis = redis://"));
    free(text);
    cfg_free(&c);
    cfg_free(&d);
}

static void test_comments(void **state)
{
    struct cfg c;
    (void)state;

    expect_ok(&c, "# a comment\n"
                  "   # an indented comment\n"
                  "\n"
                  "\t\n"
                  "key_prefix = a#b\n"
                  "roles_dir = /r # a comment after white space\n"
                  "redis_user = u\t# after a tab\n"
                  "redis_password_file = /pw#\n");
    assert_string_equal(c.key_prefix, "a#b");
    assert_string_equal(c.roles_dir, "/r");
    assert_string_equal(c.redis_user, "u");
    assert_string_equal(c.redis_password_file, "/pw#");
    cfg_free(&c);

    /* A value that is only a comment is empty; without white space before
     * it, '#' is a value. */
    expect_error("key_prefix = # nothing\n", "vetd.conf:1: key_prefix: must not be empty");
    expect_ok(&c, "key_prefix =#x\nredis_user= # nothing\n");
    assert_string_equal(c.key_prefix, "#x");
    assert_null(c.redis_user);
    cfg_free(&c);
}

static void test_quoting(void **state)
{
    struct cfg c;
    (void)state;

    expect_ok(&c, "roles_dir = \"/a b # c\"\n"
                  "redis_password_file = \"/x\\\"y\\\\z\"  # comment\n"
                  "key_prefix = \"p:\"\n"
                  "redis_user = a\"b\n"
                  "metrics_listen = \"\"\n");
    assert_string_equal(c.roles_dir, "/a b # c");
    assert_string_equal(c.redis_password_file, "/x\"y\\z");
    assert_string_equal(c.key_prefix, "p:");
    assert_string_equal(c.redis_user, "a\"b");
    assert_string_equal(c.metrics_listen, "");
    cfg_free(&c);

    expect_error("\nroles_dir = \"/a\n", "vetd.conf:2: roles_dir: unterminated quoted value");
    expect_error("roles_dir = \"/a\\n\"\n",
                 "vetd.conf:1: roles_dir: only \\\" and \\\\ may follow a backslash in quotes");
    expect_error("roles_dir = \"/a\" b\n",
                 "vetd.conf:1: roles_dir: unexpected text after the closing quote");
    expect_error("roles_dir = \"/a\"#b\n",
                 "vetd.conf:1: roles_dir: unexpected text after the closing quote");
    expect_error("key_prefix = \" p\"\n", "vetd.conf:1: key_prefix: must be 1-64 characters "
                                          "without white space or control characters");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("# one\n\nbatch_size 5\n", "vetd.conf:3: batch_size: expected '=' after the key");
    expect_error("= 5\n", "vetd.conf:1: missing key before '='");
    expect_error("batch_size\n", "vetd.conf:1: batch_size: expected '=' after the key");
    /* write_file stops at a NUL: write these bytes by hand. */
    FILE *f = fopen("vetd.conf", "w");
    assert_non_null(f);
    fwrite("log_level = info\nbatch_size = 2\0\n", 1, 33, f);
    fclose(f);
    struct cfg c;
    char *cause = NULL;
    cfg_defaults(&c);
    assert_false(cfg_load(&c, "vetd.conf", &cause));
    assert_string_equal(cause, "vetd.conf:2: NUL byte in the line");
    free(cause);
    cfg_free(&c);
}

static void test_crlf_and_spacing(void **state)
{
    struct cfg c;
    (void)state;

    expect_ok(&c, "batch_size=7\r\n  log_level\t=\twarning  \r\n");
    assert_int_equal(c.batch_size, 7);
    assert_int_equal(c.log_level, CFG_LOG_WARNING);
    cfg_free(&c);
}

static void test_repeated_key(void **state)
{
    (void)state;
    expect_error("batch_size = 1\n# x\nbatch_size = 1\n",
                 "vetd.conf:3: batch_size: repeated key (first set on line 1)");
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_error("batch_size = 1\n\nbacth_size = 2\n",
                 "vetd.conf:3: bacth_size: unknown key (did you mean batch_size?)");
    expect_error("Log_Level = info\n",
                 "vetd.conf:1: Log_Level: unknown key (did you mean log_level?)");
    expect_error("heartbeat_interval = 5\n",
                 "vetd.conf:1: heartbeat_interval: unknown key (did you mean "
                 "heartbeat_interval_ms?)");
    expect_error("frobnicate = 1\n", "vetd.conf:1: frobnicate: unknown key");
    expect_error("password = x\n", "vetd.conf:1: password: unknown key");
}

static void test_integers(void **state)
{
    struct cfg c;
    (void)state;

    expect_ok(&c, "batch_size = 10000\nmax_payload_bytes = 1024\nmin_replicas_ack = 0\n"
                  "max_deliveries = 0100\n");
    assert_int_equal(c.batch_size, 10000);
    assert_int_equal(c.max_payload_bytes, 1024);
    assert_int_equal(c.min_replicas_ack, 0);
    assert_int_equal(c.max_deliveries, 100);
    cfg_free(&c);

    static const char *const bad[] = {
        "abc",
        "12x",
        "64 kb",
        "0",
        "10001",
        "-1",
        "+5",
        "0x10",
        "1e3",
        "1.5",
        "99999999999999999999",
        "-99999999999999999999",
        "\"\"",
        " - 5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = xasprintf("\nbatch_size = %s\n", bad[i]);
        expect_error(text, "vetd.conf:2: batch_size: must be an integer 1-10000");
        free(text);
    }
    expect_error("max_payload_bytes = 1023\n",
                 "vetd.conf:1: max_payload_bytes: must be an integer 1024-536870912");
    expect_error("max_deliveries = 101\n", "vetd.conf:1: max_deliveries: must be an integer 1-100");
    expect_error("heartbeat_interval_ms = 99\n",
                 "vetd.conf:1: heartbeat_interval_ms: must be an integer 100-60000");
    expect_error("block_timeout_ms = 60001\n",
                 "vetd.conf:1: block_timeout_ms: must be an integer 100-60000");
    expect_error("reconnect_max_ms = 600001\n",
                 "vetd.conf:1: reconnect_max_ms: must be an integer 100-600000");
    expect_error("shutdown_timeout_ms = -1\n",
                 "vetd.conf:1: shutdown_timeout_ms: must be an integer 0-3600000");
    expect_error("min_replicas_ack = 17\n",
                 "vetd.conf:1: min_replicas_ack: must be an integer 0-16");
    expect_error("instance_ttl_ms = 299\n",
                 "vetd.conf:1: instance_ttl_ms: must be an integer 300-3600000");
}

static void test_strtonum(void **state)
{
    long long v = 42;
    (void)state;

    assert_true(cfg_strtonum("-7", -10, 10, &v));
    assert_int_equal(v, -7);
    assert_true(cfg_strtonum("9223372036854775807", 0, INT64_MAX, &v));
    assert_int_equal(v, INT64_MAX);
    v = 42;
    assert_false(cfg_strtonum("9223372036854775808", 0, INT64_MAX, &v));
    assert_false(cfg_strtonum("", 0, 10, &v));
    assert_false(cfg_strtonum("-", -10, 10, &v));
    assert_false(cfg_strtonum(" 5", 0, 10, &v));
    assert_false(cfg_strtonum("5 ", 0, 10, &v));
    assert_false(cfg_strtonum("11", 0, 10, &v));
    assert_int_equal(v, 42);
}

static void test_log_levels(void **state)
{
    static const char *const names[] = {"debug", "info", "notice", "warning", "error"};
    struct cfg c;
    (void)state;

    for (int i = 0; i < 5; i++) {
        char *text = xasprintf("log_level = %s\n", names[i]);
        expect_ok(&c, text);
        assert_int_equal(c.log_level, i);
        assert_string_equal(cfg_log_level_name(i), names[i]);
        cfg_free(&c);
        free(text);
    }
    assert_int_equal(CFG_LOG_ERROR, 4);
    expect_error("log_level = INFO\n",
                 "vetd.conf:1: log_level: must be one of debug, info, notice, warning, error");
    expect_error("log_level = warn\n",
                 "vetd.conf:1: log_level: must be one of debug, info, notice, warning, error");
    int level = -1;
    assert_false(cfg_log_level_parse("crit", &level));
    assert_int_equal(level, -1);
    assert_string_equal(cfg_log_level_name(9), "?");
}

static void test_ttl_cross_check(void **state)
{
    struct cfg c;
    char *cause = NULL;
    (void)state;

    /* The error names the line of the refused TTL... */
    expect_error("heartbeat_interval_ms = 1000\ninstance_ttl_ms = 2999\n",
                 "vetd.conf:2: instance_ttl_ms: must be at least 3 x heartbeat_interval_ms (3000)");
    expect_error("# x\n\ninstance_ttl_ms = 2000\nheartbeat_interval_ms = 1000\n",
                 "vetd.conf:3: instance_ttl_ms: must be at least 3 x heartbeat_interval_ms (3000)");
    expect_error("\ninstance_ttl_ms = 2000\n",
                 "vetd.conf:2: instance_ttl_ms: must be at least 3 x heartbeat_interval_ms (3000)");
    /* ...or, when the file set only the interval, the interval's line. */
    expect_error("# x\nheartbeat_interval_ms = 5000\n",
                 "vetd.conf:2: heartbeat_interval_ms: must be at most instance_ttl_ms / 3 (3333)");
    expect_ok(&c, "heartbeat_interval_ms = 1000\ninstance_ttl_ms = 3000\n");
    assert_int_equal(c.instance_ttl_ms, 3000);
    cfg_free(&c);

    /* A value set by cfg_set is not blamed on the line the file had. */
    expect_ok(&c, "\ninstance_ttl_ms = 9000\n");
    assert_true(cfg_set(&c, "instance_ttl_ms", "2000", &cause));
    assert_false(cfg_check(&c, "vetd.conf", &cause));
    assert_string_equal(cause,
                        "vetd.conf: instance_ttl_ms: must be at least 3 x heartbeat_interval_ms "
                        "(3000)");
    free(cause);
    cfg_free(&c);
}

static void test_strings(void **state)
{
    struct cfg c;
    (void)state;

    /* Empty means the default for the optional keys. */
    expect_ok(&c, "redis_user =\nredis_password_file = \"\"\ninstance =\n");
    assert_null(c.redis_user);
    assert_null(c.redis_password_file);
    assert_non_null(c.instance);
    cfg_free(&c);

    expect_error("redis =\n", "vetd.conf:1: redis: must not be empty");
    expect_error("roles_dir = \"\"\n", "vetd.conf:1: roles_dir: must not be empty");
    expect_error("key_prefix = 12345678901234567890123456789012345678901234567890123456789012345\n",
                 "vetd.conf:1: key_prefix: must be 1-64 characters without white space or "
                 "control characters");
    expect_error("instance = a b\n", "vetd.conf:1: instance: must be 1-64 of A-Z a-z 0-9 . _ @ -");
    expect_error("instance = a/b\n", "vetd.conf:1: instance: must be 1-64 of A-Z a-z 0-9 . _ @ -");
    expect_error("instance = 12345678901234567890123456789012345678901234567890123456789012345\n",
                 "vetd.conf:1: instance: must be 1-64 of A-Z a-z 0-9 . _ @ -");
    expect_error("redis_user = \"a b\"\n",
                 "vetd.conf:1: redis_user: must not contain white space or control characters");
    expect_error("roles_dir = \"/a\tb\"\n",
                 "vetd.conf:1: roles_dir: must not contain control characters");
    expect_ok(&c, "instance = 1234567890123456789012345678901234567890123456789012345678901234\n"
                  "key_prefix = {tenant-1}:vetd:\n");
    assert_int_equal(strlen(c.instance), 64);
    assert_string_equal(c.key_prefix, "{tenant-1}:vetd:");
    cfg_free(&c);
}

static void test_metrics_listen(void **state)
{
    struct cfg c;
    char *host = NULL, *cause = NULL;
    int port = 0;
    (void)state;

    expect_ok(&c, "metrics_listen = [::1]:9000\n");
    assert_string_equal(c.metrics_listen, "[::1]:9000");
    cfg_free(&c);
    assert_true(cfg_listen_parse("[::1]:9000", &host, &port, &cause));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9000);
    free(host);
    assert_true(cfg_listen_parse("0.0.0.0:1", &host, &port, &cause));
    assert_string_equal(host, "0.0.0.0");
    assert_int_equal(port, 1);
    free(host);
    expect_error("metrics_listen = localhost\n", "vetd.conf:1: metrics_listen: must be HOST:PORT");
    expect_error("metrics_listen = localhost:0\n",
                 "vetd.conf:1: metrics_listen: port must be an integer 1-65535");
    expect_error("metrics_listen = localhost:65536\n",
                 "vetd.conf:1: metrics_listen: port must be an integer 1-65535");
    expect_error("metrics_listen = :9464\n",
                 "vetd.conf:1: metrics_listen: missing or overlong host");
    expect_error("metrics_listen = [::g]:9464\n", "vetd.conf:1: metrics_listen: bad IPv6 address");
}

struct redis_case {
    const char *url;
    enum cfg_redis_kind kind;
    const char *host;
    int port;
    int db;
    int naddrs;
    const char *master;
};

static void test_redis_urls_good(void **state)
{
    static const struct redis_case cases[] = {
        {"redis://127.0.0.1:6379/0", CFG_REDIS_TCP, "127.0.0.1", 6379, 0, 1, NULL},
        {"redis://redis.internal", CFG_REDIS_TCP, "redis.internal", 6379, 0, 1, NULL},
        {"redis://h:7000", CFG_REDIS_TCP, "h", 7000, 0, 1, NULL},
        {"redis://h/3", CFG_REDIS_TCP, "h", 6379, 3, 1, NULL},
        {"redis://h:1/", CFG_REDIS_TCP, "h", 1, 0, 1, NULL},
        {"redis://[::1]:6380/15", CFG_REDIS_TCP, "::1", 6380, 15, 1, NULL},
        {"redis://[fe80::1]", CFG_REDIS_TCP, "fe80::1", 6379, 0, 1, NULL},
        {"unix:///run/redis/redis.sock", CFG_REDIS_UNIX, "/run/redis/redis.sock", 0, 0, 1, NULL},
        {"unix:///tmp/r.sock?db=4", CFG_REDIS_UNIX, "/tmp/r.sock", 0, 4, 1, NULL},
        {"sentinel://s1:26380/mymaster", CFG_REDIS_SENTINEL, "s1", 26380, 0, 1, "mymaster"},
        {"sentinel://s1,s2:5,[::1]/m/2", CFG_REDIS_SENTINEL, "s1", 26379, 2, 3, "m"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct redis_case *rc = &cases[i];
        struct cfg_redis_target t;
        char *cause = NULL;
        if (!cfg_redis_parse(rc->url, &t, &cause))
            fail_msg("%s: %s", rc->url, cause);
        assert_int_equal(t.kind, rc->kind);
        assert_int_equal(t.naddrs, rc->naddrs);
        assert_string_equal(t.addrs[0].host, rc->host);
        assert_int_equal(t.addrs[0].port, rc->port);
        assert_int_equal(t.db, rc->db);
        if (rc->master != NULL)
            assert_string_equal(t.master, rc->master);
        else
            assert_null(t.master);
        cfg_redis_free(&t);
    }
}

static void test_redis_sentinel_addrs(void **state)
{
    struct cfg_redis_target t;
    char *cause = NULL;
    (void)state;

    assert_true(cfg_redis_parse("sentinel://s1,s2:5,[::1]/m/2", &t, &cause));
    assert_string_equal(t.addrs[1].host, "s2");
    assert_int_equal(t.addrs[1].port, 5);
    assert_string_equal(t.addrs[2].host, "::1");
    assert_int_equal(t.addrs[2].port, 26379);
    cfg_redis_free(&t);
    assert_null(t.addrs);
    assert_int_equal(t.naddrs, 0);
}

static void test_redis_urls_bad(void **state)
{
    static const char creds[] =
        "credentials in the URL are not allowed; use redis_user and redis_password_file";
    static const struct {
        const char *url, *reason;
    } cases[] = {
        {"redis://:secret@h:6379/0", creds},
        {"redis://user:secret@h", creds},
        {"redis://user@h", creds},
        {"sentinel://u:p@s1/m", creds},
        {"unix://:pw@/tmp/r.sock", creds},
        {"unix:///tmp/r.sock?password=x", creds},
        {"http://h:6379", "must start with redis://, unix:// or sentinel://"},
        {"h:6379", "must start with redis://, unix:// or sentinel://"},
        {"rediss://h", "must start with redis://, unix:// or sentinel://"},
        {"redis://", "missing or overlong host"},
        {"redis://:6379", "missing or overlong host"},
        {"redis://h:0", "port must be an integer 1-65535"},
        {"redis://h:65536", "port must be an integer 1-65535"},
        {"redis://h:63x", "port must be an integer 1-65535"},
        {"redis://h:", "port must be an integer 1-65535"},
        {"redis://h/x", "db must be a non-negative integer"},
        {"redis://h/-1", "db must be a non-negative integer"},
        {"redis://h/0/1", "db must be a non-negative integer"},
        {"redis://h?db=1", "bad host name"},
        {"redis://bad host", "bad host name"},
        {"redis://[::1", "bad IPv6 address"},
        {"redis://[1.2.3.4]:6379", "bad IPv6 address"},
        {"redis://[::1]6379", "expected ':' after the IPv6 address"},
        {"unix://tmp/r.sock", "the socket path must be absolute (unix:///path/to.sock)"},
        {"unix://", "the socket path must be absolute (unix:///path/to.sock)"},
        {"unix:///tmp/r.sock?x=1", "the only parameter is db=N"},
        {"unix:///tmp/r.sock?db=", "the only parameter is db=N"},
        {"unix:///tmp/r.sock?db=a", "db must be a non-negative integer"},
        {"sentinel://s1", "missing or bad master name (sentinel://host:port/master)"},
        {"sentinel://s1/", "missing or bad master name (sentinel://host:port/master)"},
        {"sentinel://s1,/m", "missing or overlong host"},
        {"sentinel:///m", "missing or overlong host"},
        {"sentinel://s1/m/x", "db must be a non-negative integer"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cfg_redis_target t;
        char *cause = NULL;
        if (cfg_redis_parse(cases[i].url, &t, &cause))
            fail_msg("%s: accepted", cases[i].url);
        assert_non_null(cause);
        if (strcmp(cause, cases[i].reason) != 0)
            fail_msg("%s: got \"%s\"", cases[i].url, cause);
        assert_null(t.addrs);
        free(cause);
    }
    char *long_path = xasprintf("unix:///%0120d.sock", 0);
    struct cfg_redis_target t;
    char *cause = NULL;
    assert_false(cfg_redis_parse(long_path, &t, &cause));
    assert_string_equal(cause, "the socket path is longer than 107 bytes");
    free(cause);
    free(long_path);
}

static void test_redis_in_file(void **state)
{
    struct cfg c;
    (void)state;

    expect_error("# x\nredis = redis://:hunter2@127.0.0.1:6379/0\n",
                 "vetd.conf:2: redis: credentials in the URL are not allowed; use redis_user and "
                 "redis_password_file");
    expect_ok(&c, "redis = unix:///run/redis.sock?db=2\n");
    assert_string_equal(c.redis, "unix:///run/redis.sock?db=2");
    cfg_free(&c);
}

static void test_missing_file(void **state)
{
    struct cfg c;
    char *cause = NULL;
    (void)state;

    cfg_defaults(&c);
    assert_false(cfg_load(&c, "nonexistent.conf", &cause));
    assert_string_equal(cause, "nonexistent.conf: No such file or directory");
    free(cause);
    assert_false(cfg_load(&c, ".", &cause));
    assert_string_equal(cause, ".: Is a directory");
    free(cause);
    cfg_free(&c);
}

static void test_set(void **state)
{
    struct cfg c;
    char *cause = NULL;
    (void)state;

    cfg_defaults(&c);
    assert_true(cfg_set(&c, "instance", "vetd@blue", &cause));
    assert_string_equal(c.instance, "vetd@blue");
    assert_true(cfg_set(&c, "redis", "unix:///tmp/x.sock", &cause));
    assert_string_equal(c.redis, "unix:///tmp/x.sock");
    assert_false(cfg_set(&c, "instance", "a b", &cause));
    assert_string_equal(cause, "instance: must be 1-64 of A-Z a-z 0-9 . _ @ -");
    assert_string_equal(c.instance, "vetd@blue");
    free(cause);
    assert_false(cfg_set(&c, "redis", "redis://u:p@h", &cause));
    assert_string_equal(cause, "redis: credentials in the URL are not allowed; use redis_user "
                               "and redis_password_file");
    free(cause);
    assert_false(cfg_set(&c, "instanse", "x", &cause));
    assert_string_equal(cause, "instanse: unknown key (did you mean instance?)");
    free(cause);
    cfg_free(&c);
}

struct restart_log {
    char names[256];
};

static void record_restart(const char *key, void *arg)
{
    struct restart_log *r = arg;
    strcat(r->names, key);
    strcat(r->names, ",");
}

static void test_reload(void **state)
{
    struct cfg cur, fresh;
    struct restart_log r = {""};
    (void)state;

    cfg_defaults(&cur);
    expect_ok(&fresh, "redis = redis://10.0.0.9/1\n"
                      "redis_user = alice\n"
                      "instance = other\n"
                      "roles_dir = /srv/roles\n"
                      "batch_size = 8\n"
                      "max_payload_bytes = 2048\n"
                      "max_deliveries = 2\n"
                      "heartbeat_interval_ms = 2000\n"
                      "reconnect_max_ms = 100\n"
                      "shutdown_timeout_ms = 1\n"
                      "min_replicas_ack = 1\n"
                      "metrics_listen =\"\"\n"
                      "log_level = error\n");
    cfg_apply_reload(&cur, &fresh, record_restart, &r);
    assert_string_equal(r.names, "redis,redis_user,instance,heartbeat_interval_ms,metrics_listen,");
    /* Reloadable keys are copied. */
    assert_string_equal(cur.roles_dir, "/srv/roles");
    assert_int_equal(cur.batch_size, 8);
    assert_int_equal(cur.max_payload_bytes, 2048);
    assert_int_equal(cur.max_deliveries, 2);
    assert_int_equal(cur.reconnect_max_ms, 100);
    assert_int_equal(cur.shutdown_timeout_ms, 1);
    assert_int_equal(cur.min_replicas_ack, 1);
    assert_int_equal(cur.log_level, CFG_LOG_ERROR);
    /* The others keep their old values. */
    assert_string_equal(cur.redis, "redis://127.0.0.1:6379/0");
    assert_null(cur.redis_user);
    assert_int_equal(cur.heartbeat_interval_ms, 1000);
    assert_string_equal(cur.metrics_listen, "127.0.0.1:9464");
    assert_string_not_equal(cur.instance, "other");

    /* Nothing changed: nothing reported. */
    r.names[0] = '\0';
    cfg_apply_reload(&cur, &cur, record_restart, &r);
    assert_string_equal(r.names, "");
    cfg_free(&cur);
    cfg_free(&fresh);
}

static void test_password(void **state)
{
    struct cfg c;
    char *cause = (char *)"unchanged";
    (void)state;

    cfg_defaults(&c);
    assert_null(cfg_read_password(&c, &cause));
    assert_null(cause);
    assert_false(cfg_password_world_readable(&c));

    c.redis_password_file = xstrdup("password");
    write_file("password", "s3cret pass\r\nsecond line\n");
    char *pw = cfg_read_password(&c, &cause);
    assert_string_equal(pw, "s3cret pass");
    assert_null(cause);
    free(pw);

    write_file("password", "nonl");
    pw = cfg_read_password(&c, &cause);
    assert_string_equal(pw, "nonl");
    free(pw);

    assert_int_equal(chmod("password", 0600), 0);
    assert_false(cfg_password_world_readable(&c));
    assert_int_equal(chmod("password", 0644), 0);
    assert_true(cfg_password_world_readable(&c));

    write_file("password", "\n");
    assert_null(cfg_read_password(&c, &cause));
    assert_string_equal(cause, "password: the password is empty");
    free(cause);

    unlink("password");
    assert_null(cfg_read_password(&c, &cause));
    assert_string_equal(cause, "password: No such file or directory");
    free(cause);
    cfg_free(&c);
}

/* Errors about a password file set in vetd.conf name the line to fix. */
static void test_password_error_names_line(void **state)
{
    struct cfg c;
    char *cause = NULL;
    (void)state;

    expect_ok(&c, "# x\n\nredis_password_file = missing-pw\n");
    assert_null(cfg_read_password(&c, &cause));
    assert_string_equal(cause,
                        "vetd.conf:3: redis_password_file: missing-pw: No such file or directory");
    free(cause);
    cfg_free(&c);

    write_file("password", "\n");
    expect_ok(&c, "redis_password_file = password\n");
    assert_null(cfg_read_password(&c, &cause));
    assert_string_equal(cause, "vetd.conf:1: redis_password_file: password: the password is empty");
    free(cause);
    cfg_free(&c);
    unlink("password");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_instance_default_is_host_name),
        cmocka_unit_test(test_every_key_parsed),
        cmocka_unit_test(test_error_names_full_path),
        cmocka_unit_test(test_example_file_is_generated),
        cmocka_unit_test(test_example_file_loads),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_crlf_and_spacing),
        cmocka_unit_test(test_repeated_key),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strtonum),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_ttl_cross_check),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_metrics_listen),
        cmocka_unit_test(test_redis_urls_good),
        cmocka_unit_test(test_redis_sentinel_addrs),
        cmocka_unit_test(test_redis_urls_bad),
        cmocka_unit_test(test_redis_in_file),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_password_error_names_line),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
