/* Submission validation (SPEC §3): size, encoding, grammar, depth, object,
 * required fields, field rules, role -- in that order, first failure wins. */
#ifndef VETD_SUBMISSION_H
#define VETD_SUBMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "hash.h"

struct roleset;

enum sub_code {
    SUB_OK,
    SUB_TOO_LARGE,
    SUB_BAD_UTF8,
    SUB_NOT_JSON,
    SUB_TOO_DEEP,
    SUB_NOT_OBJECT,
    SUB_MISSING_FIELD,
    SUB_BAD_FIELD,
    SUB_NO_CONSENT,
    SUB_UNKNOWN_ROLE,
};

/* "too_large", "bad_utf8", ... ("ok" for SUB_OK). */
const char *sub_code_name(enum sub_code code);

/* A validated submission. Strings point into root (json-c owns them) and
 * are NUL-terminated; optional ones are NULL when absent or null. */
struct submission {
    json_object *root; /* owned */
    const char *role;
    const char *name;
    const char *email;
    const char *id; /* the given id, or id_buf when absent */
    char id_buf[21];
    const char *submitted_at; /* NULL when absent */
    const char *headline;
    const char *summary;
    const char *cv_text;
    /* Bytes of the three texts above (0 when NULL); score_submission
     * measures a 0 with strlen, for submissions filled in by hand. */
    size_t headline_len;
    size_t summary_len;
    size_t cv_text_len;
    bool has_years;
    double years_experience;
    json_object *skills;               /* array of strings, borrowed, or NULL */
    json_object *certifications;       /* array of strings, borrowed, or NULL */
    json_object *experience;           /* array of objects, borrowed, or NULL */
    json_object *links;                /* object of strings, borrowed, or NULL */
    char digest[HASH_HEX_LEN + 1];     /* sha1 of the raw bytes */
    bool has_email_sha1;               /* set as soon as `email` is a string */
    char email_sha1[HASH_HEX_LEN + 1]; /* also on rejection, for dead letters */
};

/* Validate len bytes. On SUB_OK, s is filled and must be released with
 * submission_free(); detail is "". On failure s->root is NULL (nothing to
 * free), detail holds "field: rule" (never a candidate's value; an unknown
 * role's id, which matched the role id pattern, is named) and s->digest /
 * s->email_sha1 are still set where known. roles may be NULL to skip the
 * role check. Details look like:
 *   payload: larger than 262144 bytes
 *   payload: invalid UTF-8 at byte 17: overlong encoding
 *   payload: invalid JSON at byte 40: trailing comma
 *   payload: nested deeper than 64 levels at byte 90
 *   payload: top-level value must be an object
 *   email: is required                      (missing_field)
 *   skills[3]: must be 1-100 characters     (bad_field)
 *   experience[2].years: must be a number 0-60
 *   links.github: must be an http:// or https:// URL
 *   consent: must be true                   (no_consent)
 *   role: unknown role 'chef'               (unknown_role)
 * A null is "absent" for optional fields only. Every string accepted holds
 * no NUL, so the const char * fields are safe as C strings. */
enum sub_code submission_parse(struct submission *s, const char *bytes, size_t len,
                               size_t max_bytes, const struct roleset *roles, char *detail,
                               size_t detail_len);
void submission_free(struct submission *s);

#endif
