/* Human rendering of a stored analysis (SPEC §4) for vetctl: the met
 * criteria with their evidence quotes, the missing ones and the plan,
 * laid out the same way by `score` and `show`, and the typed member
 * getters both read analysis JSON with. Every string taken from the
 * analysis is escaped for the terminal (out.h). */
#ifndef VETCTL_RENDER_H
#define VETCTL_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"

/* Member key of the object o when it has the given type, else NULL (also
 * when o is NULL). The result is borrowed from o. */
json_object *render_get(json_object *o, const char *key, json_type type);
/* Member key of o as a string when it is one, else NULL; borrowed. */
const char *render_str(json_object *o, const char *key);
/* Member key of o when it is an integer, else 0. */
int render_int(json_object *o, const char *key);

/* Append the untrusted text s escaped and folded to one line; NULL
 * appends nothing. */
void render_text(struct buf *b, const char *s);

/* A section heading on a line of its own after a blank line: the title
 * in bold and, unless n is (size_t)-1, the count "(n)". */
void render_heading(struct buf *b, bool color, const char *title, size_t n);

/* The sections "Met criteria" (each with its evidence), "Missing" and
 * "Optimization plan" of the analysis an, word-wrapped to the terminal. */
void render_analysis(struct buf *b, bool color, json_object *an);

#endif
