/* Submission validation (SPEC §3): the checks in the contract's order. */
#include "submission.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "jsoncheck.h"
#include "role.h"
#include "timefmt.h"

#define SUB_MAX_DEPTH 64

/* Where a failure is described: the caller's detail buffer. */
struct vctx {
    char *detail;
    size_t detail_len;
};

/* Which control characters a text field tolerates (SPEC §3): none, or the
 * tab, line feed and carriage return of multi-line texts. */
enum text_kind {
    TEXT_LINE,
    TEXT_BLOCK,
};

const char *sub_code_name(enum sub_code code)
{
    static const char *const names[] = {
        [SUB_OK] = "ok",
        [SUB_TOO_LARGE] = "too_large",
        [SUB_BAD_UTF8] = "bad_utf8",
        [SUB_NOT_JSON] = "not_json",
        [SUB_TOO_DEEP] = "too_deep",
        [SUB_NOT_OBJECT] = "not_object",
        [SUB_MISSING_FIELD] = "missing_field",
        [SUB_BAD_FIELD] = "bad_field",
        [SUB_NO_CONSENT] = "no_consent",
        [SUB_UNKNOWN_ROLE] = "unknown_role",
    };
    if ((unsigned)code >= sizeof names / sizeof names[0])
        return "unknown";
    return names[code];
}

static enum sub_code vfail(struct vctx *v, enum sub_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum sub_code vfail(struct vctx *v, enum sub_code code, const char *fmt, ...)
{
    va_list ap;

    if (v->detail_len > 0) {
        va_start(ap, fmt);
        vsnprintf(v->detail, v->detail_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_ws(unsigned char b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
}

static bool is_control(unsigned char b, enum text_kind kind)
{
    if (b == 0x7f)
        return true;
    if (b >= 0x20)
        return false;
    return kind == TEXT_LINE || (b != '\t' && b != '\n' && b != '\r');
}

/* The sum of the eight byte lanes of v, each at most 255. */
static size_t lane_sum(uint64_t v)
{
    const uint64_t even = 0x00ff00ff00ff00ffu;
    v = (v & even) + ((v >> 8) & even);
    return (size_t)((v * 0x0001000100010001u) >> 48);
}

/* Code points of a string that jsoncheck has already proven to be UTF-8
 * (every byte except a continuation byte 10xxxxxx starts one), and whether
 * it holds a control character its kind forbids. Eight bytes per step
 * with the SWAR "has byte less than" / "has zero byte" tests: cv_text may
 * be 100000 characters, and this runs on every text of every submission.
 * The exact per-kind test runs only on the words holding a control byte
 * (the line feeds of a multi-line text are few). */
static size_t text_scan(const char *s, size_t n, enum text_kind kind, bool *control)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t x, del, lanes = 0;
    size_t cont = 0, i = 0, k = 0;
    bool ctl = false;

#if defined(__SSE2__)
    /* Sixteen bytes at a time where SSE2 is there (every x86-64), in half
     * the instructions of the SWAR steps below: a continuation byte (0x80
     * to 0xbf, below -64 as a signed byte) adds one to its byte lane, and
     * the lanes are summed (psadbw) every 255 blocks, as below. */
    const __m128i zero = _mm_setzero_si128();
    __m128i acc = zero;
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(v, _mm_set1_epi8(-64)));
        if (_mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)))) != 0) {
            for (size_t j = 0; j < 16; j++)
                ctl = ctl || is_control((unsigned char)s[i + j], kind);
        }
        if (++k == 255 || n - i < 32) {
            uint64_t sum[2];
            _mm_storeu_si128((__m128i *)sum, _mm_sad_epu8(acc, zero));
            cont += (size_t)(sum[0] + sum[1]);
            acc = zero, k = 0;
        }
    }
#endif
    /* The continuation bytes are counted in eight byte-wide lanes, summed
     * every 255 words before a lane can overflow: __builtin_popcountll is a
     * libgcc call on baseline x86-64, which cost more than the rest. */
    for (; n - i >= 8; i += 8) {
        memcpy(&x, s + i, sizeof x);
        lanes += (x & ~(x << 1) & high) >> 7;
        del = x ^ (ones * 0x7f);
        if ((((x - ones * 0x20) & ~x) | ((del - ones) & ~del)) & high) {
            for (size_t j = 0; j < 8; j++)
                ctl = ctl || is_control((unsigned char)s[i + j], kind);
        }
        if (++k == 255) {
            cont += lane_sum(lanes);
            lanes = 0, k = 0;
        }
    }
    cont += lane_sum(lanes);
    for (; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        cont += (b & 0xC0) == 0x80;
        ctl = ctl || is_control(b, kind);
    }
    *control = ctl;
    return n - cont;
}

static size_t utf8_len(const char *s, size_t n)
{
    bool control;
    return text_scan(s, n, TEXT_BLOCK, &control);
}

static bool has_control(const char *s, size_t n, enum text_kind kind)
{
    bool control;
    text_scan(s, n, kind, &control);
    return control;
}

static bool has_ws(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_ws((unsigned char)s[i]))
            return true;
    return false;
}

/* Names a field in a detail: "skills", "skills[3]", "experience[2].title",
 * "links.github". Formatted only on failure, so that validating a good
 * submission costs no printf per array element. */
struct fpath {
    const char *field;
    size_t index; /* NO_INDEX when the field is not an array element */
    const char *member;
};
#define NO_INDEX SIZE_MAX
#define FIELD(name) (&(const struct fpath){(name), NO_INDEX, NULL})

static void fpath_format(const struct fpath *fp, char *out, size_t n)
{
    int len = snprintf(out, n, "%s", fp->field);
    if (fp->index != NO_INDEX && len >= 0 && (size_t)len < n)
        len += snprintf(out + len, n - (size_t)len, "[%zu]", fp->index);
    if (fp->member != NULL && len >= 0 && (size_t)len < n)
        snprintf(out + len, n - (size_t)len, ".%s", fp->member);
}

/* A text field: a string of min..max code points without the control
 * characters its kind forbids. fp names the field in the detail. */
static enum sub_code check_text(struct vctx *v, const struct fpath *fp, json_object *o, size_t min,
                                size_t max, enum text_kind kind)
{
    char path[96];
    const char *s = NULL;
    size_t n = 0, cps = 0;
    bool control = false;

    if (json_object_is_type(o, json_type_string)) {
        s = json_object_get_string(o);
        n = (size_t)json_object_get_string_len(o);
        cps = text_scan(s, n, kind, &control);
        if (cps >= min && cps <= max && !control)
            return SUB_OK;
    }
    fpath_format(fp, path, sizeof path);
    if (s == NULL)
        return vfail(v, SUB_BAD_FIELD, "%s: must be a string", path);
    if (cps < min || cps > max) {
        if (min > 0)
            return vfail(v, SUB_BAD_FIELD, "%s: must be %zu-%zu characters", path, min, max);
        return vfail(v, SUB_BAD_FIELD, "%s: must be at most %zu characters", path, max);
    }
    if (kind == TEXT_LINE)
        return vfail(v, SUB_BAD_FIELD, "%s: must not contain control characters", path);
    return vfail(v, SUB_BAD_FIELD,
                 "%s: must not contain control characters other than tab, line feed and "
                 "carriage return",
                 path);
}

static bool number_in(json_object *o, double lo, double hi, double *out)
{
    if (!json_object_is_type(o, json_type_double) && !json_object_is_type(o, json_type_int))
        return false;
    double d = json_object_get_double(o);
    *out = d;
    return d >= lo && d <= hi;
}

/* An id-like string: only bytes of the class, min..max of them. */
static bool matches(const char *s, size_t n, const char *first, const char *rest, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *set = i == 0 ? first : rest;
        if (s[i] == '\0' || strchr(set, s[i]) == NULL)
            return false;
    }
    return true;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ" LOWER_DIGITS "._-"

static enum sub_code check_role(struct vctx *v, struct submission *s, json_object *o)
{
    if (!json_object_is_type(o, json_type_string))
        return vfail(v, SUB_BAD_FIELD, "role: must be a string");
    s->role = json_object_get_string(o);
    if (!matches(s->role, (size_t)json_object_get_string_len(o), LOWER_DIGITS, LOWER_DIGITS "-",
                 64))
        return vfail(v, SUB_BAD_FIELD, "role: must match [a-z0-9][a-z0-9-]{0,63}");
    return SUB_OK;
}

static enum sub_code check_name(struct vctx *v, struct submission *s, json_object *o)
{
    enum sub_code code = check_text(v, FIELD("name"), o, 1, 200, TEXT_LINE);
    if (code != SUB_OK)
        return code;
    s->name = json_object_get_string(o);
    for (const char *p = s->name; *p != '\0'; p++)
        if (!is_ws((unsigned char)*p))
            return SUB_OK;
    return vfail(v, SUB_BAD_FIELD, "name: must not be only white space");
}

/* The domain after the @: at least two labels, none of them empty. */
static bool domain_ok(const char *d, size_t n)
{
    size_t labels = 1, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] != '.') {
            len++;
            continue;
        }
        if (len == 0)
            return false;
        labels++;
        len = 0;
    }
    return len > 0 && labels >= 2;
}

static enum sub_code check_email(struct vctx *v, struct submission *s, json_object *o)
{
    if (!json_object_is_type(o, json_type_string))
        return vfail(v, SUB_BAD_FIELD, "email: must be a string");
    const char *e = json_object_get_string(o);
    size_t n = (size_t)json_object_get_string_len(o);
    if (utf8_len(e, n) > 254)
        return vfail(v, SUB_BAD_FIELD, "email: must be at most 254 characters");
    if (has_ws(e, n))
        return vfail(v, SUB_BAD_FIELD, "email: must not contain white space");
    if (has_control(e, n, TEXT_LINE))
        return vfail(v, SUB_BAD_FIELD, "email: must not contain control characters");
    const char *at = memchr(e, '@', n);
    if (at == NULL || memchr(at + 1, '@', n - (size_t)(at - e) - 1) != NULL)
        return vfail(v, SUB_BAD_FIELD, "email: must contain exactly one @");
    if (at == e)
        return vfail(v, SUB_BAD_FIELD, "email: local part must not be empty");
    if (!domain_ok(at + 1, n - (size_t)(at - e) - 1))
        return vfail(v, SUB_BAD_FIELD,
                     "email: domain must have at least 2 non-empty dot-separated labels");
    s->email = e;
    return SUB_OK;
}

static enum sub_code check_consent(struct vctx *v, struct submission *s, json_object *o)
{
    (void)s;
    if (!json_object_is_type(o, json_type_boolean) || !json_object_get_boolean(o))
        return vfail(v, SUB_NO_CONSENT, "consent: must be true");
    return SUB_OK;
}

static enum sub_code check_id(struct vctx *v, struct submission *s, json_object *o)
{
    if (!json_object_is_type(o, json_type_string) ||
        !matches(json_object_get_string(o), (size_t)json_object_get_string_len(o), ID_CHARS,
                 ID_CHARS, 64))
        return vfail(v, SUB_BAD_FIELD, "id: must match [A-Za-z0-9._-]{1,64}");
    s->id = json_object_get_string(o);
    return SUB_OK;
}

static enum sub_code check_submitted_at(struct vctx *v, struct submission *s, json_object *o)
{
    if (!json_object_is_type(o, json_type_string) ||
        !timefmt_rfc3339_valid(json_object_get_string(o), (size_t)json_object_get_string_len(o)))
        return vfail(v, SUB_BAD_FIELD, "submitted_at: must be an RFC 3339 date-time");
    s->submitted_at = json_object_get_string(o);
    return SUB_OK;
}

static enum sub_code check_headline(struct vctx *v, struct submission *s, json_object *o)
{
    enum sub_code code = check_text(v, FIELD("headline"), o, 0, 300, TEXT_LINE);
    s->headline = json_object_get_string(o);
    s->headline_len = (size_t)json_object_get_string_len(o);
    return code;
}

static enum sub_code check_summary(struct vctx *v, struct submission *s, json_object *o)
{
    enum sub_code code = check_text(v, FIELD("summary"), o, 0, 5000, TEXT_BLOCK);
    s->summary = json_object_get_string(o);
    s->summary_len = (size_t)json_object_get_string_len(o);
    return code;
}

static enum sub_code check_years(struct vctx *v, struct submission *s, json_object *o)
{
    if (!number_in(o, 0, 60, &s->years_experience))
        return vfail(v, SUB_BAD_FIELD, "years_experience: must be a number 0-60");
    s->has_years = true;
    return SUB_OK;
}

/* An array of at most max_items strings of 1..max_len code points. */
static enum sub_code check_list(struct vctx *v, const char *field, json_object *o, size_t max_items,
                                size_t max_len)
{
    if (!json_object_is_type(o, json_type_array))
        return vfail(v, SUB_BAD_FIELD, "%s: must be an array", field);
    size_t n = json_object_array_length(o);
    if (n > max_items)
        return vfail(v, SUB_BAD_FIELD, "%s: must have at most %zu entries", field, max_items);
    for (size_t i = 0; i < n; i++) {
        const struct fpath fp = {field, i, NULL};
        enum sub_code code =
            check_text(v, &fp, json_object_array_get_idx(o, i), 1, max_len, TEXT_LINE);
        if (code != SUB_OK)
            return code;
    }
    return SUB_OK;
}

static enum sub_code check_skills(struct vctx *v, struct submission *s, json_object *o)
{
    s->skills = o;
    return check_list(v, "skills", o, 100, 100);
}

static enum sub_code check_certifications(struct vctx *v, struct submission *s, json_object *o)
{
    s->certifications = o;
    return check_list(v, "certifications", o, 50, 200);
}

/* One experience entry: every field optional (null = absent), others ignored. */
static enum sub_code check_job(struct vctx *v, json_object *job, size_t i)
{
    static const struct {
        const char *key;
        size_t max;
        enum text_kind kind;
    } texts[] = {
        {"title", 200, TEXT_LINE},
        {"company", 200, TEXT_LINE},
        {"description", 5000, TEXT_BLOCK},
    };
    json_object *f;
    double years;

    if (!json_object_is_type(job, json_type_object))
        return vfail(v, SUB_BAD_FIELD, "experience[%zu]: must be an object", i);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        if (!json_object_object_get_ex(job, texts[k].key, &f) || f == NULL)
            continue;
        const struct fpath fp = {"experience", i, texts[k].key};
        enum sub_code code = check_text(v, &fp, f, 0, texts[k].max, texts[k].kind);
        if (code != SUB_OK)
            return code;
    }
    if (json_object_object_get_ex(job, "years", &f) && f != NULL && !number_in(f, 0, 60, &years))
        return vfail(v, SUB_BAD_FIELD, "experience[%zu].years: must be a number 0-60", i);
    return SUB_OK;
}

static enum sub_code check_experience(struct vctx *v, struct submission *s, json_object *o)
{
    if (!json_object_is_type(o, json_type_array))
        return vfail(v, SUB_BAD_FIELD, "experience: must be an array");
    size_t n = json_object_array_length(o);
    if (n > 50)
        return vfail(v, SUB_BAD_FIELD, "experience: must have at most 50 entries");
    for (size_t i = 0; i < n; i++) {
        enum sub_code code = check_job(v, json_object_array_get_idx(o, i), i);
        if (code != SUB_OK)
            return code;
    }
    s->experience = o;
    return SUB_OK;
}

static enum sub_code check_cv_text(struct vctx *v, struct submission *s, json_object *o)
{
    enum sub_code code = check_text(v, FIELD("cv_text"), o, 0, 100000, TEXT_BLOCK);
    s->cv_text = json_object_get_string(o);
    s->cv_text_len = (size_t)json_object_get_string_len(o);
    return code;
}

/* http:// or https://, a host of letters, digits, '-' and '.', an optional
 * :port of 1-5 digits, then nothing or a path starting with '/' (the
 * caller has already refused white space and control characters). */
static bool url_ok(const char *u, size_t n)
{
    size_t i, start;

    if (n >= 7 && memcmp(u, "http://", 7) == 0)
        i = 7;
    else if (n >= 8 && memcmp(u, "https://", 8) == 0)
        i = 8;
    else
        return false;
    for (start = i; i < n && strchr(LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ-.", u[i]); i++)
        ;
    if (i == start)
        return false;
    if (i < n && u[i] == ':') {
        for (start = ++i; i < n && u[i] >= '0' && u[i] <= '9'; i++)
            ;
        if (i == start || i - start > 5)
            return false;
    }
    return i == n || u[i] == '/';
}

static enum sub_code check_link(struct vctx *v, const char *name, json_object *val)
{
    if (!matches(name, strlen(name), "abcdefghijklmnopqrstuvwxyz", LOWER_DIGITS "_-", 32))
        return vfail(v, SUB_BAD_FIELD, "links: names must match [a-z][a-z0-9_-]{0,31}");
    if (!json_object_is_type(val, json_type_string))
        return vfail(v, SUB_BAD_FIELD, "links.%s: must be a string", name);
    const char *u = json_object_get_string(val);
    size_t n = (size_t)json_object_get_string_len(val);
    if (utf8_len(u, n) > 2048)
        return vfail(v, SUB_BAD_FIELD, "links.%s: must be at most 2048 characters", name);
    if (has_ws(u, n))
        return vfail(v, SUB_BAD_FIELD, "links.%s: must not contain white space", name);
    if (has_control(u, n, TEXT_LINE))
        return vfail(v, SUB_BAD_FIELD, "links.%s: must not contain control characters", name);
    if (!url_ok(u, n))
        return vfail(v, SUB_BAD_FIELD, "links.%s: must be an http:// or https:// URL", name);
    return SUB_OK;
}

static enum sub_code check_links(struct vctx *v, struct submission *s, json_object *o)
{
    if (!json_object_is_type(o, json_type_object))
        return vfail(v, SUB_BAD_FIELD, "links: must be an object");
    if (json_object_object_length(o) > 20)
        return vfail(v, SUB_BAD_FIELD, "links: must have at most 20 entries");
    json_object_object_foreach(o, name, val)
    {
        enum sub_code code = check_link(v, name, val);
        if (code != SUB_OK)
            return code;
    }
    s->links = o;
    return SUB_OK;
}

/* The §3 table in its order; the required fields come first. */
static const struct field {
    const char *name;
    bool required;
    enum sub_code (*check)(struct vctx *v, struct submission *s, json_object *o);
} fields[] = {
    {"role", true, check_role},
    {"name", true, check_name},
    {"email", true, check_email},
    {"consent", true, check_consent},
    {"id", false, check_id},
    {"submitted_at", false, check_submitted_at},
    {"headline", false, check_headline},
    {"summary", false, check_summary},
    {"years_experience", false, check_years},
    {"skills", false, check_skills},
    {"certifications", false, check_certifications},
    {"experience", false, check_experience},
    {"cv_text", false, check_cv_text},
    {"links", false, check_links},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Missing fields are all reported before any field rule (SPEC §3 order),
 * so the table is walked twice. A null is "absent" only for an optional
 * field: a required one holding null is present with the wrong type
 * (bad_field; for consent, not true: no_consent). The e-mail hash is taken
 * before any rule can fail: a rejected submission's dead letter still
 * carries it, for erasure. */
static enum sub_code check_fields(struct vctx *v, struct submission *s, json_object *root,
                                  const struct roleset *roles)
{
    json_object *val[NFIELDS];
    bool present[NFIELDS];

    for (size_t i = 0; i < NFIELDS; i++)
        present[i] = json_object_object_get_ex(root, fields[i].name, &val[i]);
    if (json_object_is_type(val[2], json_type_string)) {
        hash_email_hex(json_object_get_string(val[2]), (size_t)json_object_get_string_len(val[2]),
                       s->email_sha1);
        s->has_email_sha1 = true;
    }
    for (size_t i = 0; i < NFIELDS; i++)
        if (fields[i].required && !present[i])
            return vfail(v, SUB_MISSING_FIELD, "%s: is required", fields[i].name);
    for (size_t i = 0; i < NFIELDS; i++) {
        if (val[i] == NULL && !fields[i].required)
            continue;
        enum sub_code code = fields[i].check(v, s, val[i]);
        if (code != SUB_OK)
            return code;
    }
    if (s->id == NULL) {
        memcpy(s->id_buf, s->digest, sizeof s->id_buf - 1);
        s->id_buf[sizeof s->id_buf - 1] = '\0';
        s->id = s->id_buf;
    }
    if (roles != NULL && roleset_find(roles, s->role) == NULL)
        return vfail(v, SUB_UNKNOWN_ROLE, "role: unknown role '%s'", s->role);
    return SUB_OK;
}

/* The strict pass; maps its verdict to the submission codes. */
static enum sub_code check_bytes(struct vctx *v, const char *bytes, size_t len)
{
    struct jsoncheck_result r;

    switch (jsoncheck_run(bytes, len, SUB_MAX_DEPTH, &r)) {
    case JSONCHECK_BAD_UTF8:
        return vfail(v, SUB_BAD_UTF8, "payload: invalid UTF-8 at byte %zu: %s", r.offset, r.reason);
    case JSONCHECK_NOT_JSON:
        return vfail(v, SUB_NOT_JSON, "payload: invalid JSON at byte %zu: %s", r.offset, r.reason);
    case JSONCHECK_TOO_DEEP:
        return vfail(v, SUB_TOO_DEEP, "payload: nested deeper than %d levels at byte %zu",
                     SUB_MAX_DEPTH, r.offset);
    case JSONCHECK_OK:
        break;
    }
    if (r.top != '{')
        return vfail(v, SUB_NOT_OBJECT, "payload: top-level value must be an object");
    return SUB_OK;
}

/* Forget a rejected submission but keep what a dead letter needs. */
static void reset_keep_hashes(struct submission *s)
{
    struct submission keep = *s;

    memset(s, 0, sizeof *s);
    memcpy(s->digest, keep.digest, sizeof s->digest);
    memcpy(s->email_sha1, keep.email_sha1, sizeof s->email_sha1);
    s->has_email_sha1 = keep.has_email_sha1;
}

/* The tokener json-c builds the tree with, one per thread and kept for the
 * thread's life: making one costs three allocations, a tenth of a parse's
 * own work. json-c's depth limit counts the same way as ours and must not
 * bite before it: the input is already known to be at most 64 deep. */
static json_tokener *parse_tokener(void)
{
    static _Thread_local json_tokener *tok;

    if (tok == NULL)
        tok = json_tokener_new_ex(SUB_MAX_DEPTH + 1);
    else
        json_tokener_reset(tok);
    return tok;
}

enum sub_code submission_parse(struct submission *s, const char *bytes, size_t len,
                               size_t max_bytes, const struct roleset *roles, char *detail,
                               size_t detail_len)
{
    struct vctx v = {detail, detail_len};
    json_tokener *tok = NULL;
    json_object *root = NULL;
    enum sub_code code;

    memset(s, 0, sizeof *s);
    if (detail_len > 0)
        detail[0] = '\0';
    hash_sha1_hex(bytes, len, s->digest);
    if (len > max_bytes || len > INT_MAX)
        return vfail(&v, SUB_TOO_LARGE, "payload: larger than %zu bytes",
                     max_bytes < INT_MAX ? max_bytes : (size_t)INT_MAX);
    code = check_bytes(&v, bytes, len);
    if (code != SUB_OK)
        return code;

    tok = parse_tokener();
    root = json_tokener_parse_ex(tok, bytes, (int)len);
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        code = vfail(&v, SUB_NOT_JSON, "payload: invalid JSON: %s",
                     json_tokener_error_desc(json_tokener_get_error(tok)));
        goto out;
    }
    code = check_fields(&v, s, root, roles);
out:
    if (code != SUB_OK) {
        json_object_put(root);
        reset_keep_hashes(s);
    } else {
        s->root = root;
    }
    return code;
}

void submission_free(struct submission *s)
{
    json_object_put(s->root);
    memset(s, 0, sizeof *s);
}
