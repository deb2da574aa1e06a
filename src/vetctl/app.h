/* One stored application as vetctl reads it (the `P app:<id>` hash of
 * SPEC §2 and its history), and its JSON form for --json and export. */
#ifndef VETCTL_APP_H
#define VETCTL_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct ctl;
struct redisReply;

struct app {
    char *id;                  /* owned */
    struct redisReply *fields; /* HGETALL reply, owned */
    struct redisReply *hist;   /* LRANGE of the history, owned; NULL until loaded */
};

/* Read the hash. Returns 0, or prints the error and returns 66 (no such
 * application) or 69. */
int app_load(struct ctl *ctl, const char *id, struct app *a);
/* Also read the history list; 0 or 69. */
int app_load_history(struct ctl *ctl, struct app *a);
void app_free(struct app *a);

/* A field's value (NULL when absent); *len set when len is not NULL. */
const char *app_get(const struct app *a, const char *field, size_t *len);
/* A numeric field, or dflt when absent or not a number. */
long long app_num(const struct app *a, const char *field, long long dflt);

/* Append text to b as JSON: spliced as-is when it parses as JSON, else
 * as a string. Stored JSON is never re-encoded. */
void app_splice_json(struct buf *b, const char *text, size_t len);
/* Append the application as a JSON object (fields, analysis as an object,
 * and "history" when it was loaded). */
void app_to_json(struct buf *b, const struct app *a);
/* Is s (n bytes) valid UTF-8 without NUL bytes? */
bool app_utf8_valid(const char *s, size_t n);

#endif
