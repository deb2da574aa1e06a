/* vetd's Prometheus metrics (SPEC §7): the counters and gauges the daemon
 * updates, their text exposition (format 0.0.4), and the small evhttp
 * server that answers /metrics and /healthz on the daemon's event loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "buf.h"
#include "xmalloc.h"

#include "metrics.h"

/* Every outcome of SPEC §3, declared up front so each renders (as 0) from
 * the first scrape on: a rate() over a series that appears late misses
 * its first increments. */
static const char *const metrics_outcomes[] = {
    "qualified",    "not_qualified", "duplicate",   "too_large",     "bad_utf8",
    "not_json",     "too_deep",      "not_object",  "missing_field", "bad_field",
    "unknown_role", "no_consent",    "id_conflict", "poison",
};
#define METRICS_NOUTCOMES (sizeof metrics_outcomes / sizeof metrics_outcomes[0])

static const char *const metrics_queues[] = {"submissions", "processing", "dead", "notifications"};
#define METRICS_NQUEUES (sizeof metrics_queues / sizeof metrics_queues[0])

/* Buckets of vetd_processing_seconds: scoring one submission takes tens
 * of microseconds, a settlement round trip a millisecond or so, and a
 * stalled Redis seconds; the label text is kept beside the bound so that
 * `le` is always written the same way. */
static const double metrics_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
static const char *const metrics_bound_labels[] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5",    "10"};
#define METRICS_NBUCKETS (sizeof metrics_bounds / sizeof metrics_bounds[0])

/* Bounds on the HTTP side, so that a scraper (or anyone who can reach the
 * port) can never hold the loop: few connections, small requests, short
 * timeouts. */
#define METRICS_MAX_CONNS 16
#define METRICS_MAX_PENDING 64 /* one accept callback may take several */
#define METRICS_TIMEOUT_SEC 5
#define METRICS_MAX_HEADERS 8192
/* Nothing here takes a body, but evhttp checks the body size before our
 * callback sees the method: a small allowance lets a POST or PUT with a
 * body get its 405 (and its Allow header) rather than a 413. */
#define METRICS_MAX_BODY 4096

/* The HTTP server. Connections are counted from the moment evhttp asks
 * for their bufferevent until their close callback; "pending" holds the
 * bufferevents of connections accepted in this loop turn whose close
 * callback is not set yet (see metrics_http_new_bev). */
struct metrics_http {
    struct metrics *m;
    struct evhttp *http;
    struct evconnlistener *listener; /* owned by http */
    struct event *adopt;             /* sets the close callbacks of pending */
    metrics_health_fn health;
    void *health_arg;
    struct bufferevent *pending[METRICS_MAX_PENDING];
    int npending;
    int nconns;
    bool paused; /* listener disabled at the connection cap */
};

struct metrics {
    char *version;
    unsigned long long outcomes[METRICS_NOUTCOMES];
    unsigned long long buckets[METRICS_NBUCKETS]; /* per bucket, not cumulative */
    unsigned long long observations;
    double sum;
    long long queues[METRICS_NQUEUES];
    bool queue_known[METRICS_NQUEUES];
    bool connected;
    unsigned long long reconnects;
    struct metrics_http *http; /* NULL when not serving */
};

static int metrics_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

struct metrics *metrics_new(const char *version)
{
    struct metrics *m = xcalloc(1, sizeof *m);

    m->version = xstrdup(version);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    metrics_http_stop(m);
    free(m->version);
    free(m);
}

/* An outcome outside SPEC §3 is not counted: inventing a label value here
 * would hide the caller's typo from the tests that compare the totals. */
void metrics_count_outcome(struct metrics *m, const char *outcome)
{
    int i = metrics_index(metrics_outcomes, METRICS_NOUTCOMES, outcome);

    if (i >= 0)
        m->outcomes[i]++;
}

void metrics_observe_processing(struct metrics *m, double seconds)
{
    size_t i;

    if (!(seconds >= 0)) /* also NaN */
        seconds = 0;
    for (i = 0; i < METRICS_NBUCKETS; i++) {
        if (seconds <= metrics_bounds[i])
            break;
    }
    if (i < METRICS_NBUCKETS)
        m->buckets[i]++;
    m->observations++;
    m->sum += seconds;
}

void metrics_set_queue_depth(struct metrics *m, const char *queue, long long depth)
{
    int i = metrics_index(metrics_queues, METRICS_NQUEUES, queue);

    if (i < 0)
        return;
    m->queues[i] = depth;
    m->queue_known[i] = true;
}

void metrics_set_connected(struct metrics *m, bool connected)
{
    m->connected = connected;
}

void metrics_inc_reconnects(struct metrics *m)
{
    m->reconnects++;
}

unsigned long long metrics_outcome_total(const struct metrics *m, const char *outcome)
{
    int i = metrics_index(metrics_outcomes, METRICS_NOUTCOMES, outcome);

    return i < 0 ? 0 : m->outcomes[i];
}

/* ---- text exposition ---------------------------------------------------- */

static void metrics_family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped as the format requires. */
static void metrics_label_value(struct buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            buf_addc(b, '\\');
        if (*s == '\n')
            buf_adds(b, "\\n");
        else
            buf_addc(b, *s);
    }
}

static void metrics_render_outcomes(struct buf *b, const struct metrics *m)
{
    metrics_family(b, "vetd_submissions_total", "counter",
                   "Submissions settled, by outcome (accepted verdict, duplicate or "
                   "rejection code).");
    for (size_t i = 0; i < METRICS_NOUTCOMES; i++)
        buf_printf(b, "vetd_submissions_total{outcome=\"%s\"} %llu\n", metrics_outcomes[i],
                   m->outcomes[i]);
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void metrics_float(struct buf *b, double v)
{
    char text[64];

    snprintf(text, sizeof text, "%.15g", v);
    if (strtod(text, NULL) != v)
        snprintf(text, sizeof text, "%.17g", v);
    buf_adds(b, text);
}

static void metrics_render_histogram(struct buf *b, const struct metrics *m)
{
    unsigned long long cumulative = 0;

    metrics_family(b, "vetd_processing_seconds", "histogram",
                   "Time from taking a submission to settling it.");
    for (size_t i = 0; i < METRICS_NBUCKETS; i++) {
        cumulative += m->buckets[i];
        buf_printf(b, "vetd_processing_seconds_bucket{le=\"%s\"} %llu\n", metrics_bound_labels[i],
                   cumulative);
    }
    buf_printf(b, "vetd_processing_seconds_bucket{le=\"+Inf\"} %llu\n", m->observations);
    buf_adds(b, "vetd_processing_seconds_sum ");
    metrics_float(b, m->sum);
    buf_addc(b, '\n');
    buf_printf(b, "vetd_processing_seconds_count %llu\n", m->observations);
}

static void metrics_render_gauges(struct buf *b, const struct metrics *m)
{
    metrics_family(b, "vetd_queue_depth", "gauge",
                   "Length of each queue, refreshed on the maintenance tick.");
    for (size_t i = 0; i < METRICS_NQUEUES; i++) {
        if (m->queue_known[i])
            buf_printf(b, "vetd_queue_depth{queue=\"%s\"} %lld\n", metrics_queues[i], m->queues[i]);
    }
    metrics_family(b, "vetd_redis_connected", "gauge",
                   "1 while both Redis connections are up, else 0.");
    buf_printf(b, "vetd_redis_connected %d\n", m->connected ? 1 : 0);
    metrics_family(b, "vetd_redis_reconnects_total", "counter",
                   "Reconnections to Redis after a lost connection.");
    buf_printf(b, "vetd_redis_reconnects_total %llu\n", m->reconnects);
    metrics_family(b, "vetd_build_info", "gauge", "The running vetd version; always 1.");
    buf_adds(b, "vetd_build_info{version=\"");
    metrics_label_value(b, m->version);
    buf_adds(b, "\"} 1\n");
}

char *metrics_render(const struct metrics *m)
{
    struct buf b = BUF_INIT;

    metrics_render_outcomes(&b, m);
    metrics_render_histogram(&b, m);
    metrics_render_gauges(&b, m);
    return buf_steal(&b);
}

/* ---- HTTP ----------------------------------------------------------------- */

static void metrics_http_reply(struct evhttp_request *req, int code, const char *reason,
                               const char *ctype, const char *body)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);

    if (out == NULL) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add(out, body, strlen(body));
    evhttp_add_header(headers, "Content-Type", ctype);
    evhttp_add_header(headers, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static void metrics_http_metrics(struct evhttp_request *req, struct metrics_http *h)
{
    char *text = metrics_render(h->m);

    metrics_http_reply(req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", text);
    free(text);
}

static void metrics_http_healthz(struct evhttp_request *req, struct metrics_http *h)
{
    const char *reason = "unhealthy";
    char *body;

    if (h->health == NULL || h->health(h->health_arg, &reason)) {
        metrics_http_reply(req, HTTP_OK, "OK", "text/plain; charset=utf-8", "ok\n");
        return;
    }
    body = xasprintf("%s\n", reason != NULL ? reason : "unhealthy");
    metrics_http_reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8", body);
    free(body);
}

/* Every request lands here: the method is checked by us rather than by
 * evhttp_set_allowed_methods, which would answer 501 instead of 405. */
static void metrics_http_request(struct evhttp_request *req, void *arg)
{
    struct metrics_http *h = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        metrics_http_reply(req, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                           "method not allowed\n");
        return;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > 0) {
        /* GET with a body: nothing here reads one (larger ones never get
         * this far: METRICS_MAX_BODY). */
        metrics_http_reply(req, 413, "Payload Too Large", "text/plain; charset=utf-8",
                           "no request body is accepted\n");
        return;
    }
    if (path != NULL && strcmp(path, "/metrics") == 0)
        metrics_http_metrics(req, h);
    else if (path != NULL && strcmp(path, "/healthz") == 0)
        metrics_http_healthz(req, h);
    else
        metrics_http_reply(req, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8",
                           "not found\n");
}

/* A connection is gone (closed by either side, timed out, or freed by
 * evhttp_free): evhttp calls this once per connection, synchronously. */
static void metrics_http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct metrics_http *h = arg;

    evhttp_connection_set_closecb(evcon, NULL, NULL); /* never count it twice */
    h->nconns--;
    if (h->listener != NULL && h->paused && h->nconns < METRICS_MAX_CONNS) {
        evconnlistener_enable(h->listener);
        h->paused = false;
    }
}

/* Runs after the accept callback that created the pending bufferevents has
 * returned: by then evhttp has made each one's connection and installed
 * its callbacks with the connection as their argument. */
static void metrics_http_adopt(evutil_socket_t fd, short what, void *arg)
{
    struct metrics_http *h = arg;
    void *evcon;

    (void)fd;
    (void)what;
    for (int i = 0; i < h->npending; i++) {
        evcon = NULL;
        bufferevent_getcb(h->pending[i], NULL, NULL, NULL, &evcon);
        if (evcon != NULL)
            evhttp_connection_set_closecb(evcon, metrics_http_conn_closed, h);
    }
    h->npending = 0;
}

/* evhttp 2.1 has no connection limit and never hands an idle connection
 * (one that sends no request) to the server's callbacks. It does ask us
 * for every connection's bufferevent, though: we count the connection
 * here, stop accepting at the cap (the kernel backlog holds the rest),
 * and in the same loop turn, once evhttp has finished setting the
 * connection up, attach a close callback that gives the slot back.
 * Between the two nothing can free the connection: its socket has not
 * been polled yet. */
static struct bufferevent *metrics_http_new_bev(struct event_base *base, void *arg)
{
    struct metrics_http *h = arg;
    struct bufferevent *bev;

    if (h->npending >= METRICS_MAX_PENDING)
        return NULL; /* evhttp makes its own: one connection goes uncounted */
    bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL;
    h->pending[h->npending++] = bev;
    event_active(h->adopt, EV_TIMEOUT, 0);
    h->nconns++;
    if (h->nconns >= METRICS_MAX_CONNS && !h->paused) {
        evconnlistener_disable(h->listener);
        h->paused = true;
    }
    return bev;
}

/* Split "host:port" or "[v6]:port"; the host is returned in host (caller
 * frees). */
static bool metrics_parse_listen(const char *listen, char **host, unsigned short *port,
                                 char **cause)
{
    const char *colon, *hs = listen, *he;
    char *end;
    long p;

    if (listen[0] == '[') {
        he = strchr(listen, ']');
        if (he == NULL || he[1] != ':')
            goto bad;
        hs = listen + 1;
        colon = he + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || memchr(listen, ':', (size_t)(colon - listen)) != NULL)
            goto bad;
        he = colon;
    }
    if (he == hs || colon[1] == '\0')
        goto bad;
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535 || colon[1] == '+' || colon[1] == '-')
        goto bad;
    *host = xstrndup(hs, (size_t)(he - hs));
    *port = (unsigned short)p;
    return true;
bad:
    *cause = xasprintf("metrics_listen: \"%s\" is not host:port or [v6]:port", listen);
    return false;
}

/* evhttp_free closes the listener and then every connection, running
 * their close callbacks while h is still valid. */
static void metrics_http_free(struct metrics_http *h)
{
    h->listener = NULL; /* evhttp_free frees it before the connections */
    if (h->http != NULL)
        evhttp_free(h->http);
    if (h->adopt != NULL)
        event_free(h->adopt);
    free(h);
}

static struct metrics_http *metrics_http_new(struct event_base *base, metrics_health_fn health,
                                             void *health_arg)
{
    struct metrics_http *h = xcalloc(1, sizeof *h);

    h->http = evhttp_new(base);
    h->adopt = event_new(base, -1, 0, metrics_http_adopt, h);
    if (h->http == NULL || h->adopt == NULL) {
        metrics_http_free(h);
        return NULL;
    }
    h->health = health;
    h->health_arg = health_arg;
    evhttp_set_gencb(h->http, metrics_http_request, h);
    evhttp_set_bevcb(h->http, metrics_http_new_bev, h);
    evhttp_set_timeout(h->http, METRICS_TIMEOUT_SEC);
    evhttp_set_max_headers_size(h->http, METRICS_MAX_HEADERS);
    evhttp_set_max_body_size(h->http, METRICS_MAX_BODY);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
    return h;
}

bool metrics_http_start(struct metrics *m, struct event_base *base, const char *listen,
                        metrics_health_fn health, void *health_arg, char **cause)
{
    struct evhttp_bound_socket *bound;
    struct metrics_http *h;
    unsigned short port;
    char *host;

    if (listen == NULL || listen[0] == '\0')
        return true;
    if (m->http != NULL) {
        *cause = xstrdup("metrics_listen: already serving");
        return false;
    }
    if (!metrics_parse_listen(listen, &host, &port, cause))
        return false;
    h = metrics_http_new(base, health, health_arg);
    if (h == NULL) {
        free(host);
        *cause = xstrdup("metrics_listen: cannot create the HTTP server");
        return false;
    }
    errno = 0;
    bound = evhttp_bind_socket_with_handle(h->http, host, port);
    if (bound == NULL) {
        *cause = xasprintf("metrics_listen: cannot listen on %s: %s", listen,
                           errno ? strerror(errno) : "cannot resolve or bind");
        free(host);
        metrics_http_free(h);
        return false;
    }
    free(host);
    h->listener = evhttp_bound_socket_get_listener(bound);
    h->m = m;
    m->http = h;
    return true;
}

void metrics_http_stop(struct metrics *m)
{
    if (m->http == NULL)
        return;
    metrics_http_free(m->http);
    m->http = NULL;
}
