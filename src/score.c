/* Scoring a submission against a role (SPEC §4): every criterion's test,
 * the score and verdict, and the analysis JSON with evidence and plan. */
#include "score.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "match.h"
#include "role_internal.h"
#include "submission.h"
#include "xmalloc.h"

#define SCORE_EVIDENCE_MAX 3

/* Where a text came from: experience entries have two parts. */
enum unit_part { PART_NONE, PART_TITLE, PART_DESCRIPTION };

/* Append s as a JSON string literal, byte-identical to buf_add_json_str
 * but copying runs of plain bytes at once: analyses quote long advice and
 * evidence texts, and a call per byte made scoring several times slower. */
static void add_json(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;

    buf_addc(b, '"');
    while (i < n) {
        size_t run = i;
        unsigned char c = 0;
        while (run < n && (c = (unsigned char)s[run]) >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            run++;
        buf_add(b, s + i, run - i);
        if (run == n)
            break;
        if (c == '"' || c == '\\')
            buf_addc(b, '\\'), buf_addc(b, (char)c);
        else if (c == '\n' || c == '\r' || c == '\t')
            buf_add(b, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", 2);
        else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_add(b, e, 6);
        }
        i = run + 1;
    }
    buf_addc(b, '"');
}

/* One place a criterion's test matched. */
struct hit {
    int rank;    /* the field's position in the criterion's field list */
    size_t unit; /* sequence number of the text in canonical order */
    size_t start, end;
    size_t entry; /* count entry (0 otherwise) */
    enum role_field field;
    size_t index; /* array index, for array fields */
    enum unit_part part;
    const char *text;
    size_t len;
    size_t qfrom, qto; /* the quoted span, once the hit is kept */
};

struct crit_state {
    bool met;
    bool *entries; /* count/terms: which entries occurred */
    struct hit *hits;
    size_t nhits, cap;
};

/* The text being scanned and everything collected so far. */
struct scorer {
    const struct role *r;
    struct crit_state *cs;
    struct hit unit; /* the fields describing the current text */
};

static void add_hit(struct crit_state *st, const struct hit *h)
{
    if (st->nhits == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 8;
        st->hits = xreallocarray(st->hits, st->cap, sizeof *st->hits);
    }
    st->hits[st->nhits++] = *h;
}

static void on_term(void *arg, const struct match_hit *mh)
{
    struct scorer *sc = arg;
    const struct role_term *owner = &sc->r->owners[mh->term];
    const struct role_criterion *c = &sc->r->criteria[owner->criterion];
    struct crit_state *st = &sc->cs[owner->criterion];
    struct hit h = sc->unit;

    if (c->rank[h.field] < 0)
        return;
    st->entries[owner->entry] = true;
    h.rank = c->rank[h.field];
    h.start = mh->start;
    h.end = mh->end;
    h.entry = owner->entry;
    add_hit(st, &h);
}

/* Up to SCORE_EVIDENCE_MAX matches of c's pattern in the current text (more
 * could never be quoted: later ones in the same text sort after them). */
static void run_pattern(struct scorer *sc, size_t ci)
{
    const struct role_criterion *c = &sc->r->criteria[ci];
    struct hit h = sc->unit;
    size_t off = 0, found = 0;
    regmatch_t m;

    h.rank = c->rank[h.field];
    while (off <= h.len && found < SCORE_EVIDENCE_MAX) {
        m.rm_so = (regoff_t)off;
        m.rm_eo = (regoff_t)h.len;
        if (regexec(&c->re, h.text, 1, &m, REG_STARTEND | (off > 0 ? REG_NOTBOL : 0)) != 0)
            break;
        if (m.rm_eo == m.rm_so) {
            /* An empty match (e.g. only an anchor): step one code point. */
            size_t k = (size_t)m.rm_so;
            if (k >= h.len)
                break;
            match_utf8_next(h.text, h.len, &k);
            off = k;
            continue;
        }
        h.start = (size_t)m.rm_so;
        h.end = (size_t)m.rm_eo;
        add_hit(&sc->cs[ci], &h);
        sc->cs[ci].met = true;
        found++;
        off = h.end;
    }
}

/* Scan one text: every term at once, then each pattern that looks here. */
static void scan_unit(struct scorer *sc, enum role_field field, size_t index, enum unit_part part,
                      json_object *str)
{
    if (str == NULL || !json_object_is_type(str, json_type_string))
        return;
    sc->unit.field = field;
    sc->unit.index = index;
    sc->unit.part = part;
    sc->unit.text = json_object_get_string(str);
    sc->unit.len = (size_t)json_object_get_string_len(str);
    match_set_scan(sc->r->terms, sc->unit.text, sc->unit.len, on_term, sc);
    for (size_t ci = 0; ci < sc->r->ncriteria; ci++) {
        const struct role_criterion *c = &sc->r->criteria[ci];
        if (c->test == ROLE_TEST_PATTERN && c->rank[field] >= 0)
            run_pattern(sc, ci);
    }
    sc->unit.unit++;
}

static void scan_array(struct scorer *sc, enum role_field field, json_object *arr)
{
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++)
        scan_unit(sc, field, i, PART_NONE, json_object_array_get_idx(arr, i));
}

static json_object *member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

/* Every searchable text, in canonical field order then by position. */
static void scan_submission(struct scorer *sc, const struct submission *s)
{
    json_object *root = s->root;
    size_t n = s->experience != NULL ? json_object_array_length(s->experience) : 0;

    scan_array(sc, ROLE_FIELD_SKILLS, s->skills);
    scan_array(sc, ROLE_FIELD_CERTIFICATIONS, s->certifications);
    scan_unit(sc, ROLE_FIELD_HEADLINE, 0, PART_NONE, member(root, "headline"));
    scan_unit(sc, ROLE_FIELD_SUMMARY, 0, PART_NONE, member(root, "summary"));
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(s->experience, i);
        scan_unit(sc, ROLE_FIELD_EXPERIENCE, i, PART_TITLE, member(e, "title"));
        scan_unit(sc, ROLE_FIELD_EXPERIENCE, i, PART_DESCRIPTION, member(e, "description"));
    }
    scan_unit(sc, ROLE_FIELD_CV_TEXT, 0, PART_NONE, member(root, "cv_text"));
}

struct verdict {
    int score;
    bool qualified;
    const char *years_field;
    struct buf years;
};

/* years_experience, or else the sum of experience[].years. The quoted text
 * is the number as the submission wrote it, or the sum (%.10g in the C
 * locale, which score_submission has in force). */
static void test_years(const struct role_criterion *c, const struct submission *s,
                       struct crit_state *st, struct verdict *v)
{
    struct buf *quote = &v->years;
    json_object *y0 = member(s->root, "years_experience");
    double years = 0;
    bool any = false;

    buf_reset(quote);
    if (y0 != NULL && !json_object_is_type(y0, json_type_null)) {
        years = json_object_get_double(y0);
        buf_adds(quote, json_object_get_string(y0));
        v->years_field = "years_experience";
    } else {
        v->years_field = "experience[].years";
        size_t n = s->experience != NULL ? json_object_array_length(s->experience) : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *y = member(json_object_array_get_idx(s->experience, i), "years");
            if (y != NULL && !json_object_is_type(y, json_type_null))
                years += json_object_get_double(y), any = true;
        }
        if (any)
            buf_printf(quote, "%.10g", years);
    }
    st->met = years >= c->min_years;
}

static void test_links(const struct role_criterion *c, const struct submission *s,
                       struct crit_state *st)
{
    for (size_t i = 0; i < c->nlinks; i++) {
        json_object *v = member(s->links, c->links[i]);
        if (v == NULL || !json_object_is_type(v, json_type_string))
            continue;
        struct hit h = {0};
        h.unit = i;
        h.text = json_object_get_string(v);
        h.len = (size_t)json_object_get_string_len(v);
        h.end = h.len;
        h.entry = i;
        add_hit(st, &h);
        st->met = true;
    }
}

static void decide(const struct role_criterion *c, struct crit_state *st)
{
    if (c->test == ROLE_TEST_TERMS || c->test == ROLE_TEST_COUNT) {
        size_t n = 0;
        for (size_t e = 0; e < c->nentries; e++)
            n += st->entries[e];
        st->met = n >= (size_t)c->min;
    }
}

static int cmp_hits(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;
    return x->entry < y->entry ? -1 : (x->entry > y->entry);
}

/* Fix the span the quote of h shows (match_excerpt_span). */
static void quote_span(struct hit *h)
{
    match_excerpt_span(h->text, h->len, h->start, h->end, &h->qfrom, &h->qto);
}

/* Sort the hits and keep the first SCORE_EVIDENCE_MAX, in place. Quotes
 * should each show something new: a hit that overlaps the one kept before
 * it in the same text widens that one (two synonyms at one place are one
 * piece of evidence), a hit the previous quote already shows in full is
 * skipped, and a count criterion shows each entry once, so its evidence
 * names different things. */
static size_t pick_evidence(const struct role_criterion *c, struct crit_state *st)
{
    size_t kept = 0;

    if (st->nhits > 1)
        qsort(st->hits, st->nhits, sizeof *st->hits, cmp_hits);
    for (size_t i = 0; i < st->nhits; i++) {
        struct hit *h = &st->hits[i], *last = kept ? &st->hits[kept - 1] : NULL;
        bool same = last != NULL && last->unit == h->unit && last->rank == h->rank;
        if (same && h->start < last->end) {
            if (h->end > last->end) {
                last->end = h->end;
                quote_span(last);
            }
            continue;
        }
        bool seen = same && h->end <= last->qto;
        for (size_t k = 0; c->test == ROLE_TEST_COUNT && k < kept; k++)
            seen = seen || st->hits[k].entry == h->entry;
        if (seen)
            continue;
        if (kept == SCORE_EVIDENCE_MAX)
            break;
        st->hits[kept] = *h;
        quote_span(&st->hits[kept++]);
    }
    return kept;
}

static const char *const field_names[ROLE_FIELD_COUNT] = {"skills",  "certifications", "headline",
                                                          "summary", "experience",     "cv_text"};

static void add_field_name(struct buf *b, const struct role_criterion *c, const struct hit *h)
{
    struct buf name = BUF_INIT;

    if (c->test == ROLE_TEST_LINK)
        buf_printf(&name, "links.%s", c->links[h->entry]);
    else if (h->field == ROLE_FIELD_SKILLS || h->field == ROLE_FIELD_CERTIFICATIONS)
        buf_printf(&name, "%s[%zu]", field_names[h->field], h->index);
    else if (h->field == ROLE_FIELD_EXPERIENCE)
        buf_printf(&name, "experience[%zu].%s", h->index,
                   h->part == PART_TITLE ? "title" : "description");
    else
        buf_adds(&name, field_names[h->field]);
    add_json(b, name.data, name.len);
    buf_free(&name);
}

static void add_evidence(struct buf *b, const struct role_criterion *c, struct crit_state *st,
                         const char *years_field, const struct buf *years)
{
    struct buf text = BUF_INIT;
    size_t n = pick_evidence(c, st);

    buf_adds(b, ",\"evidence\":[");
    if (c->test == ROLE_TEST_MIN_YEARS && years->len > 0) {
        buf_adds(b, "{\"field\":");
        add_json(b, years_field, strlen(years_field));
        buf_adds(b, ",\"text\":");
        add_json(b, years->data, years->len);
        buf_addc(b, '}');
    }
    for (size_t i = 0; i < n; i++) {
        const struct hit *h = &st->hits[i];
        buf_adds(b, i > 0 ? ",{\"field\":" : "{\"field\":");
        add_field_name(b, c, h);
        buf_reset(&text);
        match_excerpt_add(&text, h->text, h->len, h->qfrom, h->qto);
        buf_adds(b, ",\"text\":");
        add_json(b, text.data ? text.data : "", text.len);
        buf_addc(b, '}');
    }
    buf_addc(b, ']');
    buf_free(&text);
}

static void add_str_member(struct buf *b, const char *key, const char *val)
{
    buf_addc(b, '"');
    buf_adds(b, key);
    buf_add(b, "\":", 2);
    add_json(b, val, strlen(val));
}

static void add_met_missing(struct buf *b, const struct role *r, struct crit_state *cs,
                            struct verdict *v)
{
    bool first = true;

    buf_adds(b, ",\"met\":[");
    for (size_t i = 0; i < r->ncriteria; i++) {
        if (!cs[i].met)
            continue;
        buf_adds(b, first ? "" : ",");
        buf_adds(b, r->criteria[i].json_head);
        add_evidence(b, &r->criteria[i], &cs[i], v->years_field, &v->years);
        buf_addc(b, '}');
        first = false;
    }
    buf_adds(b, "],\"missing\":[");
    first = true;
    for (size_t i = 0; i < r->ncriteria; i++) {
        if (cs[i].met)
            continue;
        buf_adds(b, first ? "" : ",");
        buf_adds(b, r->criteria[i].json_head);
        buf_adds(b, r->criteria[i].json_advice);
        buf_addc(b, '}');
        first = false;
    }
    buf_addc(b, ']');
}

static void add_step(struct buf *b, bool first, const char *json)
{
    if (!first)
        buf_addc(b, ',');
    buf_adds(b, json);
}

/* The plan: missing criteria heaviest first, ties in role-file order (a
 * selection by weight keeps that order without a stable sort), then the
 * role's next steps. */
static void add_plan(struct buf *b, const struct role *r, const struct crit_state *cs)
{
    bool first = true;
    int bound = ROLE_WEIGHT_MAX + 1;

    buf_adds(b, ",\"plan\":[");
    for (;;) {
        int w = 0;
        for (size_t i = 0; i < r->ncriteria; i++) {
            if (!cs[i].met && r->criteria[i].weight < bound && r->criteria[i].weight > w)
                w = r->criteria[i].weight;
        }
        if (w == 0)
            break;
        for (size_t i = 0; i < r->ncriteria; i++) {
            if (!cs[i].met && r->criteria[i].weight == w) {
                add_step(b, first, r->criteria[i].json_step);
                first = false;
            }
        }
        bound = w;
    }
    for (size_t i = 0; i < r->nsteps; i++) {
        add_step(b, first, r->steps[i].json);
        first = false;
    }
    buf_addc(b, ']');
}

/* Run every test and settle the verdict: score rounded half up in integer
 * arithmetic, floor((200 * met + total) / (2 * total)). */
static void evaluate(const struct role *r, const struct submission *s, struct crit_state *cs,
                     struct verdict *v)
{
    struct scorer sc = {r, cs, {0}};
    long long met = 0, total = 0;
    bool required_ok = true;

    scan_submission(&sc, s);
    for (size_t i = 0; i < r->ncriteria; i++) {
        const struct role_criterion *c = &r->criteria[i];
        if (c->test == ROLE_TEST_MIN_YEARS)
            test_years(c, s, &cs[i], v);
        else if (c->test == ROLE_TEST_LINK)
            test_links(c, s, &cs[i]);
        else
            decide(c, &cs[i]);
        total += c->weight;
        met += cs[i].met ? c->weight : 0;
        required_ok = required_ok && (cs[i].met || !c->required);
    }
    v->score = (int)((200 * met + total) / (2 * total));
    v->qualified = v->score >= r->threshold && required_ok;
}

void score_submission(const struct role *r, const struct submission *s, const char *scored_by,
                      struct score_result *out)
{
    locale_t old = uselocale(r->c_locale);
    struct crit_state *cs = xcalloc(r->ncriteria, sizeof *cs);
    struct verdict v = {0, false, NULL, BUF_INIT};
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < r->ncriteria; i++)
        cs[i].entries = xcalloc(r->criteria[i].nentries + 1, sizeof *cs[i].entries);
    evaluate(r, s, cs, &v);
    buf_adds(&b, r->json_head);
    buf_printf(&b, ",\"score\":%d,\"threshold\":%d,\"qualified\":%s", v.score, r->threshold,
               v.qualified ? "true" : "false");
    add_met_missing(&b, r, cs, &v);
    add_plan(&b, r, cs);
    buf_addc(&b, ',');
    add_str_member(&b, "scored_by", scored_by);
    buf_addc(&b, '}');
    out->score = v.score;
    out->threshold = r->threshold;
    out->qualified = v.qualified;
    out->analysis = buf_steal(&b);
    for (size_t i = 0; i < r->ncriteria; i++) {
        free(cs[i].entries);
        free(cs[i].hits);
    }
    free(cs);
    buf_free(&v.years);
    uselocale(old);
}

void score_result_free(struct score_result *res)
{
    free(res->analysis);
    res->analysis = NULL;
}
