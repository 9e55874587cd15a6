/* The MQTT payload decoder and URL parser, without a broker (the broker
 * tests are in test_mqtt_broker.c, a separate executable labelled "mqtt"). */
#define _POSIX_C_SOURCE 200809L
#include "bind_test.h"
#include "mqtt_internal.h"

typedef struct collected {
    tw_bind_sample s[64];
    uint32_t n;
} collected;

static tw_status collect(void *user, const tw_bind_sample *s)
{
    collected *c = user;
    if (c->n < 64) c->s[c->n] = *s;
    c->n++;
    return TW_OK;
}

static tw_status noop_read(tw_bind_source *s, void *impl, tw_bind_sample *out, uint32_t max, uint32_t *count)
{
    (void)s, (void)impl, (void)out, (void)max;
    *count = 0;
    return TW_OK;
}
static const tw_bind_source_vtable noop_vt = { "test", noop_read, NULL };

typedef struct dfx {
    tw_bind_sensors *t;
    tw_bind_source *src; /* a sink for the decoder's error messages */
    bind_mqtt_decoder d;
    collected c;
} dfx;

static bool dfx_init(dfx *x)
{
    memset(x, 0, sizeof *x);
    x->t = tw_bind_sensors_new(NULL);
    if (!x->t) return false;
    if (tw_bind_source_new_custom(&noop_vt, NULL, "mqtt://test", true, x->t, NULL, &quiet_log, &x->src) != TW_OK)
        return false;
    bind_mqtt_decoder_init(&x->d, x->t);
    x->d.src = x->src;
    return true;
}

static void dfx_fini(dfx *x)
{
    tw_bind_source_free(x->src);
    tw_bind_sensors_free(x->t);
}

static tw_status dec(dfx *x, const char *topic, const char *payload, double arrival)
{
    x->c.n = 0;
    return bind_mqtt_decode(&x->d, topic, strlen(topic), payload, strlen(payload), arrival, 7, collect, &x->c);
}

static const char *name_of(dfx *x, uint32_t i) { return tw_bind_sensors_name(x->t, x->c.s[i].sensor); }

TEST(mqtt_decode_bare_numbers)
{
    dfx x;
    REQUIRE(dfx_init(&x));
    CHECK_EQ_INT(dec(&x, "site/room-1/temp", " 21.5\n", 1.7e9), TW_OK);
    REQUIRE(x.c.n == 1);
    CHECK_EQ_INT(x.c.s[0].kind, TW_BIND_SAMPLE_VALUE);
    CHECK_STR(name_of(&x, 0), "site/room-1/temp");
    CHECK_NEAR(x.c.s[0].value, 21.5, 0);
    CHECK_NEAR(x.c.s[0].time, 1.7e9, 0); /* measured at arrival */
    CHECK_NEAR(x.c.s[0].arrival, 1.7e9, 0);
    CHECK_EQ_INT(x.c.s[0].line, 7);
    dec(&x, "a/occupied", "true", 5.0);
    CHECK(x.c.n == 1 && x.c.s[0].value == 1.0);
    dec(&x, "a/x", "-1.25e3", 5.0);
    CHECK(x.c.n == 1 && x.c.s[0].value == -1250.0);
    dec(&x, "a/x", "NaN", 5.0); /* read as NaN, rejected by the binder as nan */
    CHECK(x.c.n == 1 && x.c.s[0].kind == TW_BIND_SAMPLE_VALUE && isnan(x.c.s[0].value));
    dec(&x, "a/x", "hot", 5.0);
    REQUIRE(x.c.n == 1);
    CHECK_EQ_INT(x.c.s[0].kind, TW_BIND_SAMPLE_MALFORMED);
    CHECK_EQ_INT(x.c.s[0].reason, TW_BIND_REJECT_VALUE);
    CHECK_STR(name_of(&x, 0), "a/x");
    REQUIRE(tw_bind_source_error_count(x.src) == 1);
    CHECK_STR(tw_bind_source_error(x.src, 0), "mqtt://test: topic \"a/x\": cannot read the payload \"hot\" as a number");
    /* An empty payload clears a retained message: ignored, not an error. */
    dec(&x, "a/x", "", 5.0);
    CHECK(x.c.n == 1 && x.c.s[0].kind == TW_BIND_SAMPLE_IGNORED);
    CHECK_EQ_INT(tw_bind_source_error_count(x.src), 1);
    /* A forced kind. */
    x.d.payload = TW_BIND_PAYLOAD_NUMBER;
    dec(&x, "a/x", "{\"value\": 1}", 5.0);
    CHECK(x.c.n == 1 && x.c.s[0].kind == TW_BIND_SAMPLE_MALFORMED);
    dfx_fini(&x);
}

TEST(mqtt_decode_json_objects)
{
    dfx x;
    REQUIRE(dfx_init(&x));
    /* The topic is the sensor and the arrival the time when they are absent. */
    dec(&x, "site/room-2/co2", "{\"value\": 612}", 100.0);
    REQUIRE(x.c.n == 1);
    CHECK_STR(name_of(&x, 0), "site/room-2/co2");
    CHECK(x.c.s[0].time == 100.0 && x.c.s[0].value == 612.0);
    dec(&x, "gw/1", "{\"time\": \"2024-03-04T08:00:00Z\", \"sensor\": \"site/room-1/temp\", \"value\": \"21,5\"}", 1.0);
    REQUIRE(x.c.n == 1);
    CHECK_EQ_INT(x.c.s[0].kind, TW_BIND_SAMPLE_MALFORMED); /* "21,5": no decimal comma in JSON */
    dec(&x, "gw/1",
        "{\"time\": 1709539200000, \"sensor\": \"site/room-1/temp\", \"value\": 21.5, \"unit\": \"degF\", "
        "\"quality\": \"uncertain\", \"extra\": {\"a\": [1, 2]}}",
        1.0);
    REQUIRE(x.c.n == 1);
    CHECK_STR(name_of(&x, 0), "site/room-1/temp");
    CHECK_NEAR(x.c.s[0].time, 1709539200.0, 1e-6); /* epoch ms found by magnitude */
    CHECK_EQ_INT(x.c.s[0].unit, tw_bind_unit_lookup("degF", 4));
    CHECK_EQ_INT(x.c.s[0].quality, TW_BIND_SAMPLE_UNCERTAIN);
    /* Custom keys and a prefix. */
    x.d.k_time = "ts";
    x.d.k_value = "v";
    x.d.prefix = "p/";
    x.d.prefix_len = 2;
    dec(&x, "t", "{\"ts\": 1709539200, \"v\": false}", 1.0);
    REQUIRE(x.c.n == 1);
    CHECK_STR(name_of(&x, 0), "p/t");
    CHECK(x.c.s[0].value == 0.0 && x.c.s[0].time == 1709539200.0);
    x.d.prefix = NULL;
    x.d.prefix_len = 0;
    x.d.k_time = "time";
    x.d.k_value = "value";
    /* Errors, each with its reason. */
    dec(&x, "t", "{\"value\": null}", 1.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_VALUE);
    dec(&x, "t", "{\"value\": 1, \"time\": \"yesterday\"}", 1.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_TIME);
    dec(&x, "t", "{\"value\": 1, \"sensor\": \"\"}", 1.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_SENSOR);
    dec(&x, "t", "{\"value\": 1, \"quality\": \"meh\"}", 1.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_QUALITY);
    dec(&x, "t", "{\"value\": 1,}", 1.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_LINE);
    dec(&x, "t", "{\"value\": 1} trailing", 1.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_LINE);
    CHECK(tw_bind_source_error_count(x.src) >= 6);
    CHECK_CONTAINS(tw_bind_source_error(x.src, 0), "topic \"gw/1\"");
    dfx_fini(&x);
}

TEST(mqtt_decode_senml)
{
    dfx x;
    REQUIRE(dfx_init(&x));
    const char *pack = "[{\"bn\": \"site/room-1/\", \"bt\": 1709539200, \"bu\": \"Cel\", \"n\": \"temp\", \"v\": 21.5},"
                       " {\"n\": \"co2\", \"u\": \"ppm\", \"t\": 10, \"v\": 640},"
                       " {\"n\": \"label\", \"vs\": \"hello\"}]";
    dec(&x, "ignored/topic", pack, 5.0);
    REQUIRE(x.c.n == 3);
    CHECK_STR(name_of(&x, 0), "site/room-1/temp");
    CHECK(x.c.s[0].time == 1709539200.0 && x.c.s[0].value == 21.5);
    CHECK_EQ_INT(x.c.s[0].unit, tw_bind_unit_lookup("Cel", 3));
    CHECK_STR(name_of(&x, 1), "site/room-1/co2");
    CHECK(x.c.s[1].time == 1709539210.0 && x.c.s[1].value == 640.0);
    CHECK_EQ_INT(x.c.s[2].kind, TW_BIND_SAMPLE_IGNORED);
    /* Relative times count from the arrival; no name: the topic. */
    dec(&x, "site/room-3/temp", "[{\"t\": -2, \"v\": 19}, {\"v\": 20}]", 1000.0);
    REQUIRE(x.c.n == 2);
    CHECK_STR(name_of(&x, 0), "site/room-3/temp");
    CHECK(x.c.s[0].time == 998.0 && x.c.s[1].time == 1000.0);
    /* A lone record is a pack of one (auto: SenML keys and no "value"). */
    dec(&x, "x", "{\"n\": \"site/room-2/temp\", \"v\": 22}", 1000.0);
    REQUIRE(x.c.n == 1);
    CHECK_STR(name_of(&x, 0), "site/room-2/temp");
    CHECK(x.c.s[0].value == 22.0);
    /* Base value, and base fields that do not leak into the next message. */
    dec(&x, "x", "[{\"bn\": \"m/\", \"bv\": 100, \"n\": \"a\", \"v\": 1}]", 1000.0);
    CHECK(x.c.n == 1 && x.c.s[0].value == 101.0);
    dec(&x, "x", "[{\"n\": \"a\", \"v\": 1}]", 1000.0);
    CHECK(x.c.n == 1 && x.c.s[0].value == 1.0);
    CHECK_STR(name_of(&x, 0), "a");
    /* Bad packs: each problem one malformed sample, the good records kept. */
    dec(&x, "x", "[{\"n\": \"a\", \"v\": 1}, 42, {\"n\": \"b\", \"v\": 2}]", 1000.0);
    REQUIRE(x.c.n == 2);
    CHECK(x.c.s[0].kind == TW_BIND_SAMPLE_VALUE && x.c.s[1].kind == TW_BIND_SAMPLE_MALFORMED);
    dec(&x, "x", "[{\"n\": \"a\", \"v\": 1}", 1000.0);
    CHECK(x.c.n == 2 && x.c.s[1].reason == TW_BIND_REJECT_LINE);
    dec(&x, "x", "[{\"n\": \"a\", \"v\": \"1\"}]", 1000.0);
    CHECK(x.c.n == 1 && x.c.s[0].reason == TW_BIND_REJECT_VALUE);
    dec(&x, "x", "[{\"n\": \"a\", \"v\": 1, \"x_\": 2}]", 1000.0);
    CHECK(x.c.n == 1 && x.c.s[0].kind == TW_BIND_SAMPLE_MALFORMED);
    dec(&x, "x", "[{\"n\": \"a\", \"v\": 1}] ]", 1000.0);
    CHECK(x.c.n == 2 && x.c.s[1].reason == TW_BIND_REJECT_LINE);
    x.d.payload = TW_BIND_PAYLOAD_SENML;
    dec(&x, "x", "12", 1000.0);
    CHECK(x.c.n == 1 && x.c.s[0].kind == TW_BIND_SAMPLE_MALFORMED);
    dfx_fini(&x);
}

TEST(mqtt_url_parse)
{
    bind_mqtt_url u;
    char msg[256];
    REQUIRE(bind_mqtt_url_parse("mqtt://localhost/site/+/temp", &u, msg, sizeof msg));
    CHECK(!u.tls);
    CHECK_STR(u.host, "localhost");
    CHECK_EQ_INT(u.port, 1883);
    CHECK_EQ_INT(u.topic_count, 1);
    CHECK_STR(u.topics[0], "site/+/temp");
    CHECK(u.qos == -1 && u.clean == -1 && !u.has_user);
    REQUIRE(bind_mqtt_url_parse("mqtts://bob:p%40ss@broker.example:8884/a/%23?qos=1&clean=false&client_id=twin-1"
                                "&topic=b/c&topic=d&ca=/etc/ca.pem&insecure=true&payload=senml&keepalive=20",
                                &u, msg, sizeof msg));
    CHECK(u.tls);
    CHECK_STR(u.host, "broker.example");
    CHECK_EQ_INT(u.port, 8884);
    CHECK_STR(u.user, "bob");
    CHECK_STR(u.password, "p@ss");
    CHECK_EQ_INT(u.topic_count, 3);
    CHECK_STR(u.topics[0], "a/#");
    CHECK_STR(u.topics[2], "d");
    CHECK(u.qos == 1 && u.clean == 0 && u.insecure == 1 && u.payload == TW_BIND_PAYLOAD_SENML);
    CHECK_STR(u.client_id, "twin-1");
    CHECK_STR(u.ca_file, "/etc/ca.pem");
    CHECK_NEAR(u.keepalive, 20, 0);
    REQUIRE(bind_mqtt_url_parse("mqtt://[::1]:1999", &u, msg, sizeof msg));
    CHECK_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 1999);
    CHECK_EQ_INT(u.topic_count, 0);
    REQUIRE(bind_mqtt_url_parse("mqtts://h", &u, msg, sizeof msg));
    CHECK_EQ_INT(u.port, 8883);
    CHECK(!bind_mqtt_url_parse("http://h/x", &u, msg, sizeof msg));
    CHECK_CONTAINS(msg, "mqtt://");
    CHECK(!bind_mqtt_url_parse("mqtt://h:99999/x", &u, msg, sizeof msg));
    CHECK_CONTAINS(msg, "port");
    CHECK(!bind_mqtt_url_parse("mqtt:///x", &u, msg, sizeof msg));
    CHECK(!bind_mqtt_url_parse("mqtt://h/x?qos=2", &u, msg, sizeof msg));
    CHECK_CONTAINS(msg, "qos");
    CHECK(!bind_mqtt_url_parse("mqtt://h/x?color=red", &u, msg, sizeof msg));
    CHECK_CONTAINS(msg, "unknown query key \"color\"");
    CHECK(!bind_mqtt_url_parse("mqtt://h/x%2", &u, msg, sizeof msg));
}

TEST(mqtt_open_rejects_bad_options)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    REQUIRE(t);
    tw_bind_source_desc r;
    memset(&r, 0, sizeof r);
    r.sensors = t;
    r.log = &quiet_log;
    tw_bind_source *s = NULL;
    tw_diag d;
    CHECK_EQ_INT(tw_bind_mqtt_open("mqtt://127.0.0.1:1/a/#/b", NULL, &r, &s, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "not a valid MQTT topic filter");
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.persistent = true;
    CHECK_EQ_INT(tw_bind_mqtt_open("mqtt://127.0.0.1:1/a", &o, &r, &s, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "client_id");
    memset(&o, 0, sizeof o);
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_EQ_INT(tw_bind_mqtt_open("mqtts://127.0.0.1:1/a", &o, &r, &s, &d), TW_ERR_INVALID);
    CHECK_CONTAINS(d.message, "/nonexistent/ca.pem");
    CHECK(s == NULL);
    /* A source with no broker opens, never blocks, and is not an error. */
    memset(&o, 0, sizeof o);
    o.reconnect_min = 0.05;
    REQUIRE(tw_bind_mqtt_open("mqtt://127.0.0.1:1/a", &o, &r, &s, &d) == TW_OK);
    tw_bind_sample buf[4];
    uint32_t n = 9;
    CHECK_EQ_INT(tw_bind_source_read(s, buf, 4, &n), TW_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(tw_bind_source_get_state(s), TW_BIND_SOURCE_WAITING);
    tw_bind_mqtt_status st;
    CHECK(tw_bind_mqtt_status_get(s, &st));
    CHECK(st.state == TW_BIND_MQTT_CONNECTING);
    tw_bind_source_free(s);
    tw_bind_sensors_free(t);
}

/* Out of memory at every allocation of opening an MQTT source (no broker
 * needed): a clean TW_ERR_NOMEM each time, and nothing left allocated. */
TEST(mqtt_open_out_of_memory)
{
    bool done = false;
    for (uint64_t fail_at = 1; fail_at < 200 && !done; fail_at++) {
        tw_failing_alloc fa;
        memset(&fa, 0, sizeof fa);
        fa.fail_at = fail_at;
        tw_allocator a = tw_failing_alloc_allocator(&fa);
        tw_bind_sensors_desc sd = { &a, 0, NULL, NULL };
        tw_bind_sensors *t = tw_bind_sensors_new(&sd);
        if (t) {
            tw_bind_source_desc r;
            memset(&r, 0, sizeof r);
            r.sensors = t;
            r.allocator = &a;
            r.log = &quiet_log;
            r.sensor_prefix = "p/";
            tw_bind_mqtt_options o;
            memset(&o, 0, sizeof o);
            o.queue_messages = 64;
            o.max_payload = 1024;
            o.reconnect_min = 10;
            tw_bind_source *s = NULL;
            tw_diag d;
            tw_status st = tw_bind_mqtt_open("mqtt://127.0.0.1:1/a/#?topic=b/%2B", &o, &r, &s, &d);
            if (st == TW_OK) {
                tw_bind_sample buf[2];
                uint32_t n;
                CHECK_EQ_INT(tw_bind_source_read(s, buf, 2, &n), TW_OK);
                tw_bind_source_free(s);
            } else {
                CHECK_EQ_INT(st, TW_ERR_NOMEM);
                CHECK(s == NULL);
            }
            tw_bind_sensors_free(t);
        }
        CHECK_EQ_INT(fa.live_bytes, 0);
        done = fa.failures == 0;
    }
    CHECK(done);
}
