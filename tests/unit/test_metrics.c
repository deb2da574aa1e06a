/* Unit tests of the metrics module: the text exposition is parsed strictly
 * (format 0.0.4) and checked against the calls made; no sockets. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* The module lives with the daemon, which the unit tests do not link. */
#include "../../src/vetd/metrics.c"

#define MAX_FAMILIES 32
#define MAX_SAMPLES 128

struct sample {
    char name[64];
    char labels[128]; /* raw text between the braces, "" when none */
    double value;
};

struct family {
    char name[64];
    char type[16];
    int help, typed;
};

struct parsed {
    struct family fam[MAX_FAMILIES];
    int nfam;
    struct sample s[MAX_SAMPLES];
    int ns;
};

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    }
    return true;
}

static struct family *family_get(struct parsed *p, const char *name, size_t n)
{
    for (int i = 0; i < p->nfam; i++) {
        if (strlen(p->fam[i].name) == n && strncmp(p->fam[i].name, name, n) == 0)
            return &p->fam[i];
    }
    assert_true(p->nfam < MAX_FAMILIES);
    assert_true(n < sizeof p->fam[0].name);
    memcpy(p->fam[p->nfam].name, name, n);
    return &p->fam[p->nfam++];
}

/* "# HELP name text" or "# TYPE name type"; each at most once per family,
 * TYPE before the family's first sample. */
static void parse_comment(struct parsed *p, const char *line)
{
    bool help = strncmp(line, "# HELP ", 7) == 0;
    const char *name = line + 7, *sp;
    struct family *f;

    assert_true(help || strncmp(line, "# TYPE ", 7) == 0);
    sp = strchr(name, ' ');
    assert_non_null(sp);
    assert_true(name_ok(name, (size_t)(sp - name)));
    f = family_get(p, name, (size_t)(sp - name));
    if (help) {
        assert_int_equal(f->help, 0);
        f->help = 1;
        assert_true(strlen(sp + 1) > 0);
        return;
    }
    assert_int_equal(f->typed, 0);
    f->typed = 1;
    assert_true(strcmp(sp + 1, "counter") == 0 || strcmp(sp + 1, "gauge") == 0 ||
                strcmp(sp + 1, "histogram") == 0);
    strcpy(f->type, sp + 1);
}

/* label="value"(,label="value")* with the escapes \\ \" \n only. */
static void check_labels(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '=')
            i++;
        assert_true(name_ok(s + start, i - start));
        assert_true(i + 1 < n && s[i + 1] == '"');
        for (i += 2; i < n && s[i] != '"'; i++) {
            if (s[i] == '\\') {
                assert_true(i + 1 < n && strchr("\\\"n", s[i + 1]) != NULL);
                i++;
            }
        }
        assert_true(i < n);
        i++;
        if (i < n) {
            assert_int_equal(s[i], ',');
            i++;
        }
    }
}

/* The family a sample belongs to: histogram samples carry a suffix. */
static struct family *sample_family(struct parsed *p, const char *name)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    size_t n = strlen(name);

    for (int i = 0; i < p->nfam; i++) {
        if (strcmp(p->fam[i].name, name) == 0)
            return &p->fam[i];
    }
    for (size_t k = 0; k < 3; k++) {
        size_t sl = strlen(suffixes[k]);
        if (n > sl && strcmp(name + n - sl, suffixes[k]) == 0) {
            for (int i = 0; i < p->nfam; i++) {
                if (strlen(p->fam[i].name) == n - sl &&
                    strncmp(p->fam[i].name, name, n - sl) == 0 &&
                    strcmp(p->fam[i].type, "histogram") == 0)
                    return &p->fam[i];
            }
        }
    }
    return NULL;
}

static void parse_sample(struct parsed *p, const char *line)
{
    struct sample *s;
    const char *brace = strchr(line, '{'), *sp, *close;
    size_t nlen;
    char *end;

    assert_true(p->ns < MAX_SAMPLES);
    s = &p->s[p->ns++];
    sp = strchr(line, ' ');
    assert_non_null(sp);
    if (brace != NULL && brace < sp) {
        close = strstr(brace, "} ");
        assert_non_null(close);
        check_labels(brace + 1, (size_t)(close - brace - 1));
        assert_true((size_t)(close - brace - 1) < sizeof s->labels);
        memcpy(s->labels, brace + 1, (size_t)(close - brace - 1));
        nlen = (size_t)(brace - line);
        sp = close + 1;
    } else {
        nlen = (size_t)(sp - line);
    }
    assert_true(name_ok(line, nlen) && nlen < sizeof s->name);
    memcpy(s->name, line, nlen);
    assert_non_null(sample_family(p, s->name));
    assert_int_equal(sample_family(p, s->name)->typed, 1);
    s->value = strtod(sp + 1, &end);
    assert_true(end != sp + 1 && *end == '\0'); /* no timestamp, nothing after */
}

static void parse(struct parsed *p, const char *text)
{
    const char *line = text, *nl;
    char buf[512];

    memset(p, 0, sizeof *p);
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    for (; *line != '\0'; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_true(nl != NULL && nl > line && (size_t)(nl - line) < sizeof buf);
        memcpy(buf, line, (size_t)(nl - line));
        buf[nl - line] = '\0';
        if (buf[0] == '#')
            parse_comment(p, buf);
        else
            parse_sample(p, buf);
    }
    for (int i = 0; i < p->nfam; i++)
        assert_true(p->fam[i].help == 1 && p->fam[i].typed == 1);
}

static double value_of(const struct parsed *p, const char *name, const char *labels)
{
    for (int i = 0; i < p->ns; i++) {
        if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, labels) == 0)
            return p->s[i].value;
    }
    fail_msg("no sample %s{%s}", name, labels);
    return -1;
}

static bool has_sample(const struct parsed *p, const char *name, const char *labels)
{
    for (int i = 0; i < p->ns; i++) {
        if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, labels) == 0)
            return true;
    }
    return false;
}

static struct parsed *render_parse(const struct metrics *m)
{
    static struct parsed p;
    char *text = metrics_render(m);

    parse(&p, text);
    free(text);
    return &p;
}

static void test_fresh_render(void **state)
{
    struct metrics *m = metrics_new("1.2.3");
    struct parsed *p;

    (void)state;
    p = render_parse(m);
    assert_int_equal(p->nfam, 6);
    for (size_t i = 0; i < METRICS_NOUTCOMES; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", metrics_outcomes[i]);
        assert_true(value_of(p, "vetd_submissions_total", labels) == 0);
    }
    assert_true(value_of(p, "vetd_processing_seconds_count", "") == 0);
    assert_true(value_of(p, "vetd_processing_seconds_bucket", "le=\"+Inf\"") == 0);
    assert_true(value_of(p, "vetd_redis_connected", "") == 0);
    assert_true(value_of(p, "vetd_build_info", "version=\"1.2.3\"") == 1);
    /* Queue depths are unknown until the first refresh. */
    assert_false(has_sample(p, "vetd_queue_depth", "queue=\"submissions\""));
    metrics_free(m);
}

static void test_counters_follow_calls(void **state)
{
    struct metrics *m = metrics_new("1.2.3");
    struct parsed *p;

    (void)state;
    for (int i = 0; i < 3; i++)
        metrics_count_outcome(m, "qualified");
    metrics_count_outcome(m, "poison");
    metrics_count_outcome(m, "no_such_outcome");
    metrics_set_connected(m, true);
    metrics_inc_reconnects(m);
    metrics_inc_reconnects(m);
    metrics_set_queue_depth(m, "dead", 7);
    metrics_set_queue_depth(m, "submissions", 0);
    metrics_set_queue_depth(m, "elsewhere", 9);
    p = render_parse(m);
    assert_true(value_of(p, "vetd_submissions_total", "outcome=\"qualified\"") == 3);
    assert_true(value_of(p, "vetd_submissions_total", "outcome=\"poison\"") == 1);
    assert_true(value_of(p, "vetd_submissions_total", "outcome=\"duplicate\"") == 0);
    assert_false(has_sample(p, "vetd_submissions_total", "outcome=\"no_such_outcome\""));
    assert_true(value_of(p, "vetd_redis_connected", "") == 1);
    assert_true(value_of(p, "vetd_redis_reconnects_total", "") == 2);
    assert_true(value_of(p, "vetd_queue_depth", "queue=\"dead\"") == 7);
    assert_true(value_of(p, "vetd_queue_depth", "queue=\"submissions\"") == 0);
    assert_false(has_sample(p, "vetd_queue_depth", "queue=\"elsewhere\""));
    assert_int_equal(metrics_outcome_total(m, "qualified"), 3);
    assert_int_equal(metrics_outcome_total(m, "no_such_outcome"), 0);
    metrics_free(m);
}

static void test_histogram_cumulative(void **state)
{
    static const double obs[] = {0.00005, 0.0001, 0.003, 0.003, 0.7, 11.0, 42.0, -1.0};
    struct metrics *m = metrics_new("1.2.3");
    struct parsed *p;
    double prev = 0, sum = 0, bound_prev = -1;
    int nbuckets = 0;

    (void)state;
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
        metrics_observe_processing(m, obs[i]);
        sum += obs[i] < 0 ? 0 : obs[i];
    }
    p = render_parse(m);
    for (int i = 0; i < p->ns; i++) {
        double le;
        if (strcmp(p->s[i].name, "vetd_processing_seconds_bucket") != 0)
            continue;
        assert_true(strncmp(p->s[i].labels, "le=\"", 4) == 0);
        le = strcmp(p->s[i].labels, "le=\"+Inf\"") == 0 ? INFINITY
                                                        : strtod(p->s[i].labels + 4, NULL);
        assert_true(le > bound_prev);       /* bounds ascend */
        assert_true(p->s[i].value >= prev); /* counts are cumulative */
        bound_prev = le;
        prev = p->s[i].value;
        nbuckets++;
    }
    assert_int_equal(nbuckets, METRICS_NBUCKETS + 1);
    assert_true(isinf(bound_prev));
    assert_true(prev == value_of(p, "vetd_processing_seconds_count", ""));
    assert_true(prev == 8);
    assert_true(value_of(p, "vetd_processing_seconds_bucket", "le=\"0.0001\"") == 3);
    assert_true(value_of(p, "vetd_processing_seconds_bucket", "le=\"0.005\"") == 5);
    assert_true(value_of(p, "vetd_processing_seconds_bucket", "le=\"10\"") == 6);
    assert_true(fabs(value_of(p, "vetd_processing_seconds_sum", "") - sum) < 1e-9);
    metrics_free(m);
}

static void test_label_escaping(void **state)
{
    struct metrics *m = metrics_new("1.0 \"odd\"\\\nbuild");
    struct parsed *p;

    (void)state;
    p = render_parse(m);
    assert_true(value_of(p, "vetd_build_info", "version=\"1.0 \\\"odd\\\"\\\\\\nbuild\"") == 1);
    metrics_free(m);
}

static void test_parse_listen(void **state)
{
    static const char *const bad[] = {"",   "host",  ":9464",     "h:0",     "h:65536", "h:-1",
                                      "h:", "::1:9", "[::1]9464", "[]:9464", "h:12x",   "h:+5"};
    unsigned short port;
    char *host = NULL, *cause = NULL;

    (void)state;
    assert_true(metrics_parse_listen("127.0.0.1:9464", &host, &port, &cause));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    free(host);
    assert_true(metrics_parse_listen("[::1]:80", &host, &port, &cause));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 80);
    free(host);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(metrics_parse_listen(bad[i], &host, &port, &cause));
        assert_non_null(strstr(cause, "metrics_listen"));
        free(cause);
        cause = NULL;
    }
}

static void test_empty_listen_is_off(void **state)
{
    struct metrics *m = metrics_new("1.2.3");
    char *cause = NULL;

    (void)state;
    /* No event base is needed when serving is off. */
    assert_true(metrics_http_start(m, NULL, "", NULL, NULL, &cause));
    assert_null(cause);
    assert_null(m->http);
    metrics_http_stop(m);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_render),         cmocka_unit_test(test_counters_follow_calls),
        cmocka_unit_test(test_histogram_cumulative), cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_parse_listen),         cmocka_unit_test(test_empty_listen_is_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
