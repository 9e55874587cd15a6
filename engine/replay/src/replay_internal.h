/* Private to engine/replay: byte encoding shared by the writer and reader.
 *
 * Everything in a log is little-endian. A record is
 *   u32 payload length | u8 type | payload | u32 CRC32C(type byte + payload)
 * (docs/log-format.md). */
#ifndef TWIN_REPLAY_INTERNAL_H
#define TWIN_REPLAY_INTERNAL_H

#include <string.h>

#include "twin/alloc.h"
#include "twin/hash.h"
#include "twin/replay.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the twlog writer and reader assume a little-endian host"
#endif

enum {
    RP_PREFIX = 12,               /* magic (8) + format version (u32) */
    RP_FRAME = 9,                 /* length (4) + type (1) + CRC (4) */
    RP_END_PAYLOAD = 16,
    RP_SIM_SECTION = 48
};

/* INPUT sample flags, in the low bits of each sample's varint key. */
enum { RP_S_TIME_REPEAT = 1, RP_S_F32 = 2, RP_S_EXTRA = 4, RP_S_SHIFT = 3 };

/* ---- a growable output buffer ------------------------------------------------ */

typedef struct rp_buf {
    tw_allocator alloc;
    unsigned char *p;
    size_t n, cap;
    int failed;                   /* an allocation failed: everything after is dropped */
} rp_buf;

static inline int rp_reserve(rp_buf *b, size_t more)
{
    if (b->failed) return -1;
    if (b->n + more <= b->cap) return 0;
    if (tw_grow(&b->alloc, (void **)&b->p, &b->cap, b->n + more, 1)) {
        b->failed = 1;
        return -1;
    }
    return 0;
}
static inline void rp_put(rp_buf *b, const void *src, size_t size)
{
    if (rp_reserve(b, size)) return;
    if (size) memcpy(b->p + b->n, src, size);
    b->n += size;
}
static inline void rp_u8(rp_buf *b, uint8_t v) { rp_put(b, &v, 1); }
static inline void rp_u16(rp_buf *b, uint16_t v) { rp_put(b, &v, 2); }
static inline void rp_u32(rp_buf *b, uint32_t v) { rp_put(b, &v, 4); }
static inline void rp_u64(rp_buf *b, uint64_t v) { rp_put(b, &v, 8); }
static inline void rp_f64(rp_buf *b, double v) { rp_put(b, &v, 8); }
static inline void rp_f32(rp_buf *b, float v) { rp_put(b, &v, 4); }
static inline void rp_str(rp_buf *b, const char *s, size_t max)
{
    size_t n = 0;
    while (s && n < max && s[n]) n++;
    rp_u16(b, (uint16_t)n);
    rp_put(b, s, n);
}
static inline void rp_varint(rp_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    int n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    rp_put(b, tmp, (size_t)n);
}
static inline void rp_buf_free(rp_buf *b)
{
    tw_free(&b->alloc, b->p, b->cap);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* Starts a record: returns the offset of its length field, to finish with rp_record_end. */
static inline size_t rp_record_begin(rp_buf *b, uint8_t type)
{
    size_t at = b->n;
    rp_u32(b, 0);
    rp_u8(b, type);
    return at;
}
static inline void rp_record_end(rp_buf *b, size_t at)
{
    if (b->failed) return;
    uint32_t len = (uint32_t)(b->n - at - 5);
    memcpy(b->p + at, &len, 4);
    uint32_t crc = tw_crc32c(0, b->p + at + 4, (size_t)len + 1);
    rp_u32(b, crc);
}

/* ---- a bounds-checked input cursor ---------------------------------------------- */

typedef struct rp_in {
    const unsigned char *p, *end;
    int bad;
} rp_in;

static inline const unsigned char *rp_take(rp_in *in, size_t n)
{
    if (in->bad || (size_t)(in->end - in->p) < n) {
        in->bad = 1;
        return NULL;
    }
    const unsigned char *at = in->p;
    in->p += n;
    return at;
}
static inline uint8_t rp_get_u8(rp_in *in)
{
    const unsigned char *p = rp_take(in, 1);
    return p ? *p : 0;
}
static inline uint16_t rp_get_u16(rp_in *in)
{
    uint16_t v = 0;
    const unsigned char *p = rp_take(in, 2);
    if (p) memcpy(&v, p, 2);
    return v;
}
static inline uint32_t rp_get_u32(rp_in *in)
{
    uint32_t v = 0;
    const unsigned char *p = rp_take(in, 4);
    if (p) memcpy(&v, p, 4);
    return v;
}
static inline uint64_t rp_get_u64(rp_in *in)
{
    uint64_t v = 0;
    const unsigned char *p = rp_take(in, 8);
    if (p) memcpy(&v, p, 8);
    return v;
}
static inline double rp_get_f64(rp_in *in)
{
    double v = 0;
    const unsigned char *p = rp_take(in, 8);
    if (p) memcpy(&v, p, 8);
    return v;
}
static inline float rp_get_f32(rp_in *in)
{
    float v = 0;
    const unsigned char *p = rp_take(in, 4);
    if (p) memcpy(&v, p, 4);
    return v;
}
/* A length-prefixed string copied into out (always terminated); bad when it does not fit. */
static inline void rp_get_str(rp_in *in, char *out, size_t out_size)
{
    uint16_t n = rp_get_u16(in);
    const unsigned char *s = rp_take(in, n);
    if (!s || n >= out_size || memchr(s, '\0', n)) {
        in->bad = 1;
        if (out_size) out[0] = '\0';
        return;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}
static inline uint64_t rp_get_varint(rp_in *in)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t byte = rp_get_u8(in);
        if (in->bad) return 0;
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return v;
    }
    in->bad = 1;
    return 0;
}

/* ---- shared between files ----------------------------------------------------------- */

typedef struct rp_kf {
    uint64_t tick, offset;
} rp_kf;

/* An alarm transition in the index's timeline. */
typedef struct rp_ev {
    uint64_t tick;
    tw_sim_event ev;
} rp_ev;

/* What an INDEX record holds. */
typedef struct rp_index {
    uint64_t end_tick, first_tick, last_tick, samples;
    const uint64_t *records;      /* TW_REPLAY_REC_TYPE_COUNT counts */
    const rp_kf *kf;
    size_t kf_count;
    char *const *sensors;         /* names of ids 1..sensor_count */
    size_t sensor_count;
    const rp_ev *events;
    size_t event_count;
} rp_index;

/* format.c: INDEX and END records appended to b. index_offset: where the INDEX lands in the file. */
void rp_index_end_encode(rp_buf *b, const rp_index *ix, uint64_t index_offset);

/* format.c: zero-run coding of ECS snapshots ("ECSR" sections). Appends
 * u64 raw size + tokens to b. */
void rp_rle_encode(rp_buf *b, const unsigned char *raw, size_t n);
/* Expands into out (raw bytes, exactly *raw_size); with out NULL only checks
 * the stream and gives the size. -1 when malformed. */
int rp_rle_decode(const unsigned char *p, size_t n, unsigned char *out, uint64_t *raw_size);
enum { RP_RLE_MAX_RAW = 512u << 20, RP_RLE_MIN_ZEROS = 16 };

/* format.c: the HEADER payload. */
void rp_header_encode(rp_buf *b, const tw_replay_header *h);
tw_status rp_header_decode(const unsigned char *p, size_t n, tw_replay_header *h);
/* The tick a record carries at the start of its payload, for the types that have one. */
int rp_record_tick(uint32_t type, const unsigned char *payload, size_t n, uint64_t *tick);

#endif
