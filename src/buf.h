/* A growable byte buffer, always NUL-terminated, for building text and JSON. */
#ifndef VETD_BUF_H
#define VETD_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data; /* owned; NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Make room for n more bytes (and the NUL) so that the appends up to that
 * size do not reallocate. */
void buf_reserve(struct buf *b, size_t n);
void buf_adds(struct buf *b, const char *s);

/* buf_add and buf_addc are inline: an analysis makes hundreds of small
 * appends, and the call cost more than the copy. */
static inline void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap)
        buf_reserve(b, n);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void buf_addc(struct buf *b, char c)
{
    if (b->len + 2 > b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append s (n bytes, assumed UTF-8) as a JSON string literal with quotes. */
void buf_add_json_str(struct buf *b, const char *s, size_t n);
void buf_reset(struct buf *b);
/* Hand the data to the caller (who frees it) and empty the buffer. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
