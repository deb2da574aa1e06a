/* libFuzzer target: jsoncheck_run against a small independent reference
 * (a recursive-descent RFC 8259 reader over a decoding UTF-8 check), with
 * json-c parsing and re-rendering whatever the strict checker accepts. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz_util.h"
#include "jsoncheck.h"

/* The reference gives up (no comparison) past this many levels, so that its
 * recursion stays far from the end of the stack. */
#define REF_DEPTH_LIMIT 4000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Outcome of the reference: the first error met in reading order stops it,
 * except depth, which is only noted (not_json outranks too_deep). */
enum ref_stop { REF_NONE, REF_GRAMMAR, REF_SURROGATE, REF_GAVE_UP };

struct ref {
    const uint8_t *p, *end;
    int max_depth;
    bool too_deep;
    enum ref_stop stop;
};

static bool ref_value(struct ref *r, int depth);

static bool ref_fail(struct ref *r, enum ref_stop why)
{
    r->stop = why;
    return false;
}

static void ref_ws(struct ref *r)
{
    while (r->p < r->end && fuzz_is_ws(*r->p))
        r->p++;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits after "\u" at p; -1 when they are not there. */
static long hex4(const uint8_t *p, const uint8_t *end)
{
    long v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One "\u" escape of four hex digits (r->p just past the 'u'), pairing surrogates. */
static bool ref_unicode_escape(struct ref *r, bool *is_nul)
{
    long v = hex4(r->p, r->end), lo;

    if (v < 0)
        return ref_fail(r, REF_GRAMMAR);
    r->p += 4;
    *is_nul = v == 0;
    if (v >= 0xDC00 && v <= 0xDFFF)
        return ref_fail(r, REF_SURROGATE);
    if (v < 0xD800 || v > 0xDBFF)
        return true;
    if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
        return ref_fail(r, REF_SURROGATE);
    lo = hex4(r->p + 2, r->end);
    if (lo < 0)
        return ref_fail(r, REF_GRAMMAR); /* ambiguous; the caller tolerates both */
    if (lo < 0xDC00 || lo > 0xDFFF)
        return ref_fail(r, REF_SURROGATE);
    r->p += 6;
    return true;
}

/* A string (r->p on its opening quote). A \u0000 in a key is a grammar
 * error where the escape stands: one pass meets it before anything later
 * in the key (json-c would cut the key there). */
static bool ref_string(struct ref *r, bool key)
{
    r->p++;
    for (;;) {
        if (r->p >= r->end)
            return ref_fail(r, REF_GRAMMAR);
        uint8_t c = *r->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return ref_fail(r, REF_GRAMMAR);
        if (c != '\\')
            continue;
        if (r->p >= r->end)
            return ref_fail(r, REF_GRAMMAR);
        c = *r->p++;
        if (c == 'u') {
            bool nul;
            if (!ref_unicode_escape(r, &nul))
                return false;
            if (nul && key)
                return ref_fail(r, REF_GRAMMAR);
        } else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
            return ref_fail(r, REF_GRAMMAR);
        }
    }
}

static bool ref_digits(struct ref *r)
{
    const uint8_t *start = r->p;

    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    return r->p > start;
}

/* A number by the RFC 8259 grammar, then finite by strtod (C locale). */
static bool ref_number(struct ref *r)
{
    const uint8_t *start = r->p;

    if (*r->p == '-')
        r->p++;
    if (r->p < r->end && *r->p == '0')
        r->p++;
    else if (!ref_digits(r))
        return ref_fail(r, REF_GRAMMAR);
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!ref_digits(r))
            return ref_fail(r, REF_GRAMMAR);
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (!ref_digits(r))
            return ref_fail(r, REF_GRAMMAR);
    }
    size_t n = (size_t)(r->p - start);
    char *text = strndup((const char *)start, n);
    if (text == NULL)
        abort();
    double d = strtod(text, NULL);
    free(text);
    return isfinite(d) ? true : ref_fail(r, REF_GRAMMAR);
}

static bool ref_literal(struct ref *r, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return ref_fail(r, REF_GRAMMAR);
    r->p += n;
    return true;
}

/* An object or array (r->p on its opening bracket) at level depth. */
static bool ref_container(struct ref *r, int depth)
{
    bool object = *r->p == '{';
    uint8_t close = object ? '}' : ']';

    if (depth > r->max_depth)
        r->too_deep = true;
    if (depth > REF_DEPTH_LIMIT)
        return ref_fail(r, REF_GAVE_UP);
    r->p++;
    ref_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return true;
    }
    for (;;) {
        if (object) {
            if (r->p >= r->end || *r->p != '"')
                return ref_fail(r, REF_GRAMMAR);
            if (!ref_string(r, true))
                return false;
            ref_ws(r);
            if (r->p >= r->end || *r->p++ != ':')
                return ref_fail(r, REF_GRAMMAR);
        }
        if (!ref_value(r, depth + 1))
            return false;
        ref_ws(r);
        if (r->p >= r->end)
            return ref_fail(r, REF_GRAMMAR);
        uint8_t c = *r->p++;
        if (c == close)
            return true;
        if (c != ',')
            return ref_fail(r, REF_GRAMMAR);
        ref_ws(r);
    }
}

/* A value with white space before it; containers get level depth. */
static bool ref_value(struct ref *r, int depth)
{
    ref_ws(r);
    if (r->p >= r->end)
        return ref_fail(r, REF_GRAMMAR);
    switch (*r->p) {
    case '{':
    case '[':
        return ref_container(r, depth);
    case '"':
        return ref_string(r, false);
    case 't':
        return ref_literal(r, "true");
    case 'f':
        return ref_literal(r, "false");
    case 'n':
        return ref_literal(r, "null");
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            return ref_number(r);
        return ref_fail(r, REF_GRAMMAR);
    }
}

/* Does the text hold a "\u" escape of a surrogate anywhere? */
static bool mentions_surrogate(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 3 < size; i++)
        if (data[i] == '\\' && data[i + 1] == 'u' && (data[i + 2] | 0x20) == 'd' &&
            hexval(data[i + 3]) >= 8)
            return true;
    return false;
}

/* The reference verdict; *alt is a second acceptable one (or the same)
 * for the one ambiguous case: a grammar error in an input that also holds
 * an escaped surrogate may be reported either way. Returns -1 when the
 * reference gave up. */
static int reference(const uint8_t *data, size_t size, int max_depth, int *alt)
{
    struct ref r = {data, data + size, max_depth, false, REF_NONE};

    *alt = -1;
    if (!fuzz_utf8_valid(data, size))
        return *alt = JSONCHECK_BAD_UTF8;
    if (ref_value(&r, 1)) {
        ref_ws(&r);
        if (r.p != r.end)
            r.stop = REF_GRAMMAR;
    }
    switch (r.stop) {
    case REF_GAVE_UP:
        return -1;
    case REF_SURROGATE:
        return *alt = JSONCHECK_BAD_UTF8;
    case REF_GRAMMAR:
        *alt = mentions_surrogate(data, size) ? JSONCHECK_BAD_UTF8 : JSONCHECK_NOT_JSON;
        return JSONCHECK_NOT_JSON;
    case REF_NONE:
        break;
    }
    return *alt = r.too_deep ? JSONCHECK_TOO_DEEP : JSONCHECK_OK;
}

/* The kind of value a first byte starts: numbers start with '-' or a digit. */
static char kind(char top)
{
    return top == '-' || (top >= '0' && top <= '9') ? '0' : top;
}

static uint8_t first_non_ws(const uint8_t *data, size_t size)
{
    size_t i = 0;

    while (i < size && fuzz_is_ws(data[i]))
        i++;
    return i < size ? data[i] : 0;
}

/* Whatever the checker accepts json-c must parse, and json-c's rendering
 * of it must pass the checker again with the same top-level type. */
static void check_accepted(const uint8_t *data, size_t size, const struct jsoncheck_result *r)
{
    struct jsoncheck_result again;
    json_object *o;
    const char *text;
    size_t n;

    if ((uint8_t)r->top != first_non_ws(data, size))
        fuzz_die("top '%c' is not the first byte of the value", r->top);
    if (!fuzz_jsonc_parse(data, size, FUZZ_JSONC_DEPTH, &o))
        fuzz_die("checker accepts what json-c refuses");
    text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
    if (jsoncheck_run(text, n, 64, &again) != JSONCHECK_OK || kind(again.top) != kind(r->top))
        fuzz_die("json-c's rendering is refused (%s at %zu: %s): %s",
                 jsoncheck_code_name(again.code), again.offset, again.reason, text);
    json_object_put(o);
}

static void compare(const uint8_t *data, size_t size, int max_depth)
{
    struct jsoncheck_result r;
    int alt, want;

    memset(&r, 0xA5, sizeof r);
    if (jsoncheck_run((const char *)data, size, max_depth, &r) != r.code)
        fuzz_die("return value differs from r->code");
    if (r.reason == NULL || (r.code == JSONCHECK_OK) != (r.reason[0] == '\0'))
        fuzz_die("reason \"%s\" for %s", r.reason ? r.reason : "(null)",
                 jsoncheck_code_name(r.code));
    if (r.code != JSONCHECK_OK && r.offset > size)
        fuzz_die("offset %zu past the end %zu", r.offset, size);
    want = reference(data, size, max_depth, &alt);
    if (want >= 0 && (int)r.code != want && (int)r.code != alt)
        fuzz_die("depth %d: checker says %s (%s at %zu), reference %s", max_depth,
                 jsoncheck_code_name(r.code), r.reason, r.offset,
                 jsoncheck_code_name((enum jsoncheck_code)want));
    if (r.code == JSONCHECK_OK && max_depth >= FUZZ_JSONC_DEPTH - 1)
        check_accepted(data, size, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare(data, size, 64);
    compare(data, size, 2);
    return 0;
}
