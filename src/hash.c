/* SHA-1 hex digests through nettle. */
#include "hash.h"

#include <nettle/sha1.h>

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void hash_sha1_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1])
{
    struct sha1_ctx ctx;
    unsigned char d[SHA1_DIGEST_SIZE];

    sha1_init(&ctx);
    sha1_update(&ctx, len, data);
    sha1_digest(&ctx, sizeof d, d);
    to_hex(d, sizeof d, out);
}

void hash_email_hex(const char *email, size_t len, char out[HASH_HEX_LEN + 1])
{
    struct sha1_ctx ctx;
    unsigned char d[SHA1_DIGEST_SIZE];
    char low[SHA1_BLOCK_SIZE];

    /* Lower-cased a block at a time on the stack: no copy on the heap. */
    sha1_init(&ctx);
    for (size_t at = 0; at < len;) {
        size_t n = len - at < sizeof low ? len - at : sizeof low;
        for (size_t i = 0; i < n; i++) {
            char c = email[at + i];
            low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        sha1_update(&ctx, n, (const uint8_t *)low);
        at += n;
    }
    sha1_digest(&ctx, sizeof d, d);
    to_hex(d, sizeof d, out);
}
