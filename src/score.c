/* Scoring a submission against a role (SPEC §4): every criterion's test,
 * the score and verdict, and the analysis JSON with evidence and plan. */
#include "score.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "buf.h"
#include "match.h"
#include "role_internal.h"
#include "submission.h"
#include "xmalloc.h"

#define SCORE_EVIDENCE_MAX 3
#define SCORE_ANALYSIS_RESERVE 16384

/* Where a text came from: experience entries have two parts. */
enum unit_part { PART_NONE, PART_TITLE, PART_DESCRIPTION };

/* One place a criterion's test matched. */
struct hit {
    int rank;    /* the field's position in the criterion's field list */
    size_t unit; /* sequence number of the text in canonical order */
    size_t start, end;
    size_t entry; /* count entry (0 otherwise) */
    size_t crit;  /* the criterion */
    enum role_field field;
    size_t index; /* array index, for array fields */
    enum unit_part part;
    const char *text;
    size_t len;
    size_t qfrom, qto; /* the quoted span, once the hit is kept */
    bool quoted;       /* qfrom and qto are set for [start, end) */
    bool plain;        /* ... and the span is plain (match_excerpt_span) */
};

struct crit_state {
    bool met;
    bool *entries;    /* count/terms: which entries occurred */
    struct hit *hits; /* this criterion's hits, once evaluate sorted them */
    size_t nhits;
    /* A pattern of ordered fields settles its evidence as it goes: kept is
     * the number of quotes pick_evidence will keep from the hits so far,
     * of which the last is in text last_unit and ends at last_qto. At
     * SCORE_EVIDENCE_MAX it is done: no later hit could be quoted. */
    size_t kept, last_unit, last_qto;
    bool done;
};

/* The scorer's working memory, one per thread, reused from call to call:
 * only the returned analysis is allocated per profile. Allocating blocks
 * this size afresh (the pool alone is some 28 KB) cost a malloc and a
 * free each, and made glibc consolidate the small blocks json-c had just
 * freed. */
struct scratch {
    struct hit *pool;   /* every hit, in the order found */
    struct hit *sorted; /* the same, one slice per criterion (split_hits) */
    size_t pool_cap, sorted_cap;
    char *lower; /* the current text ASCII lower-cased, for folded patterns */
    size_t lower_cap;
    struct crit_state *cs; /* the criteria's state, then their entry flags */
    size_t cs_size;
    struct buf out, text, years; /* the analysis (handed over), a quote, years */
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    struct scratch *w = p;

    free(w->pool);
    free(w->sorted);
    free(w->lower);
    free(w->cs);
    buf_free(&w->out);
    buf_free(&w->text);
    buf_free(&w->years);
    free(w);
}

static void scratch_init(void)
{
    if (pthread_key_create(&scratch_key, scratch_free) != 0)
        abort();
}

/* This thread's scratch (freed when the thread exits). */
static struct scratch *scratch_get(void)
{
    struct scratch *w;

    pthread_once(&scratch_once, scratch_init);
    w = pthread_getspecific(scratch_key);
    if (w == NULL) {
        w = xcalloc(1, sizeof *w);
        if (pthread_setspecific(scratch_key, w) != 0)
            abort();
    }
    return w;
}

/* The text being scanned and everything collected so far. Every hit goes
 * into one pool, in scan order, sorted by criterion at the end: one
 * growing array instead of one per criterion. */
struct scorer {
    const struct role *r;
    struct crit_state *cs;
    struct hit unit; /* the fields describing the current text */
    struct scratch *w;
    size_t npool;
};

static void add_hit(struct scorer *sc, const struct hit *h)
{
    struct scratch *w = sc->w;

    if (sc->npool == w->pool_cap) {
        w->pool_cap = w->pool_cap ? w->pool_cap * 2 : 256;
        w->pool = xreallocarray(w->pool, w->pool_cap, sizeof *w->pool);
    }
    w->pool[sc->npool++] = *h;
}

static void on_term(void *arg, const struct match_hit *mh)
{
    struct scorer *sc = arg;
    const struct role_term *owner = &sc->r->owners[mh->term];
    const struct role_criterion *c = &sc->r->criteria[owner->criterion];
    struct hit h;

    if (c->rank[sc->unit.field] < 0)
        return;
    sc->cs[owner->criterion].entries[owner->entry] = true;
    h = sc->unit;
    h.rank = c->rank[h.field];
    h.start = mh->start;
    h.end = mh->end;
    h.entry = owner->entry;
    h.crit = owner->criterion;
    add_hit(sc, &h);
}

/* Fix the span the quote of h shows (match_excerpt_span). */
static void quote_span(struct hit *h)
{
    h->plain = match_excerpt_span(h->text, h->len, h->start, h->end, &h->qfrom, &h->qto);
    h->quoted = true;
}

/* Follow pick_evidence over a pattern's hits as they come: they arrive
 * sorted (ordered fields, then by start, never overlapping), so a hit is
 * a new quote unless the last quote of its text already shows it. */
static void settle(const struct role_criterion *c, struct crit_state *st, struct hit *h)
{
    if (!c->ordered || (st->kept > 0 && st->last_unit == h->unit && h->end <= st->last_qto))
        return;
    quote_span(h);
    st->kept++;
    st->last_unit = h->unit;
    st->last_qto = h->qto;
    st->done = st->kept == SCORE_EVIDENCE_MAX;
}

/* The first byte of c's need set in text[off, len) (text[len] is NUL), or
 * len. strcspn looks at 16 bytes at a time where a loop over the bytes
 * cost about as much as the regexec calls it spared. */
static size_t first_need(const struct role_criterion *c, const char *text, size_t off, size_t len)
{
    while (off < len) {
        off += strcspn(text + off, c->need_bytes);
        if (off < len && c->need[(unsigned char)text[off]])
            return off;
        off += off < len; /* a NUL byte, not in the set */
    }
    return len;
}

/* The next match of c's pattern in text (len bytes) from off on, in m: what
 * regexec from off finds. Every match of a pattern with a need set holds
 * a byte of c->need, and only bytes of c->lead before the first one (see
 * pattern_needs in role.c), so a match that starts before the first need
 * byte d from off starts in the run of lead bytes that ends at d. GNU
 * re_search tries just the starts from there to the end of the run of
 * need bytes at d (the match may run past it), where regexec alone would
 * try every later place in the text that the pattern could begin at. */
static bool next_match(const struct role_criterion *c, const char *text, size_t len, size_t off,
                       regmatch_t *m)
{
    const unsigned char *u = (const unsigned char *)text;
    int flags = REG_STARTEND | (off > 0 ? REG_NOTBOL : 0);

    while (c->has_need) {
        size_t d = first_need(c, text, off, len), r = d, e = d;
        if (d == len)
            return false;
        while (r > off && c->lead[u[r - 1]])
            r--;
        while (e + 1 < len && c->need[u[e + 1]])
            e++;
        regoff_t s =
            re_search((regex_t *)&c->re, text, (regoff_t)len, (regoff_t)r, (regoff_t)(e - r), NULL);
        if (s != -1) { /* a match at s, or an error: regexec decides */
            off = s >= 0 ? (size_t)s : r;
            break;
        }
        off = e + 1; /* no match starts in [off, e] */
    }
    m->rm_so = (regoff_t)off;
    m->rm_eo = (regoff_t)len;
    return regexec(&c->re, text, 1, m, flags) == 0;
}

/* Up to SCORE_EVIDENCE_MAX matches of c's pattern in the current text (more
 * could never be quoted: later ones in the same text sort after them),
 * and none once the criterion's quotes are settled. */
static void run_pattern(struct scorer *sc, size_t ci)
{
    const struct role_criterion *c = &sc->r->criteria[ci];
    struct crit_state *st = &sc->cs[ci];
    struct hit h = sc->unit;
    const char *text = c->re_lower ? sc->w->lower : h.text;
    size_t off = 0, found = 0;
    regmatch_t m;

    h.rank = c->rank[h.field];
    h.crit = ci;
    while (off <= h.len && found < SCORE_EVIDENCE_MAX && !st->done) {
        if (!next_match(c, text, h.len, off, &m))
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
        h.quoted = false;
        settle(c, st, &h);
        add_hit(sc, &h);
        st->met = true;
        found++;
        off = h.end;
    }
}

/* Copy the current text to sc->lower with ASCII upper case folded, sixteen
 * or eight bytes at a time where it can (a byte in 'A'..'Z' gains 0x20). */
static void lower_text(struct scorer *sc)
{
    const unsigned char *t = (const unsigned char *)sc->unit.text;
    size_t n = sc->unit.len, i = 0;
    struct scratch *w = sc->w;

    if (n + 1 > w->lower_cap) {
        w->lower_cap = n + 1 > 2 * w->lower_cap ? n + 1 : 2 * w->lower_cap;
        free(w->lower);
        w->lower = xmalloc(w->lower_cap);
    }
#if defined(__SSE2__)
    /* Sixteen bytes at a time where SSE2 is there (every x86-64); as signed
     * bytes, those of 0x80 and above are negative, so never in 'A'..'Z'. */
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(t + i));
        __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                                      _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
        x = _mm_or_si128(x, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
        _mm_storeu_si128((__m128i *)(w->lower + i), x);
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, low;
        memcpy(&x, t + i, 8);
        low = x & ~high;
        /* high bit set where the byte is >= 'A', and where it is > 'Z' */
        uint64_t ge = low + ones * (0x80 - 'A'), gt = low + ones * (0x80 - 'Z' - 1);
        x |= ((ge & ~gt & ~x & high) >> 2);
        memcpy(w->lower + i, &x, 8);
    }
#endif
    for (; i < n; i++)
        w->lower[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] + ('a' - 'A') : t[i]);
    w->lower[n] = '\0';
}

/* Scan one text: every term at once, then each pattern that looks here. */
static void scan_text(struct scorer *sc, enum role_field field, size_t index, enum unit_part part,
                      const char *text, size_t len)
{
    bool lowered = false;

    sc->unit.field = field;
    sc->unit.index = index;
    sc->unit.part = part;
    sc->unit.text = text;
    sc->unit.len = len;
    match_set_scan(sc->r->terms, text, len, on_term, sc);
    for (size_t k = 0; k < sc->r->npatterns; k++) {
        size_t ci = sc->r->patterns[k];
        const struct role_criterion *c = &sc->r->criteria[ci];
        if (c->rank[field] < 0 || sc->cs[ci].done)
            continue;
        if (c->re_lower && !lowered)
            lower_text(sc), lowered = true;
        if (c->has_need && first_need(c, sc->w->lower, 0, len) == len)
            continue;
        run_pattern(sc, ci);
    }
    sc->unit.unit++;
}

/* The same for a JSON value, when it is a string. */
static void scan_value(struct scorer *sc, enum role_field field, size_t index, enum unit_part part,
                       json_object *str)
{
    if (str != NULL && json_object_is_type(str, json_type_string))
        scan_text(sc, field, index, part, json_object_get_string(str),
                  (size_t)json_object_get_string_len(str));
}

/* The same for an optional top-level string of the submission (NULL when
 * absent, free of NUL bytes), with the length validation recorded: it
 * costs less than looking the member up again. A length of 0 may also
 * mean a submission filled in by hand: then strlen measures it. */
static void scan_field(struct scorer *sc, enum role_field field, const char *text, size_t len)
{
    if (text != NULL)
        scan_text(sc, field, 0, PART_NONE, text, len != 0 ? len : strlen(text));
}

static void scan_array(struct scorer *sc, enum role_field field, json_object *arr)
{
    size_t n = arr != NULL ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++)
        scan_value(sc, field, i, PART_NONE, json_object_array_get_idx(arr, i));
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
    size_t n = s->experience != NULL ? json_object_array_length(s->experience) : 0;

    scan_array(sc, ROLE_FIELD_SKILLS, s->skills);
    scan_array(sc, ROLE_FIELD_CERTIFICATIONS, s->certifications);
    scan_field(sc, ROLE_FIELD_HEADLINE, s->headline, s->headline_len);
    scan_field(sc, ROLE_FIELD_SUMMARY, s->summary, s->summary_len);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(s->experience, i);
        scan_value(sc, ROLE_FIELD_EXPERIENCE, i, PART_TITLE, member(e, "title"));
        scan_value(sc, ROLE_FIELD_EXPERIENCE, i, PART_DESCRIPTION, member(e, "description"));
    }
    scan_field(sc, ROLE_FIELD_CV_TEXT, s->cv_text, s->cv_text_len);
}

struct verdict {
    int score;
    bool qualified;
    const char *years_field;
    struct buf *years;
};

/* years_experience, or else the sum of experience[].years. The quoted text
 * is the number as the submission wrote it, or the sum (%.10g in the C
 * locale, which score_submission has in force). */
static void test_years(const struct role_criterion *c, const struct submission *s,
                       struct crit_state *st, struct verdict *v)
{
    struct buf *quote = v->years;
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

static void test_links(struct scorer *sc, size_t ci, const struct submission *s)
{
    const struct role_criterion *c = &sc->r->criteria[ci];

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
        h.crit = ci;
        add_hit(sc, &h);
        sc->cs[ci].met = true;
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

static int cmp_hits(const struct hit *x, const struct hit *y)
{
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

/* Hits come almost sorted (by text, then by end), so an insertion sort
 * does little work and needs no memory. Hits that compare equal are the
 * same term twice at one place, so the order among them does not show. */
static void sort_hits(struct hit *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (cmp_hits(&h[i - 1], &h[i]) <= 0)
            continue;
        struct hit t = h[i];
        size_t j = i;
        for (; j > 0 && cmp_hits(&h[j - 1], &t) > 0; j--)
            h[j] = h[j - 1];
        h[j] = t;
    }
}

/* Sort the pool into one slice per criterion, keeping the order found
 * (a counting sort), then sort each slice. */
static void split_hits(struct scorer *sc)
{
    const struct role *r = sc->r;
    struct scratch *w = sc->w;
    size_t at = 0;

    if (w->sorted == NULL || sc->npool > w->sorted_cap) {
        free(w->sorted);
        w->sorted_cap = w->pool_cap > 0 ? w->pool_cap : 1;
        w->sorted = xreallocarray(NULL, w->sorted_cap, sizeof *w->sorted);
    }
    for (size_t i = 0; i < sc->npool; i++)
        sc->cs[w->pool[i].crit].nhits++;
    for (size_t ci = 0; ci < r->ncriteria; ci++) {
        sc->cs[ci].hits = w->sorted + at;
        at += sc->cs[ci].nhits;
        sc->cs[ci].nhits = 0;
    }
    for (size_t i = 0; i < sc->npool; i++) {
        struct crit_state *st = &sc->cs[w->pool[i].crit];
        st->hits[st->nhits++] = w->pool[i];
    }
    for (size_t ci = 0; ci < r->ncriteria; ci++)
        sort_hits(sc->cs[ci].hits, sc->cs[ci].nhits);
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
        if (!st->hits[kept].quoted)
            quote_span(&st->hits[kept]);
        kept++;
    }
    return kept;
}

static const char *const field_names[ROLE_FIELD_COUNT] = {"skills",  "certifications", "headline",
                                                          "summary", "experience",     "cv_text"};

/* Append the decimal digits of v: the analysis holds many small numbers
 * and printf's machinery cost more than the rest of their formatting. */
static void add_uint(struct buf *b, size_t v)
{
    char d[24];
    size_t n = sizeof d;

    do
        d[--n] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    buf_add(b, d + n, sizeof d - n);
}

static void add_int(struct buf *b, int v)
{
    long long w = v;

    if (w < 0)
        buf_addc(b, '-'), w = -w;
    add_uint(b, (size_t)w);
}

/* The field name of h as a JSON string; names and link names need no
 * escaping, so it is written as it is. */
static void add_field_name(struct buf *b, const struct role_criterion *c, const struct hit *h)
{
    buf_addc(b, '"');
    if (c->test == ROLE_TEST_LINK) {
        buf_add(b, "links.", 6);
        buf_adds(b, c->links[h->entry]);
    } else if (h->field == ROLE_FIELD_SKILLS || h->field == ROLE_FIELD_CERTIFICATIONS) {
        buf_adds(b, field_names[h->field]);
        buf_addc(b, '[');
        add_uint(b, h->index);
        buf_addc(b, ']');
    } else if (h->field == ROLE_FIELD_EXPERIENCE) {
        buf_add(b, "experience[", 11);
        add_uint(b, h->index);
        buf_adds(b, h->part == PART_TITLE ? "].title" : "].description");
    } else
        buf_adds(b, field_names[h->field]);
    buf_addc(b, '"');
}

/* The quote of h as a JSON string. A plain span (most are) goes in as it
 * is, trimmed: no copy of it to fold first, no second look at its bytes. */
static void add_quote(struct buf *b, const struct hit *h, struct buf *text)
{
    size_t from = h->qfrom, to = h->qto;

    if (h->plain) {
        match_excerpt_trim(h->text, &from, &to);
        buf_add_json_str(b, h->text + from, to - from);
        return;
    }
    buf_reset(text);
    match_excerpt_add(text, h->text, h->len, from, to);
    buf_add_json_str(b, text->data ? text->data : "", text->len);
}

static void add_evidence(struct buf *b, const struct role_criterion *c, struct crit_state *st,
                         const struct verdict *v, struct buf *text)
{
    size_t n = pick_evidence(c, st);

    buf_add(b, ",\"evidence\":[", 13);
    if (c->test == ROLE_TEST_MIN_YEARS && v->years->len > 0) {
        buf_add(b, "{\"field\":", 9);
        buf_add_json_str(b, v->years_field, strlen(v->years_field));
        buf_add(b, ",\"text\":", 8);
        buf_add_json_str(b, v->years->data, v->years->len);
        buf_addc(b, '}');
    }
    for (size_t i = 0; i < n; i++) {
        const struct hit *h = &st->hits[i];
        if (i > 0)
            buf_addc(b, ',');
        buf_add(b, "{\"field\":", 9);
        add_field_name(b, c, h);
        buf_add(b, ",\"text\":", 8);
        add_quote(b, h, text);
        buf_addc(b, '}');
    }
    buf_addc(b, ']');
}

static void add_met_missing(struct buf *b, const struct role *r, struct crit_state *cs,
                            const struct verdict *v, struct buf *text)
{
    bool first = true;

    buf_add(b, ",\"met\":[", 8);
    for (size_t i = 0; i < r->ncriteria; i++) {
        if (!cs[i].met)
            continue;
        if (!first)
            buf_addc(b, ',');
        buf_add(b, r->criteria[i].json_head, r->criteria[i].json_head_len);
        add_evidence(b, &r->criteria[i], &cs[i], v, text);
        buf_addc(b, '}');
        first = false;
    }
    buf_add(b, "],\"missing\":[", 13);
    first = true;
    for (size_t i = 0; i < r->ncriteria; i++) {
        if (cs[i].met)
            continue;
        if (!first)
            buf_addc(b, ',');
        buf_add(b, r->criteria[i].json_head, r->criteria[i].json_head_len);
        buf_add(b, r->criteria[i].json_advice, r->criteria[i].json_advice_len);
        buf_addc(b, '}');
        first = false;
    }
    buf_addc(b, ']');
}

static void add_step(struct buf *b, bool first, const char *json, size_t len)
{
    if (!first)
        buf_addc(b, ',');
    buf_add(b, json, len);
}

/* The plan: missing criteria heaviest first, ties in role-file order (the
 * role's plan_order), then the role's next steps. */
static void add_plan(struct buf *b, const struct role *r, const struct crit_state *cs)
{
    bool first = true;

    buf_add(b, ",\"plan\":[", 9);
    for (size_t k = 0; k < r->ncriteria; k++) {
        const struct role_criterion *c = &r->criteria[r->plan_order[k]];
        if (!cs[r->plan_order[k]].met) {
            add_step(b, first, c->json_step, c->json_step_len);
            first = false;
        }
    }
    for (size_t i = 0; i < r->nsteps; i++) {
        add_step(b, first, r->steps[i].json, r->steps[i].json_len);
        first = false;
    }
    buf_addc(b, ']');
}

/* Run every test and settle the verdict: score rounded half up in integer
 * arithmetic, floor((200 * met + total) / (2 * total)). The criteria's
 * hits then point into w->sorted. */
static void evaluate(const struct role *r, const struct submission *s, struct crit_state *cs,
                     struct verdict *v, struct scratch *w)
{
    struct scorer sc = {r, cs, {0}, w, 0};
    long long met = 0, total = 0;
    bool required_ok = true;

    scan_submission(&sc, s);
    for (size_t i = 0; i < r->ncriteria; i++) {
        const struct role_criterion *c = &r->criteria[i];
        if (c->test == ROLE_TEST_MIN_YEARS)
            test_years(c, s, &cs[i], v);
        else if (c->test == ROLE_TEST_LINK)
            test_links(&sc, i, s);
        else
            decide(c, &cs[i]);
        total += c->weight;
        met += cs[i].met ? c->weight : 0;
        required_ok = required_ok && (cs[i].met || !c->required);
    }
    v->score = (int)((200 * met + total) / (2 * total));
    v->qualified = v->score >= r->threshold && required_ok;
    split_hits(&sc);
}

/* The criteria's state and their entry flags, zeroed, in one block of w. */
static struct crit_state *crit_states(const struct role *r, struct scratch *w)
{
    size_t nflags = 0, size;

    for (size_t i = 0; i < r->ncriteria; i++)
        nflags += r->criteria[i].nentries + 1;
    size = r->ncriteria * sizeof *w->cs + nflags * sizeof(bool);
    if (size > w->cs_size) {
        free(w->cs);
        w->cs = xmalloc(size);
        w->cs_size = size;
    }
    memset(w->cs, 0, size);
    bool *flags = (bool *)(w->cs + r->ncriteria);
    for (size_t i = 0; i < r->ncriteria; i++) {
        w->cs[i].entries = flags;
        flags += r->criteria[i].nentries + 1;
    }
    return w->cs;
}

void score_submission(const struct role *r, const struct submission *s, const char *scored_by,
                      struct score_result *out)
{
    locale_t old = uselocale(r->c_locale);
    struct scratch *w = scratch_get();
    struct verdict v = {0, false, NULL, &w->years};
    struct buf *b = &w->out;
    struct crit_state *cs = crit_states(r, w);

    buf_reset(&w->years);
    evaluate(r, s, cs, &v, w);
    /* An analysis is some 10-15 KB: room for it at once spares the
     * doubling reallocations and their copies. */
    buf_reset(b);
    buf_reserve(b, SCORE_ANALYSIS_RESERVE);
    buf_add(b, r->json_head, r->json_head_len);
    buf_add(b, ",\"score\":", 9);
    add_int(b, v.score);
    buf_add(b, ",\"threshold\":", 13);
    add_int(b, r->threshold);
    buf_adds(b, v.qualified ? ",\"qualified\":true" : ",\"qualified\":false");
    add_met_missing(b, r, cs, &v, &w->text);
    add_plan(b, r, cs);
    buf_add(b, ",\"scored_by\":", 13);
    buf_add_json_str(b, scored_by, strlen(scored_by));
    buf_addc(b, '}');
    out->score = v.score;
    out->threshold = r->threshold;
    out->qualified = v.qualified;
    out->analysis = buf_steal(b);
    uselocale(old);
}

void score_result_free(struct score_result *res)
{
    free(res->analysis);
    res->analysis = NULL;
}
