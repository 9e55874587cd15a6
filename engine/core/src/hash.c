/* Streaming 64-bit hash (a wyhash-like multiply-mix over 8-byte words) and
 * CRC32C (Castagnoli, table driven). */
#include "twin/hash.h"

#include <string.h>

static const uint64_t K1 = 0x9E3779B97F4A7C15ull;
static const uint64_t K2 = 0xBF58476D1CE4E5B9ull;

uint64_t tw_hash_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= K2;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

void tw_hasher_init(tw_hasher *h, uint64_t seed)
{
    h->state = tw_hash_mix64(seed ^ K1);
    h->length = 0;
}

static void absorb(tw_hasher *h, uint64_t w)
{
    h->state = (h->state ^ tw_hash_mix64(w + K1)) * K2;
    h->state ^= h->state >> 29;
}

void tw_hasher_update(tw_hasher *h, const void *data, size_t size)
{
    const unsigned char *p = data;
    h->length += size;
    while (size >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        absorb(h, w);
        p += 8;
        size -= 8;
    }
    if (size) {
        uint64_t w = 0;
        memcpy(&w, p, size);
        absorb(h, w ^ ((uint64_t)size << 56));
    }
}

void tw_hasher_u64(tw_hasher *h, uint64_t v)
{
    h->length += 8;
    absorb(h, v);
}

void tw_hasher_f64(tw_hasher *h, double v)
{
    if (v == 0.0) v = 0.0;          /* fold -0.0 */
    if (v != v) v = __builtin_nan(""); /* one NaN pattern */
    uint64_t bits;
    memcpy(&bits, &v, 8);
    tw_hasher_u64(h, bits);
}

uint64_t tw_hasher_final(const tw_hasher *h)
{
    return tw_hash_mix64(h->state ^ h->length);
}

uint64_t tw_hash_bytes(const void *data, size_t size, uint64_t seed)
{
    tw_hasher h;
    tw_hasher_init(&h, seed);
    tw_hasher_update(&h, data, size);
    return tw_hasher_final(&h);
}

uint64_t tw_hash_str(const char *s)
{
    return tw_hash_bytes(s, strlen(s), 0);
}

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
    crc_ready = 1;
}

uint32_t tw_crc32c(uint32_t crc, const void *data, size_t size)
{
    /* The table is pure data computed from a constant: racing initialisers
     * write identical values, so no lock is needed. */
    if (!crc_ready) crc_init();
    const unsigned char *p = data;
    crc = ~crc;
    while (size >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
              crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
              crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}
