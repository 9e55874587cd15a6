/* twin/hash.h: fast non-cryptographic hashing (state hashes, hash maps) and CRC32C.
 *
 * tw_hash64 is a streaming 64-bit hash; feed bytes in a fixed order to get
 * the same value on every run. Results are stable across runs and builds on
 * the same byte order. */
#ifndef TWIN_HASH_H
#define TWIN_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_hasher {
    uint64_t state;
    uint64_t length;
} tw_hasher;

void tw_hasher_init(tw_hasher *h, uint64_t seed);
void tw_hasher_update(tw_hasher *h, const void *data, size_t size);
void tw_hasher_u64(tw_hasher *h, uint64_t v);
void tw_hasher_f64(tw_hasher *h, double v);  /* -0.0 hashes as +0.0; NaNs hash alike */
uint64_t tw_hasher_final(const tw_hasher *h);

uint64_t tw_hash_bytes(const void *data, size_t size, uint64_t seed);
uint64_t tw_hash_str(const char *s); /* hash of a NUL-terminated string */
uint64_t tw_hash_mix64(uint64_t x);  /* finaliser; a good integer hash */

uint32_t tw_crc32c(uint32_t crc, const void *data, size_t size); /* start with crc = 0 */

#endif
