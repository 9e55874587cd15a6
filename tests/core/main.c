/* Tests of engine/core: string map, hashing and CRC32C, arena, ISO 8601
 * time text, the failing allocator, "did you mean", status and diagnostics. */
#include "test.h"
#include "twin/alloc.h"
#include "twin/arena.h"
#include "twin/clock.h"
#include "twin/hash.h"
#include "twin/status.h"
#include "twin/strmap.h"

/* ---- strmap ---------------------------------------------------------------------- */

TEST(strmap_put_get_replace_remove)
{
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_strmap m;
    tw_strmap_init(&m, &a);
    uint64_t v = 0;
    CHECK(!tw_strmap_get(&m, "missing", &v));
    CHECK_EQ_INT(tw_strmap_put(&m, "alpha", 1), TW_OK);
    CHECK_EQ_INT(tw_strmap_put(&m, "beta", 2), TW_OK);
    CHECK(tw_strmap_get(&m, "alpha", &v) && v == 1);
    CHECK(tw_strmap_get(&m, "beta", NULL));
    CHECK_EQ_INT(tw_strmap_put(&m, "alpha", 10), TW_OK);
    CHECK(tw_strmap_get(&m, "alpha", &v) && v == 10);
    CHECK_EQ_INT(m.count, 2);
    char key[8] = "gamma";
    CHECK_EQ_INT(tw_strmap_put(&m, key, 3), TW_OK);
    key[0] = 'X'; /* the map keeps its own copy */
    CHECK(tw_strmap_get(&m, "gamma", &v) && v == 3);
    CHECK(tw_strmap_remove(&m, "alpha"));
    CHECK(!tw_strmap_remove(&m, "alpha"));
    CHECK(!tw_strmap_get(&m, "alpha", &v));
    CHECK(tw_strmap_get(&m, "beta", &v) && v == 2);
    CHECK_EQ_INT(m.count, 2);
    CHECK_EQ_INT(tw_strmap_put(&m, "", 7), TW_OK);
    CHECK(tw_strmap_get(&m, "", &v) && v == 7);
    tw_strmap_fini(&m);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

TEST(strmap_many_keys_and_churn)
{
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_strmap m;
    tw_strmap_init(&m, &a);
    char k[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        REQUIRE(tw_strmap_put(&m, k, (uint64_t)i * 3) == TW_OK);
    }
    CHECK_EQ_INT(m.count, 20000);
    for (int i = 0; i < 20000; i += 2) {
        snprintf(k, sizeof k, "key-%d", i);
        CHECK(tw_strmap_remove(&m, k));
    }
    /* Churn: removing and adding keeps the table from filling with tombstones. */
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 5000; i++) {
            snprintf(k, sizeof k, "tmp-%d-%d", round, i);
            REQUIRE(tw_strmap_put(&m, k, 1) == TW_OK);
        }
        for (int i = 0; i < 5000; i++) {
            snprintf(k, sizeof k, "tmp-%d-%d", round, i);
            CHECK(tw_strmap_remove(&m, k));
        }
    }
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t v;
        snprintf(k, sizeof k, "key-%d", i);
        int found = tw_strmap_get(&m, k, &v);
        if (found != (i % 2) || (found && v != (uint64_t)i * 3)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(m.count, 10000);
    tw_strmap_fini(&m);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

TEST(strmap_out_of_memory)
{
    for (uint64_t fail_at = 1; fail_at <= 40; fail_at++) {
        tw_failing_alloc fa = { 0 };
        fa.fail_at = fail_at;
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_strmap m;
        tw_strmap_init(&m, &a);
        char k[16];
        int stored = 0;
        for (int i = 0; i < 30; i++) {
            snprintf(k, sizeof k, "k%d", i);
            if (tw_strmap_put(&m, k, (uint64_t)i) == TW_OK) stored++;
            else CHECK(!tw_strmap_get(&m, k, NULL));
        }
        CHECK_EQ_INT((size_t)stored, m.count);
        tw_strmap_fini(&m);
        CHECK_EQ_INT(fa.live_bytes, 0);
    }
}

/* ---- did you mean ------------------------------------------------------------------ */

TEST(closest_word_suggestions)
{
    CHECK_EQ_INT(tw_edit_distance("kitten", "sitting"), 3);
    CHECK_EQ_INT(tw_edit_distance("", "abc"), 3);
    CHECK_EQ_INT(tw_edit_distance("Thermal", "tHERMAL"), 0);
    const char *const names[] = { "Transform", "Thermal", "Hvac", "Shape" };
    CHECK_STR(tw_closest_word("Thermall", names, 4), "Thermal");
    CHECK_STR(tw_closest_word("thermal", names, 4), "Thermal");
    CHECK_STR(tw_closest_word("Trnsform", names, 4), "Transform");
    CHECK_STR(tw_closest_word("Hvca", names, 4), "Hvac");
    CHECK(tw_closest_word("Weather", names, 4) == NULL);
    CHECK(tw_closest_word("x", names, 0) == NULL);
}

/* ---- hashing -------------------------------------------------------------------------- */

TEST(crc32c_known_vectors)
{
    /* RFC 3720 (iSCSI) appendix B.4 and the common check value. */
    CHECK_EQ_U64(tw_crc32c(0, "123456789", 9), 0xE3069283u);
    unsigned char buf[32];
    memset(buf, 0, sizeof buf);
    CHECK_EQ_U64(tw_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof buf);
    CHECK_EQ_U64(tw_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)i;
    CHECK_EQ_U64(tw_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (unsigned char)(31 - i);
    CHECK_EQ_U64(tw_crc32c(0, buf, 32), 0x113FDB5Cu);
    CHECK_EQ_U64(tw_crc32c(0, "", 0), 0);
    /* Incremental equals one shot, at any split. */
    const char *text = "The quick brown fox jumps over the lazy dog";
    size_t n = strlen(text);
    uint32_t whole = tw_crc32c(0, text, n);
    for (size_t split = 0; split <= n; split++)
        CHECK_EQ_U64(tw_crc32c(tw_crc32c(0, text, split), text + split, n - split), whole);
    CHECK_EQ_U64(whole, 0x22620404u);
}

TEST(hash_stable_and_sensitive)
{
    CHECK_EQ_U64(tw_hash_str("Thermal"), tw_hash_bytes("Thermal", 7, 0));
    CHECK(tw_hash_str("Thermal") != tw_hash_str("Thermam"));
    CHECK(tw_hash_bytes("abc", 3, 1) != tw_hash_bytes("abc", 3, 2));
    CHECK(tw_hash_bytes("abc", 3, 0) != tw_hash_bytes("abc\0", 4, 0));
    CHECK(tw_hash_mix64(1) != tw_hash_mix64(2));
    tw_hasher a, b;
    tw_hasher_init(&a, 42);
    tw_hasher_init(&b, 42);
    tw_hasher_f64(&a, 0.0);
    tw_hasher_f64(&b, -0.0);
    CHECK_EQ_U64(tw_hasher_final(&a), tw_hasher_final(&b));
    tw_hasher_f64(&a, NAN);
    tw_hasher_f64(&b, -NAN);
    CHECK_EQ_U64(tw_hasher_final(&a), tw_hasher_final(&b));
    tw_hasher_u64(&a, 1);
    tw_hasher_u64(&b, 2);
    CHECK(tw_hasher_final(&a) != tw_hasher_final(&b));
    /* Same bytes fed the same way give the same value. */
    tw_hasher c, d;
    tw_hasher_init(&c, 7);
    tw_hasher_init(&d, 7);
    for (int i = 0; i < 100; i++) {
        tw_hasher_update(&c, "0123456789abc", 13);
        tw_hasher_update(&d, "0123456789abc", 13);
    }
    CHECK_EQ_U64(tw_hasher_final(&c), tw_hasher_final(&d));
}

/* ---- arena ------------------------------------------------------------------------------ */

TEST(arena_alignment_reset_and_fini)
{
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_arena ar;
    tw_arena_init(&ar, &a, 1024);
    void *ptrs[100];
    for (int i = 0; i < 100; i++) {
        ptrs[i] = tw_arena_alloc(&ar, (size_t)(i % 37) + 1);
        REQUIRE(ptrs[i]);
        CHECK(((uintptr_t)ptrs[i] & 15) == 0);
        memset(ptrs[i], i, (size_t)(i % 37) + 1);
    }
    for (int i = 0; i < 100; i++) CHECK(((unsigned char *)ptrs[i])[0] == (unsigned char)i);
    void *big = tw_arena_alloc(&ar, 10000); /* larger than a block */
    REQUIRE(big);
    memset(big, 1, 10000);
    uint64_t allocs = fa.allocations;
    for (int round = 0; round < 10; round++) {
        tw_arena_reset(&ar);
        for (int i = 0; i < 100; i++) REQUIRE(tw_arena_alloc(&ar, (size_t)(i % 37) + 1));
        REQUIRE(tw_arena_alloc(&ar, 10000));
    }
    CHECK_EQ_U64(fa.allocations, allocs); /* a steady state reuses its blocks */
    tw_arena_fini(&ar);
    CHECK_EQ_INT(fa.live_bytes, 0);

    fa.fail_at = fa.allocations + 1;
    tw_arena_init(&ar, &a, 256);
    CHECK(tw_arena_alloc(&ar, 16) == NULL);
    CHECK(tw_arena_alloc(&ar, 16) != NULL);
    tw_arena_fini(&ar);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

/* ---- time text ----------------------------------------------------------------------------- */

TEST(iso8601_parse)
{
    double t = -1;
    CHECK_EQ_INT(tw_time_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
    CHECK_NEAR(t, 0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04T08:00:00Z", &t), 0);
    CHECK_NEAR(t, 1709539200.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04 08:00:00.5", &t), 0);
    CHECK_NEAR(t, 1709539200.5, 1e-9);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04T09:00:00+01:00", &t), 0);
    CHECK_NEAR(t, 1709539200.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04T03:30:00-0430", &t), 0);
    CHECK_NEAR(t, 1709539200.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04", &t), 0);
    CHECK_NEAR(t, 1709510400.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2000-02-29T00:00:00Z", &t), 0);
    CHECK_NEAR(t, 951782400.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("1969-12-31T23:59:59Z", &t), 0);
    CHECK_NEAR(t, -1.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04T08:00Z", &t), 0);
    CHECK_NEAR(t, 1709539200.0, 0);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-13-01T00:00:00Z", &t), -1);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04T08:00:00Zjunk", &t), -1);
    CHECK_EQ_INT(tw_time_parse_iso8601("yesterday", &t), -1);
    CHECK_EQ_INT(tw_time_parse_iso8601("", &t), -1);
    CHECK_EQ_INT(tw_time_parse_iso8601("2024-03-04T08:00:00.Z", &t), -1);
}

TEST(iso8601_format_round_trip)
{
    char buf[64];
    tw_time_format_iso8601(1709539200.0, buf, sizeof buf);
    CHECK_STR(buf, "2024-03-04T08:00:00Z");
    tw_time_format_iso8601(1709539200.25, buf, sizeof buf);
    CHECK_STR(buf, "2024-03-04T08:00:00.250Z");
    tw_time_format_iso8601(0, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    tw_time_format_iso8601(-1, buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31T23:59:59Z");
    tw_time_format_iso8601(951782400.0 + 86399, buf, sizeof buf);
    CHECK_STR(buf, "2000-02-29T23:59:59Z");
    for (double s = -1e9; s < 4e9; s += 123456789.125) {
        double back = 0;
        tw_time_format_iso8601(s, buf, sizeof buf);
        CHECK_EQ_INT(tw_time_parse_iso8601(buf, &back), 0);
        CHECK_NEAR(back, s, 1e-3);
    }
}

TEST(clock_monotonic)
{
    uint64_t a = tw_clock_monotonic_ns();
    uint64_t b = tw_clock_monotonic_ns();
    CHECK(b >= a);
    CHECK(tw_clock_unix_s() > 1.5e9);
}

/* ---- allocators ------------------------------------------------------------------------------ */

TEST(failing_alloc_counts_and_fails)
{
    tw_failing_alloc fa = { 0 };
    fa.fail_at = 3;
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    void *p1 = tw_alloc(&a, 100);
    void *p2 = tw_alloc(&a, 50);
    CHECK(p1 && p2);
    CHECK_EQ_INT(fa.live_bytes, 150);
    void *p3 = tw_alloc(&a, 10);
    CHECK(p3 == NULL);
    CHECK_EQ_U64(fa.failures, 1);
    void *p4 = tw_realloc(&a, p1, 100, 400);
    REQUIRE(p4);
    CHECK_EQ_INT(fa.live_bytes, 450);
    CHECK_EQ_INT(fa.peak_bytes, 450);
    tw_free(&a, p4, 400);
    tw_free(&a, p2, 50);
    tw_free(&a, NULL, 0);
    CHECK_EQ_INT(fa.live_bytes, 0);
    CHECK_EQ_INT(fa.peak_bytes, 450);
    char *s = tw_strdup(&a, "hello");
    CHECK_STR(s, "hello");
    tw_free(&a, s, 6);
    int *z = tw_calloc(&a, 4, sizeof *z);
    REQUIRE(z);
    CHECK(z[0] == 0 && z[3] == 0);
    tw_free(&a, z, 4 * sizeof *z);
    CHECK(tw_calloc(&a, SIZE_MAX / 2, 4) == NULL);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

TEST(alloc_grow_and_default)
{
    tw_allocator d = tw_allocator_or_default(NULL);
    CHECK(d.fn != NULL);
    tw_failing_alloc fa = { 0 };
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    int *items = NULL;
    size_t cap = 0;
    for (int i = 0; i < 1000; i++) {
        REQUIRE(tw_grow(&a, (void **)&items, &cap, (size_t)i + 1, sizeof *items) == 0);
        items[i] = i;
    }
    CHECK(cap >= 1000);
    CHECK_EQ_INT(items[999], 999);
    fa.fail_at = fa.allocations + 1;
    size_t old = cap;
    CHECK(tw_grow(&a, (void **)&items, &cap, cap + 1, sizeof *items) != 0);
    CHECK_EQ_INT(cap, old); /* unchanged on failure */
    CHECK_EQ_INT(items[500], 500);
    tw_free(&a, items, cap * sizeof *items);
    CHECK_EQ_INT(fa.live_bytes, 0);
}

/* ---- status and diagnostics ------------------------------------------------------------------ */

TEST(status_and_diag)
{
    CHECK_STR(tw_status_str(TW_OK), "ok");
    CHECK_STR(tw_status_str(TW_ERR_NOT_FOUND), "not found");
    tw_diag d;
    tw_diag_clear(&d);
    snprintf(d.file, sizeof d.file, "scene.twin.json");
    d.line = 12;
    d.column = 5;
    snprintf(d.path, sizeof d.path, "$.entities[3]");
    tw_diag_set(&d, "expected %s", "a number");
    char out[256];
    tw_diag_format(&d, out, sizeof out);
    CHECK_STR(out, "scene.twin.json:12:5: $.entities[3]: expected a number");
    char tiny[8];
    tw_diag_format(&d, tiny, sizeof tiny);
    CHECK_EQ_INT(strlen(tiny), 7);
    tw_diag_set(NULL, "ignored");
}

int main(int argc, char **argv) { return test_main(argc, argv); }
