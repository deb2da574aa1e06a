/* Terminal-safe human output for vetctl: escaping, widths, padding,
 * colour and word wrapping (see out.h for the rules). */
#include "out.h"

#include "match.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Invisible characters that change how text is laid out or read: the
 * Arabic letter mark, zero-width spaces and joiners, the directional marks,
 * line/paragraph separators, embeddings, overrides, isolates, the other
 * invisible operators, and the byte-order mark. */
static bool is_format_char(uint32_t cp)
{
    return cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append a white-space run starting at s[*i] under OUT_FOLD_WS. */
static void fold_space(struct buf *b, const unsigned char *s, size_t n, size_t *i)
{
    while (*i < n && is_ascii_space(s[*i]))
        (*i)++;
    buf_addc(b, ' ');
}

/* Append one control character c (C0 or DEL) at s[*i], kept or escaped. */
static void escape_control(struct buf *b, const unsigned char *s, size_t n, size_t *i, int flags)
{
    unsigned char c = s[*i];

    if ((flags & OUT_FOLD_WS) && is_ascii_space(c)) {
        fold_space(b, s, n, i);
        return;
    }
    (*i)++;
    if (c == '\n' && (flags & OUT_KEEP_NL))
        buf_addc(b, '\n');
    else if (c == '\r' && (flags & OUT_KEEP_NL) && *i < n && s[*i] == '\n')
        return;
    else if (c == '\t' && (flags & OUT_KEEP_TAB))
        buf_addc(b, '\t');
    else
        buf_printf(b, "\\x%02x", c);
}

void out_escape(struct buf *b, const char *str, size_t n, int flags)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    buf_add(b, "", 0); /* a NUL-terminated buffer even for empty text */
    while (i < n) {
        uint32_t cp;
        size_t len;

        if (s[i] < 0x20 || s[i] == 0x7f) {
            escape_control(b, s, n, &i, flags);
            continue;
        }
        if (s[i] == ' ' && (flags & OUT_FOLD_WS)) {
            fold_space(b, s, n, &i);
            continue;
        }
        len = match_utf8_decode((const char *)s + i, n - i, &cp);
        if (len == 0) {
            buf_printf(b, "\\x%02x", s[i]);
            i++;
        } else if ((cp >= 0x80 && cp <= 0x9f) || is_format_char(cp)) {
            buf_printf(b, "\\u%04x", (unsigned)cp);
            i += len;
        } else {
            buf_add(b, s + i, len);
            i += len;
        }
    }
}

void out_print(FILE *f, const char *s, int flags)
{
    struct buf b = BUF_INIT;

    out_escape(&b, s, strlen(s), flags);
    fwrite(b.data, 1, b.len, f);
    buf_free(&b);
}

/* Columns of one printable code point. */
static size_t cp_width(uint32_t cp)
{
    if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
        (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
        (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
        (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

size_t out_width(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, w = 0;

    while (i < n) {
        uint32_t cp;
        size_t len = match_utf8_decode((const char *)s + i, n - i, &cp);

        if (len == 0) {
            w += 4; /* \xNN */
            i++;
            continue;
        }
        if (cp < 0x20 || cp == 0x7f)
            w += 4;
        else if ((cp >= 0x80 && cp <= 0x9f) || is_format_char(cp))
            w += 6; /* \uNNNN */
        else
            w += cp_width(cp);
        i += len;
    }
    return w;
}

static void add_spaces(struct buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_addc(b, ' ');
}

/* Length in bytes of the longest prefix of the safe text s that fits in
 * width columns. */
static size_t fit_prefix(const char *s, size_t n, size_t width)
{
    size_t i = 0, w = 0;

    while (i < n) {
        uint32_t cp;
        size_t len = match_utf8_decode(s + i, n - i, &cp);
        size_t cw;

        if (len == 0)
            len = 1;
        cw = out_width(s + i, len);
        if (w + cw > width)
            break;
        w += cw;
        i += len;
    }
    return i;
}

void out_cell(struct buf *b, const char *s, size_t width, bool truncate)
{
    struct buf t = BUF_INIT;
    size_t w;

    out_escape(&t, s, strlen(s), 0);
    w = out_width(t.data, t.len);
    if (w > width && truncate) {
        size_t keep = width >= 3 ? fit_prefix(t.data, t.len, width - 3) : 0;

        buf_add(b, t.data, keep);
        w = out_width(t.data, keep);
        if (width >= 3) {
            buf_adds(b, "...");
            w += 3;
        }
    } else {
        buf_add(b, t.data, t.len);
    }
    if (w < width)
        add_spaces(b, width - w);
    buf_free(&t);
}

/* State of one out_wrap() call. */
struct wrap {
    struct buf *b;
    size_t indent, width;
    size_t col;     /* columns used on the current line after the indent */
    bool line_open; /* the current line has its indent and some text */
    bool any;       /* some word was written */
    size_t avail;   /* columns of text the current line holds */
};

static void wrap_word(struct wrap *w, const char *word, size_t len, size_t first_indent)
{
    size_t ww = out_width(word, len);
    size_t lead = w->any ? w->indent : first_indent;

    if (w->line_open && w->col + 1 + ww > w->avail) {
        buf_addc(w->b, '\n');
        w->line_open = false;
    }
    if (!w->line_open) {
        size_t start = lead > w->indent ? lead : w->indent;

        add_spaces(w->b, lead);
        w->avail = w->width > start + 10 ? w->width - start : 10;
        w->col = 0;
        w->line_open = true;
    } else {
        buf_addc(w->b, ' ');
        w->col++;
    }
    buf_add(w->b, word, len);
    w->col += ww;
    w->any = true;
}

void out_wrap(struct buf *b, const char *text, size_t first_indent, size_t indent, size_t width)
{
    struct buf t = BUF_INIT;
    struct wrap w = {b, indent, width, 0, false, false, 0};
    size_t i = 0;

    out_escape(&t, text, strlen(text), OUT_KEEP_NL | OUT_KEEP_TAB);
    while (i < t.len) {
        size_t newlines = 0, start;

        while (i < t.len && is_ascii_space((unsigned char)t.data[i]))
            newlines += t.data[i++] == '\n';
        if (i >= t.len)
            break;
        if (newlines >= 2 && w.line_open) {
            buf_adds(b, "\n\n");
            w.line_open = false;
        }
        start = i;
        while (i < t.len && !is_ascii_space((unsigned char)t.data[i]))
            i++;
        wrap_word(&w, t.data + start, i - start, first_indent);
    }
    if (w.line_open || !w.any)
        buf_addc(b, '\n');
    buf_free(&t);
}

const char *out_on(bool color, enum out_style style)
{
    static const char *const seq[] = {
        [OUT_BOLD] = "\033[1m",    [OUT_GREEN] = "\033[32m", [OUT_RED] = "\033[31m",
        [OUT_YELLOW] = "\033[33m", [OUT_DIM] = "\033[2m",
    };

    if (!color || (size_t)style >= sizeof seq / sizeof seq[0])
        return "";
    return seq[style];
}

const char *out_off(bool color)
{
    return color ? "\033[0m" : "";
}

void out_styled(struct buf *b, bool color, enum out_style style, const char *text)
{
    buf_adds(b, out_on(color, style));
    buf_adds(b, text);
    buf_adds(b, out_off(color));
}

size_t out_term_width(void)
{
    const char *env = getenv("COLUMNS");
    size_t w = 0;
    struct winsize ws;

    if (env != NULL && *env != '\0') {
        char *end;
        long v = strtol(env, &end, 10);

        if (*end == '\0' && v > 0)
            w = (size_t)v;
    }
    if (w == 0 && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        w = ws.ws_col;
    if (w == 0)
        w = 80;
    return w < 40 ? 40 : w > 200 ? 200 : w;
}
