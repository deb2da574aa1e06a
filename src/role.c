/* Loading role files (SPEC §4): strict JSON, every key checked, each role
 * compiled once (one term automaton, regexes in the C locale). */
#include "role_internal.h"

#include <dirent.h>
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "jsoncheck.h"
#include "match.h"
#include "xmalloc.h"

#define ROLE_FILE_MAX (1024 * 1024)

struct roleset {
    struct role **roles; /* sorted by file name, i.e. by id */
    size_t n;
};

/* One file being loaded: where errors go and how they are named. */
struct loader {
    const char *path;
    char **cause;
    locale_t loc;
};

static const char *const field_names[ROLE_FIELD_COUNT] = {"skills",  "certifications", "headline",
                                                          "summary", "experience",     "cv_text"};

/* Set *cause to "<file>: <JSON path>: <reason>"; always returns false. */
static bool __attribute__((format(printf, 3, 4)))
sem_error(struct loader *ld, const char *jpath, const char *fmt, ...)
{
    va_list ap;
    struct buf b = BUF_INIT;

    buf_printf(&b, "%s: %s: ", ld->path, jpath);
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    *ld->cause = buf_steal(&b);
    return false;
}

/* "file:line:col: reason" for a byte offset; col counts code points. */
static void syntax_error(struct loader *ld, const char *data, size_t len, size_t off,
                         const char *reason)
{
    size_t line = 1, col = 1, i = 0;

    if (off > len)
        off = len;
    while (i < off) {
        if (data[i] == '\n') {
            line++, col = 1, i++;
            continue;
        }
        match_utf8_next(data, len, &i);
        col++;
    }
    *ld->cause = xasprintf("%s:%zu:%zu: %s", ld->path, line, col, reason);
}

/* The strict pass of jsoncheck (RFC 8259 and RFC 3629, as for submissions)
 * names the first problem; json-c then builds the tree. */
static json_object *parse_json(struct loader *ld, const char *data, size_t len)
{
    struct jsoncheck_result jr;
    json_tokener *tok = NULL;
    json_object *root = NULL;

    if (jsoncheck_run(data, len, 64, &jr) != JSONCHECK_OK) {
        syntax_error(ld, data, len, jr.offset, jr.reason);
        goto out;
    }
    tok = json_tokener_new_ex(64);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, data, (int)len);
    if (root == NULL) {
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        syntax_error(ld, data, len, json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
    }
out:
    if (tok != NULL)
        json_tokener_free(tok);
    return root;
}

/* Every key of obj must be one of the NULL-terminated keys. */
static bool known_keys(struct loader *ld, json_object *obj, const char *jpath,
                       const char *const *keys)
{
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        size_t k = 0;
        while (keys[k] != NULL && strcmp(keys[k], key) != 0)
            k++;
        if (keys[k] == NULL) {
            if (*jpath == '\0')
                return sem_error(ld, key, "unknown key");
            char *p = xasprintf("%s.%s", jpath, key);
            sem_error(ld, p, "unknown key");
            free(p);
            return false;
        }
    }
    return true;
}

/* The JSON path of key below jpath ("" is the top level). */
static char *key_path(const char *jpath, const char *key)
{
    return *jpath == '\0' ? xstrdup(key) : xasprintf("%s.%s", jpath, key);
}

/* A required (or, with *out preset, optional) non-empty string member. */
static bool get_string(struct loader *ld, json_object *obj, const char *jpath, const char *key,
                       bool required, char **out)
{
    json_object *v;
    char *p = key_path(jpath, key);
    bool ok = false;

    if (!json_object_object_get_ex(obj, key, &v)) {
        ok = !required || sem_error(ld, p, "is required");
        goto out;
    }
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        sem_error(ld, p, "must be a non-empty string");
        goto out;
    }
    free(*out);
    *out = xstrdup(json_object_get_string(v));
    ok = true;
out:
    free(p);
    return ok;
}

/* A required integer member in [min, max]. */
static bool get_int(struct loader *ld, json_object *obj, const char *jpath, const char *key,
                    int64_t min, int64_t max, const char *rule, int *out)
{
    json_object *v;
    char *p = key_path(jpath, key);
    bool ok = false;

    if (!json_object_object_get_ex(obj, key, &v))
        sem_error(ld, p, "is required");
    else if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < min ||
             json_object_get_int64(v) > max)
        sem_error(ld, p, "%s", rule);
    else {
        *out = (int)json_object_get_int64(v);
        ok = true;
    }
    free(p);
    return ok;
}

static bool valid_role_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    }
    return true;
}

static bool valid_criterion_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool valid_link_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    }
    return true;
}

/* The optional "fields" list; the default is every field in canonical order. */
static bool load_fields(struct loader *ld, json_object *obj, const char *jpath,
                        struct role_criterion *c)
{
    json_object *v;

    for (size_t f = 0; f < ROLE_FIELD_COUNT; f++)
        c->rank[f] = -1;
    if (!json_object_object_get_ex(obj, "fields", &v)) {
        for (size_t f = 0; f < ROLE_FIELD_COUNT; f++)
            c->fields[f] = (enum role_field)f, c->rank[f] = (int)f;
        c->nfields = ROLE_FIELD_COUNT;
        c->ordered = true;
        return true;
    }
    char *p = key_path(jpath, "fields");
    bool ok = false;
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
    if (n == 0) {
        sem_error(ld, p, "must be a non-empty array of field names");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        const char *name =
            json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "";
        size_t f = 0;
        while (f < ROLE_FIELD_COUNT && strcmp(field_names[f], name) != 0)
            f++;
        char *ep = xasprintf("%s[%zu]", p, i);
        if (f == ROLE_FIELD_COUNT)
            sem_error(ld, ep,
                      "must be one of skills, certifications, headline, summary, "
                      "experience, cv_text");
        else if (c->rank[f] >= 0)
            sem_error(ld, ep, "duplicate field \"%s\"", name);
        free(ep);
        if (f == ROLE_FIELD_COUNT || c->rank[f] >= 0)
            goto out;
        c->rank[f] = (int)c->nfields;
        c->fields[c->nfields++] = (enum role_field)f;
    }
    c->ordered = true;
    for (size_t i = 1; i < c->nfields; i++)
        c->ordered = c->ordered && c->fields[i - 1] < c->fields[i];
    ok = true;
out:
    free(p);
    return ok;
}

/* Add one term to the role's automaton, owned by criterion ci, entry ei. */
static bool add_term(struct loader *ld, struct role *r, json_object *t, const char *tpath,
                     size_t ci, size_t ei)
{
    char *why = NULL;

    if (!json_object_is_type(t, json_type_string))
        return sem_error(ld, tpath, "must be a string");
    int idx = match_set_add(r->terms, json_object_get_string(t), &why);
    if (idx < 0) {
        sem_error(ld, tpath, "%s", why);
        free(why);
        return false;
    }
    r->owners = xreallocarray(r->owners, (size_t)idx + 1, sizeof *r->owners);
    r->owners[idx].criterion = ci;
    r->owners[idx].entry = ei;
    return true;
}

/* "terms": a non-empty array of strings, all synonyms (one entry). */
static bool load_terms(struct loader *ld, struct role *r, json_object *v, const char *p, size_t ci)
{
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

    if (n == 0)
        return sem_error(ld, p, "must be a non-empty array of strings");
    for (size_t i = 0; i < n; i++) {
        char *tp = xasprintf("%s[%zu]", p, i);
        bool ok = add_term(ld, r, json_object_array_get_idx(v, i), tp, ci, 0);
        free(tp);
        if (!ok)
            return false;
    }
    r->criteria[ci].nentries = 1;
    r->criteria[ci].min = 1;
    return true;
}

/* One entry of count.terms: a string, or a non-empty array of synonyms. */
static bool load_count_entry(struct loader *ld, struct role *r, json_object *e, const char *ep,
                             size_t ci, size_t ei)
{
    if (json_object_is_type(e, json_type_string))
        return add_term(ld, r, e, ep, ci, ei);
    size_t n = json_object_is_type(e, json_type_array) ? json_object_array_length(e) : 0;
    if (n == 0)
        return sem_error(ld, ep, "must be a string or a non-empty array of strings");
    for (size_t i = 0; i < n; i++) {
        char *tp = xasprintf("%s[%zu]", ep, i);
        bool ok = add_term(ld, r, json_object_array_get_idx(e, i), tp, ci, ei);
        free(tp);
        if (!ok)
            return false;
    }
    return true;
}

static bool load_count(struct loader *ld, struct role *r, json_object *v, const char *p, size_t ci)
{
    static const char *const keys[] = {"min", "terms", NULL};
    struct role_criterion *c = &r->criteria[ci];
    json_object *t;

    if (!json_object_is_type(v, json_type_object))
        return sem_error(ld, p, "must be an object with min and terms");
    if (!known_keys(ld, v, p, keys))
        return false;
    char *tp = key_path(p, "terms");
    bool ok = false;
    size_t n = json_object_object_get_ex(v, "terms", &t) && json_object_is_type(t, json_type_array)
                   ? json_object_array_length(t)
                   : 0;
    if (n == 0) {
        sem_error(ld, tp, "must be a non-empty array");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char *ep = xasprintf("%s[%zu]", tp, i);
        ok = load_count_entry(ld, r, json_object_array_get_idx(t, i), ep, ci, i);
        free(ep);
        if (!ok)
            goto out;
    }
    c->nentries = n;
    char *rule = xasprintf("must be an integer from 1 to %zu", n);
    ok = get_int(ld, v, p, "min", 1, (int64_t)n, rule, &c->min);
    free(rule);
out:
    free(tp);
    return ok;
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The end of the bracket expression p[i..] (just past '['), or 0 when it
 * holds something whose meaning case folding could change. When set is
 * not NULL, the bytes the bracket matches are added to it. */
static size_t bracket_folds(const char *p, size_t i, bool *set)
{
    static const char *const classes[] = {"alpha", "alnum", "digit", "xdigit", "space",
                                          "blank", "punct", "cntrl", "print",  "graph"};
    static int (*const tests[])(int) = {isalpha, isalnum, isdigit, isxdigit, isspace,
                                        isblank, ispunct, iscntrl, isprint,  isgraph};
    bool first = true, in[256] = {false}, neg = p[i] == '^';

    i += neg;
    for (; p[i] != ']' || first; first = false) {
        unsigned char lo = (unsigned char)p[i], hi;
        if (lo == '\0' || lo >= 0x80 || (lo == '[' && (p[i + 1] == '.' || p[i + 1] == '=')))
            return 0;
        if (lo == '[' && p[i + 1] == ':') {
            const char *end = strstr(p + i + 2, ":]");
            size_t n = end != NULL ? (size_t)(end - (p + i + 2)) : 0, k = 0;
            while (k < 10 && (strlen(classes[k]) != n || strncmp(classes[k], p + i + 2, n) != 0))
                k++;
            if (k == 10)
                return 0;
            for (int c = 0; c < 0x80; c++)
                in[c] = in[c] || tests[k](c);
            i += n + 4;
            continue;
        }
        hi = (unsigned char)(p[i + 1] == '-' ? p[i + 2] : '\0');
        if (hi != '\0' && hi != ']') {
            bool digits = lo >= '0' && lo <= '9' && hi >= '0' && hi <= '9';
            bool lower = lo >= 'a' && lo <= 'z' && hi >= 'a' && hi <= 'z';
            bool upper = lo >= 'A' && lo <= 'Z' && hi >= 'A' && hi <= 'Z';
            if (!digits && !lower && !upper)
                return 0;
            for (unsigned c = lo; c <= hi; c++)
                in[c] = true;
            i += 3;
        } else
            in[lo] = true, i++;
    }
    for (size_t c = 0; set != NULL && c < 256; c++)
        set[c] = set[c] || in[c] != neg;
    return i;
}

/* True when p, lower-cased and compiled without REG_ICASE, matches the
 * lower-cased text exactly where p with REG_ICASE matches the text: then
 * the scorer lower-cases each text once instead of glibc upper-casing it
 * again on every regexec call. It holds when every atom of p matches a
 * byte c with REG_ICASE iff its lower-cased form matches tolower(c) (the
 * C locale folds ASCII only, and lower-casing keeps every offset): plain
 * characters, '.', escaped punctuation, and brackets of single characters,
 * digit or same-case letter ranges and case-closed classes. Escapes of
 * letters or digits (GNU \w, back-references), [:upper:], [:lower:],
 * collating elements and other ranges keep REG_ICASE. */
static bool pattern_folds(const char *p)
{
    for (size_t i = 0; p[i] != '\0'; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80 || (c == '\\' && (p[i + 1] == '\0' || is_alnum((unsigned char)p[i + 1]))))
            return false;
        if (c == '\\')
            i++;
        else if (c == '[' && (i = bracket_folds(p, i + 1, NULL)) == 0)
            return false;
    }
    return true;
}

/* Skip the quantifiers at p[*i]; false when one is malformed. *optional
 * is set when they allow zero repetitions. */
static bool skip_quantifiers(const char *p, size_t *i, bool *optional)
{
    for (;;) {
        char c = p[*i];
        if (c == '*' || c == '?')
            *optional = true, (*i)++;
        else if (c == '+')
            (*i)++;
        else if (c == '{') {
            size_t k = *i + 1, min = 0;
            if (p[k] < '0' || p[k] > '9')
                return false;
            while (p[k] >= '0' && p[k] <= '9')
                min = min * 10 + (size_t)(p[k++] - '0'), min = min > 1000 ? 1000 : min;
            while (p[k] == ',' || (p[k] >= '0' && p[k] <= '9'))
                k++;
            if (p[k] != '}')
                return false;
            *optional = *optional || min == 0;
            *i = k + 1;
        } else
            return true;
    }
}

/* How rare a set of bytes is in profile text, lower is rarer: letters and
 * white space are everywhere. */
static size_t set_cost(const bool *set)
{
    size_t cost = 0;
    for (int c = 0; c < 256; c++)
        cost += set[c] ? (isalpha(c) ? 1000 : isspace(c) ? 500 : 1) : 0;
    return cost;
}

/* GNU's zero-width escapes with punctuation (word and buffer edges): they
 * match no byte. */
static bool is_anchor_escape(char c)
{
    return c == '<' || c == '>' || c == '`' || c == '\'';
}

/* The bytes the atom at p[*i] (not '(' or '|') may match, added to set,
 * and *i moved past it; false for '.' (any byte), an anchor or ')'. */
static bool atom_bytes(const char *p, size_t *i, bool *set)
{
    unsigned char c = (unsigned char)p[*i];

    if (c == '\\') {
        if (!is_anchor_escape(p[*i + 1]))
            set[(unsigned char)p[*i + 1]] = true;
        *i += 2;
        return !is_anchor_escape(p[*i - 1]);
    }
    if (c == '[') {
        *i = bracket_folds(p, *i + 1, set) + 1;
        return true;
    }
    (*i)++;
    if (c == '.')
        memset(set, true, 256 * sizeof *set);
    if (c == '.' || c == '^' || c == '$' || c == ')')
        return false;
    set[c] = true;
    return true;
}

static void case_close(bool *set)
{
    for (int k = 'a'; k <= 'z'; k++)
        set[k] = set[k - 'a' + 'A'] = set[k] || set[k - 'a' + 'A'];
}

/* Fill need with bytes one of which every match of p (a pattern that
 * folds) holds, ASCII case closed: from each top-level alternative, the
 * rarest atom outside groups that it cannot skip. False when some
 * alternative has none (then any text may match). lead gets every byte
 * an atom before that one may match: the bytes of a match before its
 * first byte of need are all in lead, so next_match in score.c knows no
 * match starts before the run of lead bytes that ends at a byte of need. */
static bool pattern_needs(const char *p, bool *need, bool *lead)
{
    bool best[256], set[256], seen[256], best_seen[256];
    size_t i = 0, depth = 0, best_cost = SIZE_MAX;

    memset(need, 0, 256 * sizeof *need);
    memset(lead, 0, 256 * sizeof *lead);
    memset(seen, 0, sizeof seen);
    for (;;) {
        unsigned char c = (unsigned char)p[i];
        bool optional = false, known;
        if (c == '\0' || (c == '|' && depth == 0)) {
            if (best_cost == SIZE_MAX)
                return false;
            for (int k = 0; k < 256; k++)
                need[k] = need[k] || best[k], lead[k] = lead[k] || best_seen[k];
            if (c == '\0')
                return true;
            best_cost = SIZE_MAX, i++;
            memset(seen, 0, sizeof seen);
            continue;
        }
        if (c == '(' || c == '|') {
            depth += c == '(', i++;
            continue;
        }
        if (c == '*' || c == '+' || c == '?' || c == '{' || (c == ')' && depth-- == 0))
            return false;
        memset(set, 0, sizeof set);
        known = atom_bytes(p, &i, set);
        if (!skip_quantifiers(p, &i, &optional))
            return false;
        case_close(set);
        size_t cost = known && !optional && depth == 0 ? set_cost(set) : SIZE_MAX;
        if (cost < best_cost)
            memcpy(best, set, sizeof best), memcpy(best_seen, seen, sizeof seen), best_cost = cost;
        for (int k = 0; k < 256; k++)
            seen[k] = seen[k] || set[k];
    }
}

/* Compile a pattern in the C locale; a pattern that matches the empty text
 * would meet every profile, so it is refused. A pattern that folds is then
 * compiled again, lower-cased and without REG_ICASE (see pattern_folds). */
static bool load_pattern(struct loader *ld, struct role_criterion *c, json_object *v, const char *p)
{
    char msg[256];

    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return sem_error(ld, p, "must be a non-empty string");
    const char *pat = json_object_get_string(v);
    locale_t old = uselocale(ld->loc);
    int rc = regcomp(&c->re, pat, REG_EXTENDED | REG_ICASE);
    bool empty = rc == 0 && regexec(&c->re, "", 0, NULL, 0) == 0;
    if (rc != 0)
        regerror(rc, &c->re, msg, sizeof msg);
    if (rc == 0 && !empty && pattern_folds(pat)) {
        char *low = xstrdup(pat);
        regex_t re;
        for (char *q = low; *q != '\0'; q++)
            *q = (*q >= 'A' && *q <= 'Z') ? (char)(*q - 'A' + 'a') : *q;
        if (regcomp(&re, low, REG_EXTENDED) == 0) {
            regfree(&c->re);
            c->re = re;
            c->re_lower = true;
            c->has_need = pattern_needs(pat, c->need, c->lead);
            for (size_t k = 1, n = 0; k < 256; k++) {
                if (c->need[k])
                    c->need_bytes[n++] = (char)k;
            }
        }
        free(low);
    }
    uselocale(old);
    if (rc != 0)
        return sem_error(ld, p, "bad regular expression: %s", msg);
    c->has_re = true;
    if (empty)
        return sem_error(ld, p, "must not match the empty text");
    return true;
}

static bool load_min_years(struct loader *ld, struct role_criterion *c, json_object *v,
                           const char *p)
{
    bool num = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    double d = num ? json_object_get_double(v) : -1;

    if (!num || !isfinite(d) || d < 0 || d > 100)
        return sem_error(ld, p, "must be a number from 0 to 100");
    c->min_years = d;
    return true;
}

static bool load_link(struct loader *ld, struct role_criterion *c, json_object *v, const char *p)
{
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

    if (n == 0)
        return sem_error(ld, p, "must be a non-empty array of link names");
    c->links = xcalloc(n, sizeof *c->links);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string) ||
            !valid_link_name(json_object_get_string(e))) {
            char *ep = xasprintf("%s[%zu]", p, i);
            sem_error(ld, ep, "must be a link name ([a-z][a-z0-9_-]{0,31})");
            free(ep);
            return false;
        }
        c->links[c->nlinks++] = xstrdup(json_object_get_string(e));
    }
    return true;
}

static const char *const test_names[] = {"terms", "count", "pattern", "min_years", "link"};

/* Exactly one test key; load it. */
static bool load_test(struct loader *ld, struct role *r, json_object *obj, const char *jpath,
                      size_t ci)
{
    struct role_criterion *c = &r->criteria[ci];
    json_object *v = NULL, *tv;
    size_t found = 0;

    for (size_t t = 0; t < 5; t++) {
        if (json_object_object_get_ex(obj, test_names[t], &tv))
            found++, c->test = (enum role_test)t, v = tv;
    }
    if (found != 1)
        return sem_error(ld, jpath, "needs exactly one of terms, count, pattern, min_years, link");
    char *p = key_path(jpath, test_names[c->test]);
    bool ok = false;
    switch (c->test) {
    case ROLE_TEST_TERMS:
        ok = load_terms(ld, r, v, p, ci);
        break;
    case ROLE_TEST_COUNT:
        ok = load_count(ld, r, v, p, ci);
        break;
    case ROLE_TEST_PATTERN:
        ok = load_pattern(ld, c, v, p);
        break;
    case ROLE_TEST_MIN_YEARS:
        ok = load_min_years(ld, c, v, p);
        break;
    case ROLE_TEST_LINK:
        ok = load_link(ld, c, v, p);
        break;
    }
    free(p);
    return ok;
}

static bool load_required(struct loader *ld, json_object *obj, const char *jpath, bool *out)
{
    json_object *v;

    *out = false;
    if (!json_object_object_get_ex(obj, "required", &v))
        return true;
    if (!json_object_is_type(v, json_type_boolean)) {
        char *p = key_path(jpath, "required");
        sem_error(ld, p, "must be true or false");
        free(p);
        return false;
    }
    *out = json_object_get_boolean(v);
    return true;
}

static bool load_criterion(struct loader *ld, struct role *r, json_object *obj, const char *jpath,
                           size_t ci)
{
    static const char *const keys[] = {"id",        "group",  "label", "weight", "required",
                                       "advice",    "fields", "terms", "count",  "pattern",
                                       "min_years", "link",   NULL};
    struct role_criterion *c = &r->criteria[ci];

    if (!json_object_is_type(obj, json_type_object))
        return sem_error(ld, jpath, "must be an object");
    if (!known_keys(ld, obj, jpath, keys) || !get_string(ld, obj, jpath, "id", true, &c->id))
        return false;
    char *idp = key_path(jpath, "id");
    bool ok = valid_criterion_id(c->id) ||
              sem_error(ld, idp, "must be 1-64 characters of [A-Za-z0-9._-]");
    for (size_t i = 0; ok && i < ci; i++) {
        if (strcmp(r->criteria[i].id, c->id) == 0)
            ok = sem_error(ld, idp, "duplicate id \"%s\"", c->id);
    }
    free(idp);
    return ok && get_string(ld, obj, jpath, "group", true, &c->group) &&
           get_string(ld, obj, jpath, "label", true, &c->label) &&
           get_int(ld, obj, jpath, "weight", 1, ROLE_WEIGHT_MAX,
                   "must be a positive integer (at most 1000)", &c->weight) &&
           load_required(ld, obj, jpath, &c->required) &&
           get_string(ld, obj, jpath, "advice", true, &c->advice) &&
           load_fields(ld, obj, jpath, c) && load_test(ld, r, obj, jpath, ci);
}

static bool load_criteria(struct loader *ld, struct role *r, json_object *root)
{
    json_object *v;

    if (!json_object_object_get_ex(root, "criteria", &v))
        return sem_error(ld, "criteria", "is required");
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
    if (n == 0 || n > ROLE_CRITERIA_MAX)
        return sem_error(ld, "criteria", "must be an array of 1 to %d criteria", ROLE_CRITERIA_MAX);
    r->criteria = xcalloc(n, sizeof *r->criteria);
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("criteria[%zu]", i);
        r->ncriteria = i + 1;
        bool ok = load_criterion(ld, r, json_object_array_get_idx(v, i), p, i);
        free(p);
        if (!ok)
            return false;
    }
    r->patterns = xcalloc(n, sizeof *r->patterns);
    for (size_t i = 0; i < n; i++) {
        if (r->criteria[i].test == ROLE_TEST_PATTERN)
            r->patterns[r->npatterns++] = i;
    }
    return true;
}

static bool load_steps(struct loader *ld, struct role *r, json_object *root)
{
    static const char *const keys[] = {"group", "advice", NULL};
    json_object *v;

    if (!json_object_object_get_ex(root, "next_steps", &v))
        return true;
    if (!json_object_is_type(v, json_type_array))
        return sem_error(ld, "next_steps", "must be an array");
    size_t n = json_object_array_length(v);
    r->steps = xcalloc(n ? n : 1, sizeof *r->steps);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        char *p = xasprintf("next_steps[%zu]", i);
        r->nsteps = i + 1;
        bool ok =
            (json_object_is_type(e, json_type_object) || sem_error(ld, p, "must be an object")) &&
            known_keys(ld, e, p, keys) && get_string(ld, e, p, "group", true, &r->steps[i].group) &&
            get_string(ld, e, p, "advice", true, &r->steps[i].advice);
        free(p);
        if (!ok)
            return false;
    }
    return true;
}

static void add_member(struct buf *b, const char *sep, const char *key, const char *val)
{
    buf_printf(b, "%s\"%s\":", sep, key);
    buf_add_json_str(b, val, strlen(val));
}

static char *render_step(const char *group, const char *advice)
{
    struct buf b = BUF_INIT;
    add_member(&b, "{", "group", group);
    add_member(&b, ",", "advice", advice);
    buf_addc(&b, '}');
    return buf_steal(&b);
}

/* The constant parts of every analysis of this role (see role_internal.h). */
static void render_json(struct role *r)
{
    struct buf b = BUF_INIT;

    add_member(&b, "{", "role", r->id);
    add_member(&b, ",", "role_title", r->title);
    add_member(&b, ",", "role_version", r->version);
    add_member(&b, ",", "role_sha1", r->sha1);
    r->json_head_len = b.len;
    r->json_head = buf_steal(&b);
    for (size_t i = 0; i < r->ncriteria; i++) {
        struct role_criterion *c = &r->criteria[i];
        add_member(&b, "{", "id", c->id);
        add_member(&b, ",", "label", c->label);
        add_member(&b, ",", "group", c->group);
        buf_printf(&b, ",\"weight\":%d", c->weight);
        c->json_head_len = b.len;
        c->json_head = buf_steal(&b);
        add_member(&b, ",", "advice", c->advice);
        c->json_advice_len = b.len;
        c->json_advice = buf_steal(&b);
        c->json_step = render_step(c->group, c->advice);
        c->json_step_len = strlen(c->json_step);
    }
    for (size_t i = 0; i < r->nsteps; i++) {
        r->steps[i].json = render_step(r->steps[i].group, r->steps[i].advice);
        r->steps[i].json_len = strlen(r->steps[i].json);
    }
}

/* The order of the plan (a stable sort by weight, heaviest first), so an
 * analysis need not select the missing criteria weight by weight. */
static void plan_order(struct role *r)
{
    r->plan_order = xreallocarray(NULL, r->ncriteria ? r->ncriteria : 1, sizeof *r->plan_order);
    for (size_t i = 0; i < r->ncriteria; i++) {
        size_t j = i;
        for (; j > 0 && r->criteria[r->plan_order[j - 1]].weight < r->criteria[i].weight; j--)
            r->plan_order[j] = r->plan_order[j - 1];
        r->plan_order[j] = i;
    }
}

/* The top-level members, checked in the order of the format. */
static bool load_role(struct loader *ld, struct role *r, json_object *root, const char *want_id)
{
    static const char *const keys[] = {"id",        "version",  "title",      "description",
                                       "threshold", "criteria", "next_steps", NULL};

    if (!json_object_is_type(root, json_type_object))
        return sem_error(ld, "top level", "must be an object");
    if (!known_keys(ld, root, "", keys) || !get_string(ld, root, "", "id", true, &r->id))
        return false;
    if (!valid_role_id(r->id))
        return sem_error(ld, "id", "must match [a-z0-9][a-z0-9-]{0,63}");
    if (strcmp(r->id, want_id) != 0)
        return sem_error(ld, "id", "\"%s\" does not match the file name", r->id);
    r->description = xstrdup("");
    if (!get_string(ld, root, "", "version", true, &r->version) ||
        !get_string(ld, root, "", "title", true, &r->title) ||
        !get_string(ld, root, "", "description", false, &r->description) ||
        !get_int(ld, root, "", "threshold", 0, 100, "must be an integer from 0 to 100",
                 &r->threshold))
        return false;
    r->terms = match_set_new();
    if (!load_criteria(ld, r, root) || !load_steps(ld, r, root))
        return false;
    match_set_compile(r->terms);
    render_json(r);
    plan_order(r);
    return true;
}

static void role_free(struct role *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ncriteria; i++) {
        struct role_criterion *c = &r->criteria[i];
        free(c->id);
        free(c->group);
        free(c->label);
        free(c->advice);
        free(c->json_head);
        free(c->json_advice);
        free(c->json_step);
        if (c->has_re)
            regfree(&c->re);
        for (size_t k = 0; k < c->nlinks; k++)
            free(c->links[k]);
        free(c->links);
    }
    for (size_t i = 0; i < r->nsteps; i++) {
        free(r->steps[i].group);
        free(r->steps[i].advice);
        free(r->steps[i].json);
    }
    free(r->criteria);
    free(r->patterns);
    free(r->plan_order);
    free(r->steps);
    free(r->owners);
    match_set_free(r->terms);
    if (r->c_locale != (locale_t)0)
        freelocale(r->c_locale);
    free(r->id);
    free(r->version);
    free(r->title);
    free(r->description);
    free(r->json_head);
    free(r->path);
    free(r);
}

/* Read a whole regular file of at most ROLE_FILE_MAX bytes. */
static char *read_file(const char *path, size_t *len, char **cause)
{
    struct stat st;
    char *data = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        *cause = xasprintf("%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > ROLE_FILE_MAX) {
        *cause = xasprintf("%s: not a regular file of at most %d bytes", path, ROLE_FILE_MAX);
        goto out;
    }
    data = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n <= 0) {
            *cause = xasprintf("%s: cannot read: %s", path, n < 0 ? strerror(errno) : "short read");
            free(data);
            data = NULL;
            goto out;
        }
        got += (size_t)n;
    }
    data[got] = '\0';
    *len = got;
out:
    if (fd >= 0)
        close(fd);
    return data;
}

/* Load dir/name, whose id must be name without ".json". */
static struct role *role_load_file(const char *dir, const char *name, char **cause)
{
    struct role *r = xcalloc(1, sizeof *r);
    struct loader ld = {NULL, cause, (locale_t)0};
    json_object *root = NULL;
    size_t len = 0;
    char *want = xstrndup(name, strlen(name) - 5);

    r->path = xasprintf("%s/%s", dir, name);
    ld.path = r->path;
    r->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    ld.loc = r->c_locale;
    char *data = read_file(r->path, &len, cause);
    if (data == NULL)
        goto fail;
    hash_sha1_hex(data, len, r->sha1);
    if ((root = parse_json(&ld, data, len)) == NULL || !load_role(&ld, r, root, want))
        goto fail;
    json_object_put(root);
    free(data);
    free(want);
    return r;
fail:
    json_object_put(root);
    free(data);
    free(want);
    role_free(r);
    return NULL;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names of dir (hidden files skipped), sorted; NULL with *cause
 * when the directory cannot be read or holds none. */
static char **list_role_files(const char *dir, size_t *n, char **cause)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t cap = 0;

    *n = 0;
    if (d == NULL) {
        *cause = xasprintf("%s: cannot open the roles directory: %s", dir, strerror(errno));
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            names = xreallocarray(names, cap, sizeof *names);
        }
        names[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (*n == 0)
        *cause = xasprintf("%s: no role files (*.json)", dir);
    else
        qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Patterns compile in the role's own C locale; the rest of loading is
 * locale-independent already (json-c parses numbers in the C locale). */
struct roleset *roleset_load(const char *dir, char **cause)
{
    struct roleset *rs = xcalloc(1, sizeof *rs);
    size_t n = 0;
    char **names = list_role_files(dir, &n, cause);

    if (n == 0)
        goto fail;
    rs->roles = xcalloc(n, sizeof *rs->roles);
    for (size_t i = 0; i < n; i++) {
        rs->roles[i] = role_load_file(dir, names[i], cause);
        if (rs->roles[i] == NULL)
            goto fail;
        rs->n++;
    }
    free_names(names, n);
    return rs;
fail:
    free_names(names, n);
    roleset_free(rs);
    return NULL;
}

void roleset_free(struct roleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->n; i++)
        role_free(rs->roles[i]);
    free(rs->roles);
    free(rs);
}

const struct role *roleset_find(const struct roleset *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->roles[i]->id, id) == 0)
            return rs->roles[i];
    }
    return NULL;
}

size_t roleset_count(const struct roleset *rs)
{
    return rs->n;
}

const struct role *roleset_get(const struct roleset *rs, size_t i)
{
    return i < rs->n ? rs->roles[i] : NULL;
}

const char *role_id(const struct role *r)
{
    return r->id;
}

const char *role_title(const struct role *r)
{
    return r->title;
}

const char *role_version(const struct role *r)
{
    return r->version;
}

const char *role_description(const struct role *r)
{
    return r->description;
}

int role_threshold(const struct role *r)
{
    return r->threshold;
}

const char *role_sha1(const struct role *r)
{
    return r->sha1;
}

const char *role_path(const struct role *r)
{
    return r->path;
}
