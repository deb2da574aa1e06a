/* Helpers shared by the libFuzzer targets of tests/fuzz: failing loudly, an
 * independent UTF-8 decoder, a whole-input json-c parse and scratch files. */
#ifndef VETD_FUZZ_UTIL_H
#define VETD_FUZZ_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#ifndef FUZZ_ROLES_DIR
#define FUZZ_ROLES_DIR "conf/roles"
#endif

/* json-c must accept the same nesting as vetd (64) and then some. */
#define FUZZ_JSONC_DEPTH 65

/* An invariant broke: say which, and abort so libFuzzer saves the input. */
static inline void fuzz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fuzz_die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fuzz invariant violated: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* RFC 3629 by decoding: work out the code point of each sequence from its
 * lead byte, then refuse overlong forms, surrogates and anything above
 * U+10FFFF. Written independently of src/jsoncheck.c, which uses the
 * table of well-formed byte ranges instead. */
static inline bool fuzz_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp, min;
        size_t more;
        uint8_t b = s[i];

        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            cp = b & 0x1F, more = 1, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            cp = b & 0x0F, more = 2, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            cp = b & 0x07, more = 3, min = 0x10000;
        } else {
            return false;
        }
        if (n - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += more + 1;
    }
    return true;
}

static inline bool fuzz_is_ws(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
}

/* Parse all of data with json-c (a fresh tokener allowing depth levels):
 * true, with the value in *out (NULL for a JSON null), when the whole
 * input, trailing white space aside, is one value. The copy is
 * NUL-terminated and the NUL is handed to json-c, which needs it to finish
 * a top-level number. Callers pass NUL-free input only. */
static inline bool fuzz_jsonc_parse(const uint8_t *data, size_t len, int depth, json_object **out)
{
    json_tokener *tok = json_tokener_new_ex(depth);
    char *copy = malloc(len + 1);
    bool ok;
    size_t end;

    if (tok == NULL || copy == NULL)
        abort();
    memcpy(copy, data, len);
    copy[len] = '\0';
    *out = json_tokener_parse_ex(tok, copy, (int)len + 1);
    ok = json_tokener_get_error(tok) == json_tokener_success;
    if (ok) {
        end = json_tokener_get_parse_end(tok);
        while (end < len && fuzz_is_ws(data[end]))
            end++;
        ok = end >= len;
    }
    if (!ok) {
        json_object_put(*out);
        *out = NULL;
    }
    json_tokener_free(tok);
    free(copy);
    return ok;
}

/* Replace path with exactly len bytes of data; abort on any error. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* $VETD_ROLES_DIR, else the source tree's conf/roles compiled in. */
static inline const char *fuzz_roles_dir(void)
{
    const char *dir = getenv("VETD_ROLES_DIR");

    return dir != NULL && *dir != '\0' ? dir : FUZZ_ROLES_DIR;
}

#endif
