/* Whole-word term matching (SPEC §4) with one Aho-Corasick automaton per
 * role, and the UTF-8 and excerpt helpers the scorer quotes evidence with. */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* States are numbered in 16 bits. */
#define MATCH_STATES_MAX 65535

struct match_term {
    char *norm; /* folded: ASCII lower case, white-space runs as one ' ' */
    size_t len;
    bool word_start; /* the term's first code point is a word character */
    bool word_end;   /* ... its last one */
    bool spaced;     /* norm holds a ' ' (a folded white-space run) */
    int next;        /* next term with the same normalized text, or -1 */
};

/* The automaton is a full DFA over byte classes: every byte value that
 * occurs in some term gets a class of its own, all others share class 0,
 * so the transition table stays small (states x classes) and the scan
 * costs one table look-up per byte. White space has a class of its own
 * and every state entered on it loops on it, so a run of white space
 * folds to one ' ' inside the table instead of in a branch of the scan.
 * The states that end some term are numbered last (from emit_min), so the
 * scan tells them by comparing the state it already holds. */
struct match_set {
    struct match_term *terms;
    size_t nterms;
    size_t cap;
    bool compiled;
    uint16_t cls[256]; /* byte (already folded) -> class */
    size_t nclasses;
    int32_t *delta;    /* while compiling: nstates x nclasses, -1 = no edge */
    int32_t *last;     /* while compiling: state -> class of its trie edge */
    uint16_t *dfa;     /* compiled: the same table by class (nclasses x nstates) */
    uint32_t emit_min; /* states from here on end some term (own or fail chain) */
    uint32_t inword;   /* the in-word root (build_links) */
    size_t maxlen;     /* the longest normalized term: no state is deeper */
    size_t total;      /* normalized bytes of all terms: bounds the states */
    /* raw byte -> its class's column in dfa, ASCII case and white space
     * folded: a pointer, so that the only look-up on the scan's chain of
     * dependent ones is col[state], with no offset to add to it first. */
    const uint16_t *col[256];
    int32_t *out;  /* state -> first term ending there, or -1 */
    int32_t *dict; /* state -> nearest fail-chain state with output, or -1 */
    size_t nstates;
};

/* The class of white space: ' ' is given class 1 whether or not a term
 * holds one, since the scan folds all white space into it. Class 2 holds
 * the ASCII word bytes no term holds, class 0 all other such bytes, so
 * every class is all word bytes or none (see build_links). */
#define MATCH_SPACE_CLASS 1
#define MATCH_WORD_CLASS 2

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The one strict RFC 3629 decoder of the project: the length of the code
 * point at p[0..left) with *cp set, or 0 when p does not start a valid
 * sequence (overlong, surrogate, above U+10FFFF, truncated, stray
 * continuation). Inline here so the scanner's hot path keeps it. */
static inline size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *cp)
{
    size_t n;
    uint32_t v, min;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2, v = p[0] & 0x1f, min = 0x80;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3, v = p[0] & 0x0f, min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4, v = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[k] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

size_t match_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    return utf8_decode((const unsigned char *)s, len, cp);
}

uint32_t match_utf8_next(const char *s, size_t len, size_t *i)
{
    uint32_t cp;
    size_t n = utf8_decode((const unsigned char *)s + *i, len - *i, &cp);

    if (n == 0) {
        *i += 1;
        return 0xfffd;
    }
    *i += n;
    return cp;
}

bool match_utf8_valid(const char *s, size_t len, size_t *bad)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) {
            *bad = i;
            return false;
        }
        i += n;
    }
    return true;
}

bool match_is_word(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               cp == '_';
    if (cp == 0xa0 || cp == 0xab || cp == 0xbb)
        return false;
    if ((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x303f))
        return false;
    return true;
}

bool match_is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0;
}

/* Bytes of the white-space character at s[i], or 0 when there is none. */
static size_t space_len(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        return 1;
    if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0)
        return 2;
    return 0;
}

/* True when the byte before u[i] (i > 0) ends a white-space character. */
static bool is_space_end(const unsigned char *u, size_t i)
{
    unsigned char c = u[i - 1];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           (c == 0xa0 && i > 1 && u[i - 2] == 0xc2);
}

/* The code point that ends just before s[i] (i > 0). */
static uint32_t prev_cp(const char *s, size_t i)
{
    size_t j = i - 1, k;
    while (j > 0 && i - j < 4 && ((unsigned char)s[j] & 0xc0) == 0x80)
        j--;
    k = j;
    uint32_t cp = match_utf8_next(s, i, &k);
    /* A stray continuation byte decodes alone: treat it as U+FFFD too. */
    return k == i ? cp : 0xfffd;
}

struct match_set *match_set_new(void)
{
    struct match_set *ms = xcalloc(1, sizeof *ms);
    return ms;
}

void match_set_free(struct match_set *ms)
{
    if (ms == NULL)
        return;
    for (size_t i = 0; i < ms->nterms; i++)
        free(ms->terms[i].norm);
    free(ms->terms);
    free(ms->delta);
    free(ms->last);
    free(ms->dfa);
    free(ms->out);
    free(ms->dict);
    free(ms);
}

size_t match_set_count(const struct match_set *ms)
{
    return ms->nterms;
}

/* Fold term into t->norm; returns false with *cause on a bad term. */
static bool normalize_term(struct match_term *t, const char *term, char **cause)
{
    size_t len = strlen(term), i = 0, n = 0, last = 0;
    char *norm = xmalloc(len + 1);

    if (len == 0 || space_len(term, len, 0) != 0) {
        *cause = xstrdup(len == 0 ? "must not be empty" : "must not start with white space");
        goto fail;
    }
    while (i < len) {
        size_t w = space_len(term, len, i);
        if (w != 0) {
            while (i < len && (w = space_len(term, len, i)) != 0)
                i += w;
            norm[n++] = ' ';
            continue;
        }
        last = i;
        norm[n++] = (char)fold((unsigned char)term[i++]);
    }
    if (norm[n - 1] == ' ') {
        *cause = xstrdup("must not end with white space");
        goto fail;
    }
    if (n > MATCH_TERM_MAX) {
        *cause = xasprintf("must be at most %d bytes long", MATCH_TERM_MAX);
        goto fail;
    }
    norm[n] = '\0';
    size_t k = 0;
    t->word_start = match_is_word(match_utf8_next(term, len, &k));
    while (last > 0 && ((unsigned char)term[last] & 0xc0) == 0x80)
        last--;
    t->word_end = match_is_word(match_utf8_next(term, len, &last));
    t->norm = norm;
    t->len = n;
    t->spaced = memchr(norm, ' ', n) != NULL;
    t->next = -1;
    return true;
fail:
    free(norm);
    return false;
}

int match_set_add(struct match_set *ms, const char *term, char **cause)
{
    struct match_term t;

    if (!normalize_term(&t, term, cause))
        return -1;
    if (ms->total + t.len >= MATCH_STATES_MAX) {
        free(t.norm);
        *cause =
            xasprintf("too many terms: at most %d bytes of terms in all", MATCH_STATES_MAX - 1);
        return -1;
    }
    ms->total += t.len;
    if (ms->nterms == ms->cap) {
        ms->cap = ms->cap ? ms->cap * 2 : 16;
        ms->terms = xreallocarray(ms->terms, ms->cap, sizeof *ms->terms);
    }
    ms->terms[ms->nterms] = t;
    return (int)ms->nterms++;
}

static void assign_classes(struct match_set *ms)
{
    for (size_t c = 0; c < 256; c++)
        ms->cls[c] = c < 0x80 && match_is_word((uint32_t)c) ? MATCH_WORD_CLASS : 0;
    ms->cls[' '] = MATCH_SPACE_CLASS;
    ms->nclasses = MATCH_WORD_CLASS + 1;
    for (size_t i = 0; i < ms->nterms; i++) {
        for (size_t k = 0; k < ms->terms[i].len; k++) {
            unsigned char c = (unsigned char)ms->terms[i].norm[k];
            if (ms->cls[c] == 0 || ms->cls[c] == MATCH_WORD_CLASS)
                ms->cls[c] = (uint16_t)ms->nclasses++;
        }
    }
}

/* Insert every term into a trie laid out in delta (-1 = no edge yet), with
 * room for one more state (the in-word root of build_links). */
static void build_trie(struct match_set *ms)
{
    size_t maxstates = 2, nc = ms->nclasses;
    for (size_t i = 0; i < ms->nterms; i++)
        maxstates += ms->terms[i].len;
    ms->delta = xreallocarray(NULL, maxstates * nc, sizeof *ms->delta);
    ms->out = xreallocarray(NULL, maxstates, sizeof *ms->out);
    ms->dict = xreallocarray(NULL, maxstates, sizeof *ms->dict);
    ms->last = xcalloc(maxstates, sizeof *ms->last);
    memset(ms->delta, 0xff, maxstates * nc * sizeof *ms->delta);
    memset(ms->out, 0xff, maxstates * sizeof *ms->out);
    memset(ms->dict, 0xff, maxstates * sizeof *ms->dict);
    ms->nstates = 1;
    for (size_t i = 0; i < ms->nterms; i++) {
        struct match_term *t = &ms->terms[i];
        int32_t s = 0;
        for (size_t k = 0; k < t->len; k++) {
            int32_t *e = &ms->delta[(size_t)s * nc + ms->cls[(unsigned char)t->norm[k]]];
            if (*e < 0) {
                ms->last[ms->nstates] = ms->cls[(unsigned char)t->norm[k]];
                *e = (int32_t)ms->nstates++;
            }
            s = *e;
        }
        /* Keep identical terms chained in index order. */
        int32_t *link = &ms->out[s];
        while (*link >= 0)
            link = &ms->terms[*link].next;
        *link = (int32_t)i;
    }
}

/* Which trie states a match may pass through when the byte before its
 * start is an ASCII word byte: those on the path of a term whose first
 * code point is not a word character (a term that starts with a word
 * character cannot meet there, SPEC §4). */
static bool *inword_states(const struct match_set *ms)
{
    bool *allow = xcalloc(ms->nstates, sizeof *allow);

    for (size_t i = 0; i < ms->nterms; i++) {
        const struct match_term *t = &ms->terms[i];
        int32_t s = 0;
        for (size_t k = 0; !t->word_start && k < t->len; k++) {
            s = ms->delta[(size_t)s * ms->nclasses + ms->cls[(unsigned char)t->norm[k]]];
            allow[s] = true;
        }
    }
    return allow;
}

/* Breadth first over the trie: fail links become DFA edges, and each state
 * learns the nearest state on its fail chain that ends a term (dict), so a
 * scan reports every term, including those inside longer ones.
 *
 * The root is split in two. After an ASCII word byte the scan is in the
 * in-word root, which starts only the terms that may begin inside a word;
 * the others could never pass the word-boundary rule there. So inside a
 * word that starts no term the scan stays in one state, and the states it
 * visits fit in the cache. Bytes of other classes (white space, any byte
 * of U+0080 and above) count as boundaries: a start they allow that the
 * rule refuses is still refused by report(), so nothing changes but the
 * number of candidates. */
static void build_links(struct match_set *ms)
{
    size_t nc = ms->nclasses, head = 0, tail = 0;
    int32_t win = (int32_t)ms->nstates++; /* the in-word root */
    int32_t *queue = xreallocarray(NULL, ms->nstates, sizeof *queue);
    int32_t *fail = xreallocarray(NULL, ms->nstates, sizeof *fail);
    bool *allow = inword_states(ms);
    bool *word = xcalloc(nc, sizeof *word);

    for (size_t c = 0; c < 256; c++)
        word[ms->cls[c]] = word[ms->cls[c]] || (c < 0x80 && match_is_word((uint32_t)c));
    fail[0] = fail[win] = 0;
    for (size_t c = 0; c < nc; c++) {
        int32_t *e = &ms->delta[c], root = word[c] ? win : 0;
        ms->delta[(size_t)win * nc + c] = *e >= 0 && allow[*e] ? *e : root;
        if (*e < 0)
            *e = root;
        else {
            fail[*e] = root;
            queue[tail++] = *e;
        }
    }
    while (head < tail) {
        int32_t s = queue[head++];
        int32_t f = fail[s];
        ms->dict[s] = ms->out[f] >= 0 ? f : ms->dict[f];
        for (size_t c = 0; c < nc; c++) {
            int32_t *e = &ms->delta[(size_t)s * nc + c];
            int32_t fe = ms->delta[(size_t)f * nc + c];
            if (*e < 0)
                *e = fe;
            else {
                fail[*e] = fe;
                queue[tail++] = *e;
            }
        }
    }
    free(queue);
    free(fail);
    free(allow);
    free(word);
}

/* Renumber the states: the two roots first, then the others in breadth
 * first order except that those which end a term come last; perm maps old
 * to new numbers. */
static int32_t *order_states(struct match_set *ms)
{
    int32_t *perm = xreallocarray(NULL, ms->nstates, sizeof *perm);
    size_t win = ms->nstates - 1; /* build_links added it last */
    int32_t next = 2;

    perm[0] = 0;
    perm[win] = 1;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            ms->emit_min = (uint32_t)next;
        for (size_t s = 1; s < win; s++) {
            bool emits = ms->out[s] >= 0 || ms->dict[s] >= 0;
            if (emits == (pass == 1))
                perm[s] = next++;
        }
    }
    ms->inword = 1;
    return perm;
}

/* Lay the table out by class in 16 bits in the new numbering, let every
 * state entered on white space loop on it, and move out and dict along.
 * By class, because the scan finds a byte's class before it has the state
 * (so the column's address is off the chain of dependent look-ups), and
 * the shallow states, which most bytes visit, then share cache lines. */
static void finish_dfa(struct match_set *ms)
{
    size_t nc = ms->nclasses, ns = ms->nstates;
    int32_t *perm = order_states(ms);
    int32_t *out = xreallocarray(NULL, ns, sizeof *out);
    int32_t *dict = xreallocarray(NULL, ns, sizeof *dict);

    ms->dfa = xreallocarray(NULL, ns * nc, sizeof *ms->dfa);
    for (size_t s = 0; s < ns; s++) {
        size_t to = (size_t)perm[s];
        for (size_t c = 0; c < nc; c++)
            ms->dfa[c * ns + to] = (uint16_t)perm[ms->delta[s * nc + c]];
        if (s != 0 && ms->last[s] == MATCH_SPACE_CLASS)
            ms->dfa[MATCH_SPACE_CLASS * ns + to] = (uint16_t)to;
        out[to] = ms->out[s];
        dict[to] = ms->dict[s] >= 0 ? perm[ms->dict[s]] : -1;
    }
    free(ms->out);
    free(ms->dict);
    free(ms->delta);
    free(ms->last);
    free(perm);
    ms->out = out;
    ms->dict = dict;
    ms->delta = NULL;
    ms->last = NULL;
    for (size_t c = 0; c < 256; c++) {
        bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        size_t cls = space ? MATCH_SPACE_CLASS : ms->cls[fold((unsigned char)c)];
        ms->col[c] = ms->dfa + cls * ms->nstates;
    }
    for (size_t t = 0; t < ms->nterms; t++)
        ms->maxlen = ms->terms[t].len > ms->maxlen ? ms->terms[t].len : ms->maxlen;
}

void match_set_compile(struct match_set *ms)
{
    assign_classes(ms);
    build_trie(ms);
    build_links(ms);
    finish_dfa(ms);
    ms->compiled = true;
}

/* The offset where a term of normalized text norm (len bytes) starts, when
 * its last byte is text[end - 1]: walk back one byte per normalized byte
 * and over a whole white-space run per ' ' (the byte before a run is never
 * white space, as runs fold whole). */
static size_t term_start(const char *text, const char *norm, size_t len, size_t end)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t i = end;

    while (len-- > 0) {
        if (norm[len] != ' ') {
            i--;
            continue;
        }
        for (;;) {
            if (i > 0 &&
                (u[i - 1] == ' ' || u[i - 1] == '\t' || u[i - 1] == '\n' || u[i - 1] == '\r'))
                i--;
            else if (i > 1 && u[i - 1] == 0xa0 && u[i - 2] == 0xc2)
                i -= 2;
            else
                break;
        }
    }
    return i;
}

/* Is the code point that starts at text[i] (i < len) a word character?
 * ASCII, the common case, without decoding. */
static inline bool word_at(const char *text, size_t len, size_t i)
{
    unsigned char c = (unsigned char)text[i];

    if (c < 0x80)
        return match_is_word(c);
    return match_is_word(match_utf8_next(text, len, &i));
}

/* Is the code point that ends just before text[i] (i > 0) one? */
static inline bool word_before(const char *text, size_t i)
{
    unsigned char c = (unsigned char)text[i - 1];

    if (c < 0x80)
        return match_is_word(c);
    return match_is_word(prev_cp(text, i));
}

/* Report the terms ending at state s (which ends at text[end - 1]) if
 * their word edges hold; the last byte of a term is never a folded space,
 * so it is one original byte. The end edge is tested first, as it needs
 * no start, and a term without white space starts its length back: only
 * the others walk back over the runs. */
static void report(const struct match_set *ms, int32_t s, size_t end, const char *text, size_t len,
                   match_fn fn, void *arg)
{
    for (; s >= 0; s = ms->dict[s]) {
        for (int32_t p = ms->out[s]; p >= 0; p = ms->terms[p].next) {
            const struct match_term *t = &ms->terms[p];
            if (t->word_end && end < len && word_at(text, len, end))
                continue;
            size_t start = t->spaced ? term_start(text, t->norm, t->len, end) : end - t->len;
            if (t->word_start && start > 0 && word_before(text, start))
                continue;
            struct match_hit hit = {(size_t)p, start, end};
            fn(arg, &hit);
        }
    }
}

/* Texts shorter than this are scanned in one piece. */
#define MATCH_SPLIT_MIN 256
/* Term ends the second half of a split scan holds back (see below). */
#define MATCH_HELD 64

/* One step of the scan: the byte at *i (U+00A0, C2 A0, as one white space,
 * unless no_c2 says the text holds no C2 byte) from row st to the next row. */
static inline uint32_t scan_step(const struct match_set *ms, const unsigned char *u, size_t len,
                                 size_t *i, uint32_t st, bool no_c2)
{
    unsigned char c = u[(*i)++];
    const uint16_t *col = ms->col[c];

    if (!no_c2 && __builtin_expect(c == 0xc2, 0) && *i < len && u[*i] == 0xa0)
        col = ms->col[' '], (*i)++;
    return col[st];
}

/* Where a scan of text[q, len) must start to be in the state a scan from
 * 0 has at mid: maxlen normalized bytes back (a white-space run is one),
 * since a state is the longest such suffix that can still grow into a
 * term, and what it depends on before that is only the byte before it. */
static size_t warm_start(const struct match_set *ms, const unsigned char *u, size_t mid)
{
    size_t q = mid;

    for (size_t n = 0; q > 0 && n < ms->maxlen; n++) {
        if (!is_space_end(u, q)) {
            q--;
            continue;
        }
        while (q > 0 && is_space_end(u, q))
            q -= u[q - 1] == 0xa0 ? 2 : 1;
    }
    return q;
}

/* Report the terms of row st ending at end (see report). */
static void report_row(const struct match_set *ms, uint32_t st, size_t end, const char *text,
                       size_t len, match_fn fn, void *arg)
{
    report(ms, (int32_t)st, end, text, len, fn, arg);
}

/* One table look-up per byte, but each waits for the one before: the scan
 * is bound by that chain, not by the cache. So a long text is scanned as
 * two halves at once, two independent chains. The second starts early
 * enough to be in the right state at the middle (warm_start) and holds
 * back the term ends it finds past the middle until the first half is
 * reported, so hits still come in order of end offset. */
static inline __attribute__((always_inline)) void scan_halves(const struct match_set *ms,
                                                              const char *text, size_t len,
                                                              match_fn fn, void *arg, bool no_c2)
{
    const unsigned char *u = (const unsigned char *)text;
    struct {
        uint32_t st;
        size_t end;
    } held[MATCH_HELD];
    size_t i = 0, j = len, mid = len, nheld = 0;
    uint32_t a = 0, b = 0, emit_min = ms->emit_min;

    if (len >= MATCH_SPLIT_MIN) {
        mid = len / 2 + (u[len / 2 - 1] == 0xc2 && u[len / 2] == 0xa0);
        j = warm_start(ms, u, mid);
        b = j > 0 && u[j - 1] < 0x80 && match_is_word(u[j - 1]) ? ms->inword : 0;
        /* Without C2 bytes each step takes one byte: one bound does. */
        size_t stop = no_c2 && len - j < mid ? len - j : mid;
        while (i < stop && (no_c2 || j < len)) {
            a = scan_step(ms, u, len, &i, a, no_c2);
            if (a >= emit_min)
                report_row(ms, a, i, text, len, fn, arg);
            b = scan_step(ms, u, len, &j, b, no_c2);
            if (b >= emit_min && j > mid) {
                held[nheld].st = b, held[nheld++].end = j;
                if (nheld == MATCH_HELD)
                    break;
            }
        }
    }
    while (i < mid) {
        a = scan_step(ms, u, len, &i, a, no_c2);
        if (a >= emit_min)
            report_row(ms, a, i, text, len, fn, arg);
    }
    for (size_t k = 0; k < nheld; k++)
        report_row(ms, held[k].st, held[k].end, text, len, fn, arg);
    while (mid < len && j < len) {
        b = scan_step(ms, u, len, &j, b, no_c2);
        if (b >= emit_min && j > mid)
            report_row(ms, b, j, text, len, fn, arg);
    }
}

void match_set_scan(const struct match_set *ms, const char *text, size_t len, match_fn fn,
                    void *arg)
{
    if (!ms->compiled || ms->nterms == 0)
        return;
    /* Most texts hold no C2 byte: their scan skips the test for U+00A0
     * on every byte, about a third of the scan's instructions. */
    if (memchr(text, 0xc2, len) == NULL)
        scan_halves(ms, text, len, fn, arg, true);
    else
        scan_halves(ms, text, len, fn, arg, false);
}

/* Excerpts count "units": one code point, or one run of white space (which
 * prints as a single space). These step over one unit. */
static inline size_t unit_next(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return i + 1; /* the common case, plain ASCII */
    size_t w = space_len(s, len, i);
    if (w == 0) {
        match_utf8_next(s, len, &i);
        return i;
    }
    while (i < len && (w = space_len(s, len, i)) != 0)
        i += w;
    return i;
}

static size_t unit_prev(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i - 1];
    if (c < 0x80 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return i - 1;
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && ((unsigned char)s[j] & 0xc0) == 0x80)
        j--;
    if (space_len(s, len, j) == 0)
        return unit_next(s, len, j) == i ? j : i - 1;
    while (j > 0) {
        size_t k = j - 1;
        if (k > 0 && (unsigned char)s[k] == 0xa0 && (unsigned char)s[k - 1] == 0xc2)
            k--;
        if (space_len(s, len, k) == 0)
            break;
        j = k;
    }
    return j;
}

/* Copy text[from, to) folding white-space runs to one space; the runs of
 * other bytes go in one copy each. */
static void add_folded(struct buf *out, const char *s, size_t len, size_t from, size_t to)
{
    while (from < to) {
        size_t run = from;
        while (run < to && space_len(s, len, run) == 0)
            run++;
        buf_add(out, s + from, run - from);
        if (run == to)
            break;
        buf_addc(out, ' ');
        from = unit_next(s, len, run);
    }
}

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* True when every byte of s[from, to) is ASCII and no two bytes below 0x21
 * touch (so no two white-space bytes do): there every unit is one byte,
 * so the excerpt's arithmetic needs no stepping. Most text is like this;
 * the rest takes the general path. *ctl is set when some byte is below
 * 0x20. Excerpts run this on every quoted byte, so it looks at eight
 * bytes at a time, without a branch per byte. */
static bool plain_bytes(const char *s, size_t from, size_t to, bool *ctl)
{
    const unsigned char *u = (const unsigned char *)s;
    uint64_t bad = 0, low = 0, prev = 0; /* prev: the last byte was below 0x21 */
    size_t i = from;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#if defined(__SSE2__)
    /* Sixteen bytes at a time where SSE2 is there (every x86-64), as a
     * bit per byte: a third of the instructions of the SWAR steps. */
    for (; i + 16 <= to; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(u + i));
        uint64_t m21 = (uint32_t)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x)); /* below 0x21 */
        uint64_t m20 = (uint32_t)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x)); /* below 0x20 */
        bad |= (uint32_t)_mm_movemask_epi8(x) | (m21 & ((m21 << 1) | prev));
        low |= m20;
        prev = m21 >> 15;
    }
    prev <<= 7; /* as the SWAR steps keep it: the high bit of byte 0 */
#endif
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (; i + 8 <= to; i += 8) {
        uint64_t w;
        memcpy(&w, u + i, 8);
        /* The high bit of each byte: set for a byte below 0x21 (lt21) or
         * below 0x20 (lt20); a byte with its own high bit set is bad. */
        uint64_t lt21 = ~((w & ~high) + ones * (0x80 - 0x21)) & ~w & high;
        uint64_t lt20 = ~((w & ~high) + ones * (0x80 - 0x20)) & ~w & high;
        bad |= (w & high) | (lt21 & ((lt21 << 8) | prev));
        low |= lt20;
        prev = lt21 >> 56;
    }
    prev = prev != 0;
#endif
    for (; i < to; i++) {
        uint64_t sp = u[i] < 0x21;
        bad |= (uint64_t)(u[i] >> 7) | (sp & prev);
        low |= u[i] < 0x20;
        prev = sp;
    }
    *ctl = low != 0;
    return bad == 0;
}

bool match_excerpt_span(const char *text, size_t len, size_t start, size_t end, size_t *from,
                        size_t *to)
{
    size_t m = 0, i = start, l = 0, r = 0, lb, rb;
    bool ctl;

    /* The common case, all of the widest span plain, in one test. */
    m = end - start < MATCH_EXCERPT_MAX ? end - start : MATCH_EXCERPT_MAX;
    lb = (MATCH_EXCERPT_MAX - m) / 2;
    lb = lb < MATCH_EXCERPT_CONTEXT ? lb : MATCH_EXCERPT_CONTEXT;
    l = start < lb ? start : lb;
    rb = MATCH_EXCERPT_MAX - m - l;
    rb = rb < MATCH_EXCERPT_CONTEXT ? rb : MATCH_EXCERPT_CONTEXT;
    r = start + m + rb + 1;
    if (plain_bytes(text, start - l - (start > l), r < len ? r : len, &ctl)) {
        *from = start - l;
        *to = start + m + (len - start - m < rb ? len - start - m : rb);
        return !ctl;
    }
    l = 0, r = 0;
    /* When the match is cut, the byte after the cut must be checked too. */
    if (plain_bytes(text, start, start + m < end ? start + m + 1 : end, &ctl))
        i = start + m;
    else {
        for (m = 0; i < end && m < MATCH_EXCERPT_MAX; m++)
            i = unit_next(text, len, i);
    }
    end = i < end ? i : end;
    lb = (MATCH_EXCERPT_MAX - m) / 2;
    lb = lb < MATCH_EXCERPT_CONTEXT ? lb : MATCH_EXCERPT_CONTEXT;
    /* The byte before the last unit must be checked too: white space there
     * would make that unit longer. */
    if (plain_bytes(text, start > lb ? start - lb - 1 : 0, start, &ctl)) {
        l = start < lb ? start : lb;
        start -= l;
    } else {
        for (; l < lb && start > 0; l++)
            start = unit_prev(text, len, start);
    }
    rb = MATCH_EXCERPT_MAX - m - l;
    rb = rb < MATCH_EXCERPT_CONTEXT ? rb : MATCH_EXCERPT_CONTEXT;
    if (plain_bytes(text, end, len - end > rb ? end + rb + 1 : len, &ctl))
        end += len - end < rb ? len - end : rb;
    else {
        for (; r < rb && end < len; r++)
            end = unit_next(text, len, end);
    }
    *from = start;
    *to = end;
    return false;
}

void match_excerpt_trim(const char *text, size_t *from, size_t *to)
{
    *from += *from < *to && text[*from] == ' ';
    *to -= *to > *from && text[*to - 1] == ' ';
}

void match_excerpt_add(struct buf *out, const char *text, size_t len, size_t from, size_t to)
{
    const unsigned char *u = (const unsigned char *)text;

    bool ctl;

    if (plain_bytes(text, from, to, &ctl)) {
        /* Runs are single bytes here: trim one at each end, and copy the
         * rest with tab, CR and LF as ' '. */
        from += from < to && is_ascii_space(u[from]);
        to -= to > from && is_ascii_space(u[to - 1]);
        while (ctl && from < to) {
            size_t run = from;
            while (run < to && (u[run] >= 0x20 || !is_ascii_space(u[run])))
                run++;
            buf_add(out, text + from, run - from);
            if (run == to)
                return;
            buf_addc(out, ' ');
            from = run + 1;
        }
        buf_add(out, text + from, to - from);
        return;
    }
    while (from < to && space_len(text, len, from) != 0)
        from = unit_next(text, len, from);
    for (;;) { /* trim trailing white space, U+00A0 (two bytes) included */
        if (to > from && u[to - 1] < 0x80 && space_len(text, len, to - 1) != 0)
            to--;
        else if (to >= from + 2 && u[to - 1] == 0xa0 && u[to - 2] == 0xc2)
            to -= 2;
        else
            break;
    }
    add_folded(out, text, len, from, to);
}

void match_excerpt(struct buf *out, const char *text, size_t len, size_t start, size_t end)
{
    size_t from, to;

    match_excerpt_span(text, len, start, end, &from, &to);
    match_excerpt_add(out, text, len, from, to);
}
