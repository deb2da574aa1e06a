/* The term matcher of SPEC §4: many terms compiled once into one
 * Aho-Corasick automaton that finds whole-word occurrences in one pass over
 * a text, plus the UTF-8 helpers and the evidence excerpt built on it. */
#ifndef VETD_MATCH_H
#define VETD_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* A term's normalized length (bytes, after case and white-space folding)
 * is at most this. */
#define MATCH_TERM_MAX 128
/* Evidence excerpts: context on each side and total, in code points. */
#define MATCH_EXCERPT_CONTEXT 40
#define MATCH_EXCERPT_MAX 120

struct match_set;

/* One occurrence: which term (index returned by match_set_add) and where,
 * as byte offsets into the original text ([start, end)). */
struct match_hit {
    size_t term;
    size_t start;
    size_t end;
};

/* Called for every occurrence that passes the word-boundary rule, in order
 * of end offset (then term index). The hit is borrowed. */
typedef void (*match_fn)(void *arg, const struct match_hit *hit);

struct match_set *match_set_new(void);
void match_set_free(struct match_set *ms);
/* Add a term (valid UTF-8, NUL-terminated). Returns its index, or -1 with
 * *cause set (caller frees) when it is empty, starts or ends with white
 * space, or is too long. Identical terms may be added more than once. */
int match_set_add(struct match_set *ms, const char *term, char **cause);
/* Build the automaton; after this no term may be added. */
void match_set_compile(struct match_set *ms);
size_t match_set_count(const struct match_set *ms);
/* Scan len bytes of text once and report every whole-word occurrence. */
void match_set_scan(const struct match_set *ms, const char *text, size_t len, match_fn fn,
                    void *arg);

/* Decode one code point at s[0..len): its length in bytes with *cp set, or
 * 0 when s does not start a valid RFC 3629 sequence. */
size_t match_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Decode the code point at s[*i] (len bytes in all) and advance *i. An
 * invalid or truncated sequence yields U+FFFD and advances one byte. */
uint32_t match_utf8_next(const char *s, size_t len, size_t *i);
/* True when s is valid UTF-8 (RFC 3629); else *bad is the offset of the
 * first invalid byte. */
bool match_utf8_valid(const char *s, size_t len, size_t *bad);
/* The word characters of SPEC §4. */
bool match_is_word(uint32_t cp);
/* White space for matching: tab, LF, CR, space and U+00A0. */
bool match_is_space(uint32_t cp);

/* Append to out the evidence excerpt of text[start, end): the match as
 * written with up to MATCH_EXCERPT_CONTEXT code points of context on each
 * side, at most MATCH_EXCERPT_MAX in all, cut on code point boundaries,
 * white-space runs folded to one space and trimmed at both ends. */
void match_excerpt(struct buf *out, const char *text, size_t len, size_t start, size_t end);
/* The bytes [*from, *to) of text that match_excerpt quotes for [start, end)
 * (before white space is folded and trimmed). True when they are known to
 * be plain: ASCII, no control byte, no two white-space bytes together, so
 * that the excerpt is the span less a space at either end
 * (match_excerpt_trim); false when they may not be. */
bool match_excerpt_span(const char *text, size_t len, size_t start, size_t end, size_t *from,
                        size_t *to);
/* Trim a plain span (match_excerpt_span returned true) to its excerpt. */
void match_excerpt_trim(const char *text, size_t *from, size_t *to);
/* Append text[from, to) (a span from match_excerpt_span) as match_excerpt
 * does: white-space runs folded to one space, trimmed at both ends. */
void match_excerpt_add(struct buf *out, const char *text, size_t len, size_t from, size_t to);

#endif
