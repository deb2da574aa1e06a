/* Strict RFC 8259 / RFC 3629 checking of raw submission bytes in one pass. */
#include "jsoncheck.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The significant digits of the smallest decimal that strtod rounds to
 * infinity: DBL_MAX + half an ulp (2^1024 - 2^970), trailing zeros dropped.
 * A number whose leading digit stands for 10^308 overflows exactly when its
 * digits compare greater than or equal to these (the tie rounds to even,
 * which is upwards here because DBL_MAX has an odd mantissa). */
static const char overflow_digits[] =
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475"
    "09466490179775872070963302864166928879109465555478519404026306574886715058206819"
    "08902000708383676273854845817711531764475730270069855571366959622842914819860834"
    "936475292719074168444365510704342711559699508093042880177904174497792";

#define SMALL_WORDS 16 /* the container stack holds 1024 levels without malloc */

/* One run of the checker. The container stack keeps one bit per level
 * (1 = object) so that the grammar can still be followed past max_depth:
 * SPEC §3 ranks not_json above too_deep, so a too-deep input must be read
 * to its end before too_deep may be reported. */
struct jc {
    const uint8_t *start;
    const uint8_t *end;
    size_t max_depth;
    size_t depth;
    uint64_t small[SMALL_WORDS];
    uint64_t *bits; /* small, or a heap copy once it outgrows it */
    size_t words;
    bool too_deep;
    size_t deep_offset;
    enum jsoncheck_code code;
    const char *reason;
    size_t offset;
};

const char *jsoncheck_code_name(enum jsoncheck_code code)
{
    switch (code) {
    case JSONCHECK_OK:
        return "ok";
    case JSONCHECK_BAD_UTF8:
        return "bad_utf8";
    case JSONCHECK_NOT_JSON:
        return "not_json";
    case JSONCHECK_TOO_DEEP:
        return "too_deep";
    }
    return "unknown";
}

static const uint8_t *fail(struct jc *c, enum jsoncheck_code code, const uint8_t *at,
                           const char *reason)
{
    c->code = code;
    c->reason = reason;
    c->offset = (size_t)(at - c->start);
    return NULL;
}

static bool is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Length of the well-formed UTF-8 sequence starting with the non-ASCII
 * byte at p, or 0 with *reason set (RFC 3629 table 3-7: the second byte's
 * range excludes overlong forms, surrogates and code points past U+10FFFF). */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end, const char **reason)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0xC0 || c > 0xF7) {
        *reason = c < 0xC0 ? "unexpected continuation byte" : "invalid byte";
        return 0;
    }
    if (c < 0xC2) {
        *reason = "overlong encoding";
        return 0;
    }
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c < 0xF5) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        *reason = "code point above U+10FFFF";
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if (p + i >= end || (p[i] & 0xC0) != 0x80) {
            *reason = "truncated sequence";
            return 0;
        }
    }
    if (p[1] < lo || p[1] > hi) {
        if (p[1] < lo)
            *reason = "overlong encoding";
        else
            *reason = c == 0xED ? "encoded surrogate" : "code point above U+10FFFF";
        return 0;
    }
    return n;
}

/* The encoding check alone, for the bytes after a grammar error. */
static const uint8_t *utf8_scan(const uint8_t *p, const uint8_t *end, const char **reason)
{
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_seq(p, end, reason);
        if (n == 0)
            return p;
        p += n;
    }
    return NULL;
}

static long hex4(const uint8_t *p, const uint8_t *end)
{
    long v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        uint8_t b = p[i];
        int d;
        if (is_digit(b))
            d = b - '0';
        else if (b >= 'a' && b <= 'f')
            d = b - 'a' + 10;
        else if (b >= 'A' && b <= 'F')
            d = b - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* p is at a backslash inside a string. A \u escape of a surrogate must be a
 * high one followed at once by an escaped low one: anything else would
 * decode to a lone surrogate, which is an encoding error (bad_utf8). */
static const uint8_t *scan_escape(struct jc *c, const uint8_t *p, bool key)
{
    const uint8_t *esc = p, *end = c->end;

    if (end - p < 2)
        return fail(c, JSONCHECK_NOT_JSON, p, "unterminated string");
    if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0')
        return p + 2;
    if (p[1] != 'u')
        return fail(c, JSONCHECK_NOT_JSON, p, "invalid escape");
    long u = hex4(p + 2, end);
    if (u < 0)
        return fail(c, JSONCHECK_NOT_JSON, p, "invalid \\u escape");
    p += 6;
    if (u == 0 && key)
        return fail(c, JSONCHECK_NOT_JSON, esc, "\\u0000 in an object key");
    if (u < 0xD800 || u > 0xDFFF)
        return p;
    if (u >= 0xDC00 || end - p < 2 || p[0] != '\\' || p[1] != 'u')
        return fail(c, JSONCHECK_BAD_UTF8, esc, "escaped lone surrogate");
    long lo = hex4(p + 2, end);
    if (lo < 0)
        return fail(c, JSONCHECK_NOT_JSON, p, "invalid \\u escape");
    if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(c, JSONCHECK_BAD_UTF8, esc, "escaped lone surrogate");
    return p + 6;
}

/* Does any of the 8 bytes at p end the fast run of a string: a quote, a
 * backslash, a control character or a non-ASCII byte? The classic SWAR
 * tests (Hacker's Delight, "has zero byte" / "has byte less than n"), so
 * that long ASCII texts such as cv_text go 8 bytes per step. */
static bool word_stops(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t x, q, b;

    memcpy(&x, p, sizeof x);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high;
}

/* p is just past the opening quote; returns the byte after the closing one. */
#if defined(__SSE2__)
/* The same for 16 bytes where SSE2 is there (every x86-64), as a mask of
 * the bytes that stop, so the scan can jump to the first of them. */
static unsigned block_stops(const uint8_t *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i bslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(ctl, quote), _mm_or_si128(bslash, x)));
}
#endif

static const uint8_t *scan_string(struct jc *c, const uint8_t *p, bool key)
{
    const uint8_t *end = c->end;
    const char *reason;

    for (;;) {
#if defined(__SSE2__)
        while (end - p >= 16) {
            unsigned m = block_stops(p);
            if (m != 0) {
                p += __builtin_ctz(m);
                break;
            }
            p += 16;
        }
#endif
        while (end - p >= 8 && !word_stops(p))
            p += 8;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p == end)
            return fail(c, JSONCHECK_NOT_JSON, p, "unterminated string");
        if (*p == '"')
            return p + 1;
        if (*p == '\\') {
            p = scan_escape(c, p, key);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (*p < 0x20)
            return fail(c, JSONCHECK_NOT_JSON, p, "control character in string");
        size_t n = utf8_seq(p, end, &reason);
        if (n == 0)
            return fail(c, JSONCHECK_BAD_UTF8, p, reason);
        p += n;
    }
}

/* Does int.frac x 10^exp round to infinity as a double? Only the position
 * of the first non-zero digit matters, unless it stands for 10^308: then
 * the digits are compared with overflow_digits. Pure digit arithmetic, so
 * the answer never depends on the locale or on strtod. */
static bool number_overflows(const uint8_t *ip, const uint8_t *ie, const uint8_t *fp,
                             const uint8_t *fe, int64_t exp)
{
    const uint8_t *d = ip;
    int64_t lead;

    while (d < ie && *d == '0')
        d++;
    if (d < ie) {
        lead = (int64_t)(ie - d) - 1 + exp;
    } else {
        for (d = fp; d < fe && *d == '0'; d++)
            ;
        if (d == fe)
            return false; /* zero, whatever the exponent */
        lead = -(int64_t)(d - fp) - 1 + exp;
    }
    if (lead != 308)
        return lead > 308;
    for (const char *t = overflow_digits;; t++) {
        if (d == ie)
            d = fp;
        if (*t == '\0')
            return true; /* equal so far and the rest is >= 0: a tie or more */
        if (d >= fe)
            return false;
        if (*d != (uint8_t)*t)
            return *d > (uint8_t)*t;
        d++;
    }
}

static const uint8_t *scan_number(struct jc *c, const uint8_t *p)
{
    const uint8_t *start = p, *end = c->end;
    int64_t exp = 0;
    bool has_exp = false;

    if (*p == '-')
        p++;
    const uint8_t *ip = p;
    if (p == end || !is_digit(*p))
        return fail(c, JSONCHECK_NOT_JSON, start, "minus sign without digits");
    if (*p == '0' && ++p < end && is_digit(*p))
        return fail(c, JSONCHECK_NOT_JSON, ip, "leading zero");
    while (p < end && is_digit(*p))
        p++;
    const uint8_t *ie = p, *fp = p, *fe = p;
    if (p < end && *p == '.') {
        for (fp = ++p; p < end && is_digit(*p); p++)
            ;
        fe = p;
        if (fe == fp)
            return fail(c, JSONCHECK_NOT_JSON, p, "no digits after the decimal point");
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool neg = false;
        has_exp = true;
        if (++p < end && (*p == '+' || *p == '-'))
            neg = *p++ == '-';
        const uint8_t *ep = p;
        for (; p < end && is_digit(*p); p++)
            if (exp < 1000000000) /* saturate: the verdict is the same */
                exp = exp * 10 + (*p - '0');
        if (p == ep)
            return fail(c, JSONCHECK_NOT_JSON, p, "no digits in the exponent");
        if (neg)
            exp = -exp;
    }
    if ((has_exp || ie - ip > 308) && number_overflows(ip, ie, fp, fe, exp))
        return fail(c, JSONCHECK_NOT_JSON, start, "number out of range");
    return p;
}

static const uint8_t *scan_literal(struct jc *c, const uint8_t *p, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - p) < n || memcmp(p, word, n) != 0)
        return fail(c, JSONCHECK_NOT_JSON, p, "invalid literal");
    return p + n;
}

/* Why the byte at p cannot start a value: the common non-JSON habits get
 * their own words so that a dead letter's detail says what went wrong. */
static const uint8_t *bad_value(struct jc *c, const uint8_t *p)
{
    const char *reason = "unexpected character";

    if (p == c->end)
        reason = "unexpected end of input";
    else if (p == c->start && c->end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        reason = "byte-order mark";
    else if (*p == 'N')
        reason = "NaN is not JSON";
    else if (*p == 'I')
        reason = "Infinity is not JSON";
    else if (*p == '\'')
        reason = "single quotes are not JSON";
    else if (*p == '/')
        reason = "comments are not JSON";
    else if (*p == '+')
        reason = "plus sign is not JSON";
    else if (*p == '.')
        reason = "number without an integer part";
    else if (*p == ']' || *p == '}')
        reason = "trailing comma or missing value";
    return fail(c, JSONCHECK_NOT_JSON, p, reason);
}

static void push(struct jc *c, bool object, const uint8_t *at)
{
    if (c->depth == c->words * 64) {
        uint64_t *grown = xreallocarray(NULL, c->words * 2, sizeof *grown);
        memcpy(grown, c->bits, c->words * sizeof *grown);
        if (c->bits != c->small)
            free(c->bits);
        c->bits = grown;
        c->words *= 2;
    }
    uint64_t bit = (uint64_t)1 << (c->depth % 64);
    if (object)
        c->bits[c->depth / 64] |= bit;
    else
        c->bits[c->depth / 64] &= ~bit;
    if (++c->depth > c->max_depth && !c->too_deep) {
        c->too_deep = true;
        c->deep_offset = (size_t)(at - c->start);
    }
}

static bool top_is_object(const struct jc *c)
{
    size_t i = c->depth - 1;
    return (c->bits[i / 64] >> (i % 64)) & 1;
}

/* A member key and its colon; p is at the key's opening quote (or not). */
static const uint8_t *scan_key(struct jc *c, const uint8_t *p)
{
    p = skip_ws(p, c->end);
    if (p == c->end || *p != '"') {
        if (p < c->end && *p == '}')
            return fail(c, JSONCHECK_NOT_JSON, p, "trailing comma");
        if (p < c->end && *p == '\'')
            return fail(c, JSONCHECK_NOT_JSON, p, "single quotes are not JSON");
        return fail(c, JSONCHECK_NOT_JSON, p, "expected a string key");
    }
    p = scan_string(c, p + 1, true);
    if (p == NULL)
        return NULL;
    p = skip_ws(p, c->end);
    if (p == c->end || *p != ':')
        return fail(c, JSONCHECK_NOT_JSON, p, "expected ':'");
    return p + 1;
}

/* One value (scalar or the opening of a container); NULL on error. */
static const uint8_t *scan_value(struct jc *c, const uint8_t *p)
{
    switch (p < c->end ? *p : 0) {
    case '"':
        return scan_string(c, p + 1, false);
    case 't':
        return scan_literal(c, p, "true");
    case 'f':
        return scan_literal(c, p, "false");
    case 'n':
        return scan_literal(c, p, "null");
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return scan_number(c, p);
    default:
        return bad_value(c, p);
    }
}

/* The grammar as a loop over "expect a value" and "after a value" states,
 * with the container stack deciding what may follow a value. Returns with
 * c->code set; OK means the whole input was one well-formed value. */
static void scan(struct jc *c)
{
    const uint8_t *p = c->start, *end = c->end;

value:
    p = skip_ws(p, end);
    if (p < end && (*p == '{' || *p == '[')) {
        bool object = *p == '{';
        push(c, object, p);
        p = skip_ws(p + 1, end);
        if (p < end && *p == (object ? '}' : ']')) {
            p++;
            c->depth--;
            goto after;
        }
        if (object && (p = scan_key(c, p)) == NULL)
            return;
        goto value;
    }
    if ((p = scan_value(c, p)) == NULL)
        return;
after:
    p = skip_ws(p, end);
    if (c->depth == 0) {
        if (p != end)
            fail(c, JSONCHECK_NOT_JSON, p, "data after the value");
        return;
    }
    if (p < end && *p == ',') {
        p++;
        if (top_is_object(c) && (p = scan_key(c, p)) == NULL)
            return;
        goto value;
    }
    if (p < end && *p == (top_is_object(c) ? '}' : ']')) {
        p++;
        c->depth--;
        goto after;
    }
    fail(c, JSONCHECK_NOT_JSON, p,
         p == end ? "unexpected end of input" : "expected ',' or a closing bracket");
}

enum jsoncheck_code jsoncheck_run(const char *bytes, size_t len, int max_depth,
                                  struct jsoncheck_result *r)
{
    struct jc c;

    memset(&c, 0, sizeof c);
    c.start = (const uint8_t *)bytes;
    c.end = c.start + len;
    c.max_depth = max_depth < 0 ? 0 : (size_t)max_depth;
    c.bits = c.small;
    c.words = SMALL_WORDS;
    c.reason = "";
    scan(&c);

    /* The grammar pass stops at its first error, but an encoding error
     * further on outranks it (SPEC §3): the bytes before the error were
     * all checked, so only the rest needs the encoding scan. */
    if (c.code == JSONCHECK_NOT_JSON) {
        const char *reason;
        const uint8_t *bad = utf8_scan(c.start + c.offset, c.end, &reason);
        if (bad != NULL)
            fail(&c, JSONCHECK_BAD_UTF8, bad, reason);
    } else if (c.code == JSONCHECK_OK && c.too_deep) {
        c.code = JSONCHECK_TOO_DEEP;
        c.reason = "nested too deep";
        c.offset = c.deep_offset;
    }
    if (c.bits != c.small)
        free(c.bits);

    const uint8_t *top = skip_ws(c.start, c.end);
    r->code = c.code;
    r->reason = c.reason;
    r->offset = c.code == JSONCHECK_OK ? 0 : c.offset;
    r->top = top < c.end ? (char)*top : '\0';
    return c.code;
}
