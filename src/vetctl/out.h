/* Human output for vetctl: text from submissions made safe for a terminal,
 * display widths and padding, colour, and word-wrapped paragraphs.
 *
 * Everything a candidate wrote is untrusted: it goes through out_escape()
 * (or a function built on it) before it reaches a terminal, so a profile
 * can neither send escape sequences nor reorder the reviewer's screen with
 * bidirectional overrides. Escapes are visible and unambiguous in kind:
 * `\x1b` for a C0 control, DEL or a byte that is not valid UTF-8, `\u202e`
 * for a C1 control or an invisible formatting / bidi character. */
#ifndef VETCTL_OUT_H
#define VETCTL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

/* Flags of out_escape(). */
#define OUT_KEEP_NL 0x1  /* keep line feeds (and drop carriage returns before them) */
#define OUT_KEEP_TAB 0x2 /* keep tabs */
#define OUT_FOLD_WS 0x4  /* turn every white-space run (also line feeds) into one space */

/* Append the n bytes of s to b with every unsafe character escaped. */
void out_escape(struct buf *b, const char *s, size_t n, int flags);
/* Print the NUL-terminated s to f, escaped (flags as out_escape). */
void out_print(FILE *f, const char *s, int flags);

/* Display width in terminal columns of the UTF-8 text s (n bytes) as
 * out_escape(flags 0) would print it: one column per code point, two for
 * East Asian wide and full-width characters, none for combining marks,
 * the escape's length for escaped characters. */
size_t out_width(const char *s, size_t n);

/* Append s escaped (no line feeds kept) and padded with spaces to width
 * columns. When s is wider and truncate is set, it is cut on a character
 * boundary and ends in "..." so that it fills width exactly. */
void out_cell(struct buf *b, const char *s, size_t width, bool truncate);

/* Append the paragraph text word-wrapped to width columns (escaped, white
 * space folded, blank lines kept as paragraph breaks). The first line is
 * indented by first_indent spaces, the following ones by indent; every
 * line ends in a line feed. A word longer than a line stands alone.
 * The first line holds width - max(first_indent, indent) columns of text,
 * so a caller that has already printed a prefix of indent columns (a
 * number, a bullet) passes first_indent 0. */
void out_wrap(struct buf *b, const char *text, size_t first_indent, size_t indent, size_t width);

enum out_style {
    OUT_BOLD,
    OUT_GREEN,
    OUT_RED,
    OUT_YELLOW,
    OUT_DIM,
};

/* The escape sequence that starts a style, or "" when color is false. */
const char *out_on(bool color, enum out_style style);
/* The escape sequence that ends every style, or "" when color is false. */
const char *out_off(bool color);
/* Append text (trusted, e.g. our own words) in a style. */
void out_styled(struct buf *b, bool color, enum out_style style, const char *text);

/* The terminal's width: $COLUMNS when it is a sane number, else the width
 * of stdout's terminal, else 80; clamped to 40..200. */
size_t out_term_width(void);

#endif
