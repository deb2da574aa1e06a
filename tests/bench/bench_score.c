/* Benchmark of the scoring path: a generated corpus of realistic ~3 KB
 * profiles, scored in full (strict check, parse, validation, scoring and
 * the analysis JSON) and, in the same run, only parsed by json-c as the
 * baseline; prints the median profiles/s of each and their ratio.
 *
 * usage: bench_score [N [ROLES_DIR [RUNS]]]   (defaults 2000, conf/roles, 7) */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "role.h"
#include "score.h"
#include "submission.h"
#include "xmalloc.h"

#define MAX_BYTES 262144

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* splitmix64: small, fast and the same on every machine. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t pick(size_t n)
{
    return (size_t)(rng() % n);
}

#define PICK(arr) (arr[pick(sizeof arr / sizeof arr[0])])

static const char *const first_names[] = {
    "Ana",   "Ben",   "Chloé",  "Dmitri", "Emeka", "Fatima", "Gustavo", "Hana", "Ivan",  "Jana",
    "Kwame", "Lucía", "Mehmet", "Nora",   "Oskar", "Priya",  "Quentin", "Rosa", "Søren", "Tariq",
};
static const char *const last_names[] = {
    "Novak",  "García", "Okafor",  "Schmidt",  "Tanaka", "Rossi",   "Kowalski",  "Haddad", "Jensen",
    "Moreau", "Silva",  "Ivanova", "Nakamura", "Dubois", "Adeyemi", "Lindqvist", "Müller",
};
static const char *const skills[] = {
    "Python",         "Node.js", "TypeScript",    "Go",       "Java",
    "Kotlin",         "SQL",     "PostgreSQL",    "MySQL",    "MongoDB",
    "Redis",          "Kafka",   "RabbitMQ",      "Docker",   "Kubernetes",
    "Terraform",      "AWS",     "GCP",           "Azure",    "REST APIs",
    "GraphQL",        "gRPC",    "Django",        "FastAPI",  "Express.js",
    "Spring Boot",    "Datadog", "Prometheus",    "Grafana",  "CI/CD",
    "GitHub Actions", "Jenkins", "Linux",         "Bash",     "React",
    "Vue.js",         "HTML",    "CSS",           "Figma",    "Excel",
    "Scrum",          "Jira",    "Elasticsearch", "DynamoDB", "Cassandra",
    "Celery",         "OAuth2",  "Microservices", "Git",      "Agile",
};
static const char *const other_skills[] = {
    "Figma", "Photoshop",       "InDesign",    "Excel",         "PowerPoint",       "Salesforce",
    "SAP",   "Tableau",         "Copywriting", "SEO",           "Customer service", "Scrum",
    "Jira",  "Team leadership", "Budgeting",   "Menu planning", "Negotiation",      "HTML",
    "CSS",   "WordPress",
};
static const char *const other_sentences[] = {
    "Managed a team of %d people across two sites and cut overtime by a third.",
    "Ran the %s rollout for the sales department and trained the staff.",
    "Designed the brand identity and packaging for %d product lines.",
    "Wrote weekly newsletters and grew the subscriber list to %d00 readers.",
    "Prepared the monthly reports in %s for the board.",
    "Organised events for up to %d00 guests, from budget to logistics.",
    "Handled supplier negotiations and stock planning with %s.",
    "Answered customer questions by phone and e-mail and kept the knowledge base current.",
};
static const char *const titles[] = {
    "Backend Developer", "Senior Backend Engineer", "Software Engineer", "Full-stack Developer",
    "Platform Engineer", "Data Engineer",           "DevOps Engineer",   "Frontend Developer",
    "Junior Developer",  "Staff Engineer",          "Team Lead",         "QA Engineer",
};
static const char *const companies[] = {
    "Northwind Labs", "Bluefin Payments", "Cargoline", "Mediqo", "Parcelwise", "Tiendas Digitales",
    "Ledgerline",     "Streamly",         "Viajero",   "Kodra",  "Nordvers",   "Pixelbrook",
};
static const char *const sentences[] = {
    "Designed and maintained %s services handling %dK requests/second at peak.",
    "Migrated the main database to %s and cut p99 latency by %d%%.",
    "Built the REST API for the mobile app in %s, with OpenAPI docs and contract tests.",
    "Introduced %s to the team and wrote the onboarding guide for it.",
    "Ran the on-call rotation and the incident reviews for the %s platform.",
    "Split a monolith into %d microservices communicating over Kafka.",
    "Automated deployments with %s; releases went from weekly to daily.",
    "Worked with product and design on the checkout flow of a shop serving %d0K users.",
    "Mentored %d junior engineers and ran the weekly architecture review.",
    "Improved test coverage of the %s codebase from 40%% to 85%%.",
    "Reduced cloud costs by %d%% by right-sizing instances and caching with Redis.",
    "Maintained legacy reports in %s and Excel for the finance team.",
    "Implemented authentication with OAuth 2.0 and JWT, reviewed against the OWASP Top 10.",
    "Set up dashboards and alerts in %s for %d services.",
};

/* The kind of profile being generated: a backend developer, or someone
 * from another field applying anyway (about a third of the corpus). */
static int other_kind;

static const char *any_skill(void)
{
    return other_kind ? PICK(other_skills) : PICK(skills);
}

/* One sentence with its placeholders filled. */
static void add_sentence(struct buf *b)
{
    const char *s = other_kind ? PICK(other_sentences) : PICK(sentences);
    const char *p = strstr(s, "%s");
    const char *d = strstr(s, "%d");
    int num = 2 + (int)pick(30);

    if (p && (!d || p < d))
        buf_printf(b, s, any_skill(), num);
    else if (d)
        buf_printf(b, s, num, any_skill());
    else
        buf_adds(b, s);
    buf_addc(b, ' ');
}

static void add_text(struct buf *json, const char *key, int nsentences, const char *sep)
{
    struct buf t = BUF_INIT;

    for (int i = 0; i < nsentences; i++) {
        add_sentence(&t);
        if (i % 4 == 3)
            buf_adds(&t, sep);
    }
    buf_printf(json, ",\"%s\":", key);
    buf_add_json_str(json, t.data, t.len);
    buf_free(&t);
}

static void add_skills(struct buf *b)
{
    int n = 5 + (int)pick(12);

    buf_adds(b, ",\"skills\":[");
    for (int i = 0; i < n; i++) {
        const char *s = any_skill();
        if (i)
            buf_addc(b, ',');
        buf_add_json_str(b, s, strlen(s));
    }
    buf_addc(b, ']');
}

static void add_experience(struct buf *b)
{
    int n = 1 + (int)pick(4);

    buf_adds(b, ",\"experience\":[");
    for (int i = 0; i < n; i++) {
        buf_printf(b, "%s{\"title\":\"%s\",\"company\":\"%s\",\"years\":%d", i ? "," : "",
                   PICK(titles), PICK(companies), 1 + (int)pick(5));
        add_text(b, "description", 3 + (int)pick(3), "");
        buf_addc(b, '}');
    }
    buf_addc(b, ']');
}

/* One profile of about 3 KB, valid under SPEC §3. */
static char *make_profile(size_t i, size_t *len)
{
    struct buf b = BUF_INIT;
    const char *first = PICK(first_names), *last = PICK(last_names);

    buf_printf(&b, "{\"id\":\"bench-%06zu\",\"role\":\"backend-developer\",", i);
    buf_printf(&b, "\"name\":\"%s %s\",\"email\":\"user%zu@example.com\",\"consent\":true,", first,
               last, i);
    buf_printf(&b, "\"submitted_at\":\"2026-11-28T12:%02zu:%02zuZ\",", i / 60 % 60, i % 60);
    other_kind = pick(3) == 0;
    buf_printf(&b, "\"headline\":\"%s - %s, %s and %s\"", PICK(titles), any_skill(), any_skill(),
               any_skill());
    add_text(&b, "summary", 4 + (int)pick(4), "");
    if (pick(5) != 0)
        buf_printf(&b, ",\"years_experience\":%d", (int)pick(15));
    add_skills(&b);
    add_experience(&b);
    add_text(&b, "cv_text", 10 + (int)pick(12), "\n\n");
    if (pick(2))
        buf_printf(&b, ",\"links\":{\"github\":\"https://github.com/user%zu\"}", i);
    buf_addc(&b, '}');
    *len = b.len;
    return buf_steal(&b);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct corpus {
    char **doc;
    size_t *len;
    size_t n, bytes;
};

static double run_baseline(const struct corpus *c, size_t *sink)
{
    double t0 = now();

    for (size_t i = 0; i < c->n; i++) {
        json_object *o = json_tokener_parse(c->doc[i]);
        *sink += o != NULL;
        json_object_put(o);
    }
    return now() - t0;
}

/* The full path, as vetd runs it per item. Returns -1 on a rejection. */
static double run_full(const struct corpus *c, const struct roleset *rs, size_t *qualified)
{
    double t0 = now();
    char detail[256];

    *qualified = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct submission s;
        struct score_result res;
        enum sub_code code =
            submission_parse(&s, c->doc[i], c->len[i], MAX_BYTES, rs, detail, sizeof detail);
        if (code != SUB_OK) {
            fprintf(stderr, "bench_score: profile %zu rejected: %s: %s\n", i, sub_code_name(code),
                    detail);
            return -1;
        }
        score_submission(roleset_find(rs, s.role), &s, "vetd bench", &res);
        *qualified += res.qualified;
        score_result_free(&res);
        submission_free(&s);
    }
    return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
    const char *dir = argc > 2 ? argv[2] : "conf/roles";
    int runs = argc > 3 ? atoi(argv[3]) : 7;
    struct corpus c = {0};
    char *cause = NULL;
    struct roleset *rs = roleset_load(dir, &cause);
    double base[64], full[64];
    size_t sink = 0, qualified = 0;

    if (rs == NULL) {
        fprintf(stderr, "bench_score: %s\n", cause);
        return 78;
    }
    if (n == 0 || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: bench_score [N [ROLES_DIR [RUNS (1-64)]]]\n");
        return 64;
    }
    c.n = n;
    c.doc = xcalloc(n, sizeof *c.doc);
    c.len = xcalloc(n, sizeof *c.len);
    for (size_t i = 0; i < n; i++) {
        c.doc[i] = make_profile(i, &c.len[i]);
        c.bytes += c.len[i];
    }
    printf("corpus: %zu profiles, %.0f bytes each on average; %d runs\n", n,
           (double)c.bytes / (double)n, runs);
    for (int r = 0; r < runs; r++) {
        base[r] = run_baseline(&c, &sink);
        full[r] = run_full(&c, rs, &qualified);
        if (full[r] < 0)
            return 1;
        printf("run %d: baseline %.0f profiles/s, full %.0f profiles/s\n", r + 1,
               (double)n / base[r], (double)n / full[r]);
    }
    double mb = (double)n / median(base, runs), mf = (double)n / median(full, runs);
    printf("json-c parse only (baseline): %.0f profiles/s (median)\n", mb);
    printf("full path (check+parse+validate+score+analysis): %.0f profiles/s (median)\n", mf);
    printf("ratio full/baseline: %.2f\n", mf / mb);
    printf("qualified: %zu of %zu\n", qualified, n);
    for (size_t i = 0; i < n; i++)
        free(c.doc[i]);
    free(c.doc);
    free(c.len);
    roleset_free(rs);
    return sink == (size_t)runs * n ? 0 : 1;
}
