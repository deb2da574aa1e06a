/* One strict pass over raw bytes: RFC 8259 grammar, RFC 3629 UTF-8, nesting
 * depth and finite numbers, checked before json-c (which is lenient) runs. */
#ifndef VETD_JSONCHECK_H
#define VETD_JSONCHECK_H

#include <stddef.h>

/* The classes in the order SPEC §3 ranks them: when the input has several
 * problems, the earliest class in this list is the one reported. */
enum jsoncheck_code {
    JSONCHECK_OK,
    JSONCHECK_BAD_UTF8, /* invalid UTF-8 or an escaped lone surrogate */
    JSONCHECK_NOT_JSON, /* grammar, a non-finite number, a \u0000 in a key */
    JSONCHECK_TOO_DEEP, /* well-formed but nested deeper than max_depth */
};

struct jsoncheck_result {
    enum jsoncheck_code code;
    const char *reason; /* static text, e.g. "overlong encoding"; "" when OK */
    size_t offset;      /* byte offset of the problem (0 when OK) */
    char top;           /* first byte of the top-level value ('{', '[', ...) */
};

/* Check len bytes. max_depth counts the top-level container as level 1.
 * Fills *r and returns r->code. Keys holding \u0000 are refused (not_json)
 * because json-c cuts keys at the first NUL, which would let one key pose
 * as another. Never allocates unless nesting exceeds 1024 levels. */
enum jsoncheck_code jsoncheck_run(const char *bytes, size_t len, int max_depth,
                                  struct jsoncheck_result *r);

/* "ok", "bad_utf8", "not_json", "too_deep". */
const char *jsoncheck_code_name(enum jsoncheck_code code);

#endif
