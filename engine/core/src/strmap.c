/* Open-addressing string map with linear probing and tombstones. */
#include "twin/strmap.h"

#include <ctype.h>
#include <string.h>

#include "twin/hash.h"

struct tw_strmap_slot {
    char *key; /* NULL: empty; TOMBSTONE: deleted */
    uint64_t hash;
    uint64_t value;
};

static char tombstone_marker;
#define TOMBSTONE (&tombstone_marker)

void tw_strmap_init(tw_strmap *m, const tw_allocator *alloc)
{
    memset(m, 0, sizeof *m);
    m->alloc = tw_allocator_or_default(alloc);
}

void tw_strmap_fini(tw_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        char *k = m->slots[i].key;
        if (k && k != TOMBSTONE) tw_free(&m->alloc, k, strlen(k) + 1);
    }
    tw_free(&m->alloc, m->slots, m->cap * sizeof *m->slots);
    m->slots = NULL;
    m->cap = m->count = m->tombstones = 0;
}

static tw_status rehash(tw_strmap *m, size_t ncap)
{
    tw_strmap_slot *ns = tw_calloc(&m->alloc, ncap, sizeof *ns);
    if (!ns) return TW_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        tw_strmap_slot *s = &m->slots[i];
        if (!s->key || s->key == TOMBSTONE) continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key) j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    tw_free(&m->alloc, m->slots, m->cap * sizeof *m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->tombstones = 0;
    return TW_OK;
}

tw_status tw_strmap_put(tw_strmap *m, const char *key, uint64_t value)
{
    if ((m->count + m->tombstones + 1) * 4 >= m->cap * 3) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        if (m->count * 2 < m->cap) ncap = m->cap; /* mostly tombstones: rehash in place */
        tw_status st = rehash(m, ncap);
        if (st) return st;
    }
    uint64_t h = tw_hash_str(key);
    size_t i = h & (m->cap - 1);
    tw_strmap_slot *grave = NULL;
    for (;;) {
        tw_strmap_slot *s = &m->slots[i];
        if (!s->key) break;
        if (s->key == TOMBSTONE) {
            if (!grave) grave = s;
        } else if (s->hash == h && strcmp(s->key, key) == 0) {
            s->value = value;
            return TW_OK;
        }
        i = (i + 1) & (m->cap - 1);
    }
    char *k = tw_strdup(&m->alloc, key);
    if (!k) return TW_ERR_NOMEM;
    tw_strmap_slot *s = grave ? grave : &m->slots[i];
    if (grave) m->tombstones--;
    s->key = k;
    s->hash = h;
    s->value = value;
    m->count++;
    return TW_OK;
}

static tw_strmap_slot *find(const tw_strmap *m, const char *key)
{
    if (!m->cap) return NULL;
    uint64_t h = tw_hash_str(key);
    size_t i = h & (m->cap - 1);
    for (;;) {
        tw_strmap_slot *s = &m->slots[i];
        if (!s->key) return NULL;
        if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0) return s;
        i = (i + 1) & (m->cap - 1);
    }
}

int tw_strmap_get(const tw_strmap *m, const char *key, uint64_t *value)
{
    tw_strmap_slot *s = find(m, key);
    if (!s) return 0;
    if (value) *value = s->value;
    return 1;
}

int tw_strmap_remove(tw_strmap *m, const char *key)
{
    tw_strmap_slot *s = find(m, key);
    if (!s) return 0;
    tw_free(&m->alloc, s->key, strlen(s->key) + 1);
    s->key = TOMBSTONE;
    m->count--;
    m->tombstones++;
    return 1;
}

int tw_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 64;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            int v = prev + cost;
            if (row[j] + 1 < v) v = row[j] + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            prev = cur;
        }
    }
    return row[lb];
}

const char *tw_closest_word(const char *word, const char *const *candidates, size_t count)
{
    int limit = (int)strlen(word) / 3;
    if (limit < 2) limit = 2;
    const char *best = NULL;
    int best_d = limit + 1;
    for (size_t i = 0; i < count; i++) {
        int d = tw_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}
