/* libFuzzer target for the MQTT payload decoder (engine/bind/src/mqtt_decode.c):
 * topic + payload bytes -> samples, as the MQTT source decodes each message.
 *
 * Input: one option byte (payload kind, sensor prefix, custom JSON keys,
 * time format), then the topic up to the first NUL byte, then the payload
 * (which may hold NULs). No broker and no libmosquitto: the decoder alone.
 * Besides memory errors and undefined behaviour it checks the decoder's
 * promises:
 *   - every sample has a known kind, and a malformed one a reader's reason;
 *   - a value sample names a sensor, has a finite measured time, and carries
 *     the message's arrival time and number;
 *   - decoding is a function of its input: the same message twice (into a
 *     sensor table that already knows the names) gives the same samples. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_internal.h"

enum { MAX_SAMPLES = 4096 };

typedef struct run {
    tw_bind_sample s[MAX_SAMPLES];
    uint32_t n;
} run;

static tw_log quiet = { TW_LOG_OFF + 1, NULL, NULL };

static tw_status collect(void *user, const tw_bind_sample *s)
{
    run *r = user;
    if (r->n < MAX_SAMPLES) r->s[r->n] = *s;
    r->n++;
    return TW_OK;
}

static tw_status no_read(tw_bind_source *s, void *impl, tw_bind_sample *out, uint32_t max, uint32_t *count)
{
    (void)s, (void)impl, (void)out, (void)max;
    *count = 0;
    return TW_OK;
}
static const tw_bind_source_vtable sink_vt = { "mqtt", no_read, NULL };

static bool same_double(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

static void fail(const char *what, uint32_t i)
{
    fprintf(stderr, "fuzz_bind_mqtt: sample %u: %s\n", i, what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t o = data[0];
    const char *rest = (const char *)data + 1;
    size_t rest_len = size - 1;
    const char *nul = memchr(rest, '\0', rest_len);
    size_t topic_len = nul ? (size_t)(nul - rest) : rest_len;
    const char *payload = nul ? nul + 1 : rest + rest_len;
    size_t payload_len = nul ? rest_len - topic_len - 1 : 0;

    tw_bind_sensors *t = tw_bind_sensors_new(&(tw_bind_sensors_desc){ .max_sensors = 64 });
    if (!t) abort();
    tw_bind_source *src;
    if (tw_bind_source_new_custom(&sink_vt, NULL, "mqtt://fuzz", true, t, NULL, &quiet, &src) != TW_OK) abort();
    static bind_mqtt_decoder d;
    bind_mqtt_decoder_init(&d, t);
    d.src = (o & 0x80) ? src : NULL;
    d.payload = (tw_bind_payload)(o & 3);
    if (o & 4) {
        d.prefix = "p/";
        d.prefix_len = 2;
    }
    if (o & 8) {
        d.k_time = "t";
        d.k_sensor = "n";
        d.k_value = "v";
    }
    d.time_format = (tw_bind_time_format)(((o >> 4) & 7) % 6);
    const double arrival = 1.7e9;
    static run a, b;
    a.n = b.n = 0;
    tw_status sa = bind_mqtt_decode(&d, rest, topic_len, payload, payload_len, arrival, 42, collect, &a);
    tw_status sb = bind_mqtt_decode(&d, rest, topic_len, payload, payload_len, arrival, 42, collect, &b);
    if (sa != sb || a.n != b.n) fail("a second decode of the same message differs", 0);
    if (sa != TW_OK && sa != TW_ERR_NOMEM) fail("an unexpected status", 0);
    uint32_t n = a.n < MAX_SAMPLES ? a.n : MAX_SAMPLES;
    for (uint32_t i = 0; i < n; i++) {
        const tw_bind_sample *x = &a.s[i], *y = &b.s[i];
        if (x->kind > TW_BIND_SAMPLE_IGNORED) fail("unknown kind", i);
        if (x->kind == TW_BIND_SAMPLE_MALFORMED && x->reason > TW_BIND_REJECT_QUALITY) fail("not a reader's reason", i);
        if (x->kind == TW_BIND_SAMPLE_VALUE && (x->sensor == 0 || !isfinite(x->time))) fail("a value without a sensor or time", i);
        if (x->arrival != arrival || x->line != 42) fail("arrival or message number lost", i);
        if (x->quality > TW_BIND_SAMPLE_BAD) fail("unknown quality", i);
        if (x->kind != y->kind || x->reason != y->reason || x->sensor != y->sensor || x->quality != y->quality ||
            x->unit != y->unit || !same_double(x->time, y->time) || !same_double(x->value, y->value))
            fail("differs between two decodes", i);
    }
    tw_bind_source_free(src);
    tw_bind_sensors_free(t);
    return 0;
}
