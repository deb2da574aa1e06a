/* The Redis Functions library (the src/lua files), embedded at build time.
 * Its name carries the hash of its text, so versions never collide; every
 * function is named <lualib_name>_<verb>. */
#ifndef VETD_LUALIB_H
#define VETD_LUALIB_H

extern const char lualib_name[];   /* "vetd_<hash>" */
extern const char lualib_source[]; /* "#!lua name=vetd_<hash>\n..." */

/* The take's answer: {too_large, poison, deferred, item, digest, ...}: the
 * counts of items made dead letters and of items put back (a redelivery
 * is taken alone), then the items taken. */
#define LUALIB_TAKE_HEADER 3

#endif
