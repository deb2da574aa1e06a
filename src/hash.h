/* SHA-1 as lower-case hex (digests of submissions, role files, e-mails). */
#ifndef VETD_HASH_H
#define VETD_HASH_H

#include <stddef.h>

#define HASH_HEX_LEN 40

/* Write the 40 hex digits and a NUL into out. */
void hash_sha1_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1]);
/* sha1 hex of the ASCII-lower-cased e-mail address (the by-email key). */
void hash_email_hex(const char *email, size_t len, char out[HASH_HEX_LEN + 1]);

#endif
