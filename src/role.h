/* The role model (SPEC §4) and its loader: a set of roles from the
 * <id>.json files of one directory, compiled once for matching. */
#ifndef VETD_ROLE_H
#define VETD_ROLE_H

#include <stddef.h>

#include "hash.h"

struct role;    /* defined in role_internal.h for the scorer */
struct roleset; /* owns its roles */

/* Load every *.json file of dir. One broken file rejects the set: returns
 * NULL and sets *cause (caller frees) to "file:line:col: reason" (syntax)
 * or "file: JSON path: reason" (semantics). An empty directory is an error. */
struct roleset *roleset_load(const char *dir, char **cause);
void roleset_free(struct roleset *rs);
const struct role *roleset_find(const struct roleset *rs, const char *id);
size_t roleset_count(const struct roleset *rs);
const struct role *roleset_get(const struct roleset *rs, size_t i);

const char *role_id(const struct role *r);
const char *role_title(const struct role *r);
const char *role_version(const struct role *r);
const char *role_description(const struct role *r);
int role_threshold(const struct role *r);
/* sha1 hex of the role file's bytes, as recorded in every analysis. */
const char *role_sha1(const struct role *r);
/* The path the role was loaded from. */
const char *role_path(const struct role *r);

#endif
