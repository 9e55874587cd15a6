/* Out of memory, everywhere: a failing allocator fails the 1st, 2nd, ...
 * allocation until a run gets through. Every run must end cleanly (a status,
 * never a crash) and free everything it took. */
#define _POSIX_C_SOURCE 200809L
#include "bind_test.h"

static const char *csv_text = "\"time\",\"Temp\",\"CO2\",\"note\"\n"
                              "\"1\",2024-03-04T08:00:00Z,21.5,500,\"a, b\"\n"
                              "\"2\",2024-03-04T08:01:00Z,21.7,,x\n"
                              "\"3\",2024-03-04T08:02:00Z,bad,510,\"multi\nline\"\n";
static const char *jsonl_text = "{\"time\": 1, \"sensor\": \"a\\u00e9\", \"value\": 1}\n{\"time\": 2, \"sensor\": \"b\", "
                                "\"value\": 2}\nnot json\n";
static const char *senml_text = "[{\"bn\": \"d/\", \"bt\": 1700000000, \"n\": \"t\", \"v\": 1},\n"
                                " {\"n\": \"s\", \"vs\": \"x\"}, {\"n\": \"u\", \"v\": 2, \"u\": \"W\"}]\n";

/* One reader run with allocation number fail_at failing. Returns true when
 * no allocation failed (the loop is done). */
static bool reader_run(const char *text, tw_bind_format fmt, uint64_t fail_at, uint64_t *samples)
{
    tw_failing_alloc fa;
    memset(&fa, 0, sizeof fa);
    fa.fail_at = fail_at;
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_bind_sensors_desc sd = { &a, 0, NULL, NULL };
    tw_bind_sensors *t = tw_bind_sensors_new(&sd);
    *samples = 0;
    if (t) {
        tw_bind_source_desc d = mem_desc(text, fmt, t);
        d.allocator = &a;
        d.chunk_size = 7;
        tw_bind_source *src;
        tw_diag diag;
        tw_status st = tw_bind_source_open(&d, &src, &diag);
        if (st == TW_OK) {
            tw_bind_sample s[3];
            for (;;) {
                uint32_t n;
                st = tw_bind_source_read(src, s, 3, &n);
                *samples += n;
                if (st != TW_OK) {
                    CHECK_EQ_INT(st, TW_ERR_NOMEM);
                    CHECK_EQ_INT(tw_bind_source_get_state(src), TW_BIND_SOURCE_FAILED);
                    break;
                }
                if (n == 0) break;
            }
            tw_bind_source_free(src);
        } else {
            CHECK_EQ_INT(st, TW_ERR_NOMEM);
        }
        tw_bind_sensors_free(t);
    }
    CHECK_EQ_INT(fa.live_bytes, 0);
    return fa.failures == 0;
}

TEST(oom_readers_every_allocation)
{
    const char *texts[3] = { csv_text, jsonl_text, senml_text };
    const tw_bind_format fmts[3] = { TW_BIND_FORMAT_CSV, TW_BIND_FORMAT_JSONL, TW_BIND_FORMAT_SENML };
    const uint64_t want[3] = { 8, 3, 3 };
    for (int k = 0; k < 3; k++) {
        bool done = false;
        uint64_t samples = 0;
        for (uint64_t fail_at = 1; fail_at < 500 && !done; fail_at++) done = reader_run(texts[k], fmts[k], fail_at, &samples);
        CHECK(done);
        CHECK_EQ_U64(samples, want[k]); /* the run that got through read everything */
    }
}

static bool binder_run(uint64_t fail_at, uint64_t *applied)
{
    fixture f;
    if (!fx_init(&f, NULL)) return true;
    tw_failing_alloc fa;
    memset(&fa, 0, sizeof fa);
    fa.fail_at = fail_at;
    tw_allocator a = tw_failing_alloc_allocator(&fa);
    tw_bind_desc bd;
    memset(&bd, 0, sizeof bd);
    bd.allocator = &a;
    bd.reorder_window = 5;
    bd.keep_applied = true;
    bd.log = &quiet_log;
    tw_bind *b = NULL;
    tw_diag d;
    *applied = 0;
    tw_status st = tw_bind_new(f.w, &bd, &b, &d);
    if (st == TW_OK) {
        const char *rules = "{\"format\": \"twin-bindings/1\", \"reader\": {\"sensor_prefix\": \"p/\"},\n"
                            " \"bindings\": [{\"sensor\": \"p/Temp\", \"entity\": \"site/room-1\", \"field\": "
                            "\"Room.temperature\"},\n"
                            "  {\"topic\": \"p/{x}\", \"entity\": \"site/room-2\", \"field\": \"Room.co2\"}]}";
        st = tw_bind_load_text(b, rules, strlen(rules), "r.json", &d);
        if (st == TW_OK) {
            tw_bind_source_desc sd = tw_bind_reader_defaults(b);
            sd.data = csv_text;
            sd.size = strlen(csv_text);
            sd.chunk_size = 5;
            tw_bind_source *src;
            st = tw_bind_source_open(&sd, &src, &d);
            if (st == TW_OK) st = tw_bind_add_source(b, src);
        }
        for (double t = 0; st == TW_OK && !tw_bind_finished(b) && t < 1e10; t += 30)
            st = tw_bind_apply_until(b, f.w, t);
        if (st == TW_OK) {
            FILE *null = fopen("/dev/null", "w");
            if (null) {
                tw_bind_write_json(b, null, 0);
                fclose(null);
            }
            *applied = tw_bind_get_counters(b)->applied;
        } else {
            CHECK_EQ_INT(st, TW_ERR_NOMEM);
        }
        CHECK_IDENTITY(tw_bind_get_counters(b));
        tw_bind_free(b);
    } else {
        CHECK_EQ_INT(st, TW_ERR_NOMEM);
    }
    fx_fini(&f);
    CHECK_EQ_INT(fa.live_bytes, 0);
    return fa.failures == 0;
}

TEST(oom_binder_every_allocation)
{
    bool done = false;
    uint64_t applied = 0;
    uint64_t fail_at = 1;
    for (; fail_at < 2000 && !done; fail_at++) done = binder_run(fail_at, &applied);
    CHECK(done);
    CHECK(fail_at > 10); /* it did allocate along the way */
    CHECK_EQ_U64(applied, 4); /* Temp 21.5, 21.7 and CO2 500, 510; the rest is malformed */
}

TEST(robust_random_bytes)
{
    /* Random and mutated bytes never crash a reader, and every sample has a
     * known kind. (The fuzz targets go further; this runs in every build.) */
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    uint64_t x = 99;
    char buf[512];
    const char *seeds[3] = { csv_text, jsonl_text, senml_text };
    for (int iter = 0; iter < 3000; iter++) {
        const char *seed = seeds[iter % 3];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        for (int m = 0; m < 1 + iter % 8; m++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)(x >> 33) % n;
            const char alphabet[] = "\"{}[],;:\n\r\\0123456789.eE-+ ntfaulx\xff";
            buf[pos] = alphabet[(x >> 13) % (sizeof alphabet - 1)];
        }
        tw_bind_source_desc d;
        memset(&d, 0, sizeof d);
        d.data = buf;
        d.size = n;
        d.format = (tw_bind_format)(1 + iter % 3);
        d.log = &quiet_log;
        d.sensors = t;
        d.chunk_size = 1 + (size_t)(x % 13);
        d.max_record = 64;
        tw_bind_sample s[64];
        uint32_t got;
        tw_status st = read_all_desc(&d, s, 64, &got, NULL);
        CHECK(st == TW_OK || st == TW_ERR_INVALID);
        for (uint32_t i = 0; i < got && i < 64; i++) CHECK(s[i].kind <= TW_BIND_SAMPLE_IGNORED);
    }
    tw_bind_sensors_free(t);
}
