/* The MQTT source against a real Mosquitto broker (ctest label "mqtt").
 *
 * Each case starts its own broker on a free loopback port with a generated
 * config (tests/bind/mqtt_broker.c) and stops it at the end; the publisher
 * is libmosquitto in this thread. The whole executable is skipped (77) only
 * when the mosquitto binary is absent. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <signal.h>
#include <unistd.h>

#include "bind_test.h"
#include "mqtt_broker.h"
#include "twin/clock.h"

typedef struct mfx {
    fixture f;
    tw_bind *b;
    test_broker br;
    double t0;              /* the binder's fixed anchor (Unix s) */
    tw_bind_sample *applied;/* everything applied, in order (the recording) */
    size_t applied_n, applied_cap;
} mfx;

static bool mfx_init(mfx *x, double window)
{
    memset(x, 0, sizeof *x);
    if (!fx_init(&x->f, NULL)) return false;
    x->t0 = floor(tw_clock_unix_s());
    tw_bind_desc d;
    memset(&d, 0, sizeof d);
    d.reorder_window = window;
    d.anchor = TW_BIND_ANCHOR_FIXED;
    d.anchor_time = x->t0;
    d.keep_applied = true;
    d.log = &quiet_log;
    tw_diag diag;
    if (tw_bind_new(x->f.w, &d, &x->b, &diag) != TW_OK) return false;
    return broker_init(&x->br);
}

static void mfx_fini(mfx *x)
{
    tw_bind_free(x->b);
    fx_fini(&x->f);
    broker_cleanup(&x->br);
    free(x->applied);
}

static bool add_rule(mfx *x, const char *sensor, const char *topic, const char *entity, const char *field,
                     const char *unit)
{
    tw_bind_rule r;
    memset(&r, 0, sizeof r);
    r.sensor = sensor;
    r.topic = topic;
    r.entity = entity;
    r.field = field;
    r.unit = unit;
    tw_diag d;
    tw_status st = tw_bind_add_rule(x->b, &r, &d);
    if (st != TW_OK) fprintf(stderr, "rule: %s\n", d.message);
    return st == TW_OK;
}

static tw_bind_source *mqtt_source(mfx *x)
{
    for (uint32_t i = 0; i < tw_bind_source_count(x->b); i++) {
        tw_bind_mqtt_status st;
        if (tw_bind_mqtt_status_get(tw_bind_source_at(x->b, i), &st)) return tw_bind_source_at(x->b, i);
    }
    return NULL;
}

static tw_bind_mqtt_status status(mfx *x)
{
    tw_bind_mqtt_status st;
    memset(&st, 0, sizeof st);
    tw_bind_source *s = mqtt_source(x);
    if (s) tw_bind_mqtt_status_get(s, &st);
    return st;
}

static tw_status open_url(mfx *x, const char *path, const tw_bind_mqtt_options *o)
{
    char url[512];
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d/%s", x->br.port, path);
    tw_diag d;
    tw_status st = tw_bind_open_mqtt(x->b, url, o, &d);
    if (st != TW_OK) fprintf(stderr, "open %s: %s\n", url, d.message);
    return st;
}

/* One tick at simulated time t; keeps what was applied (what a recorder writes). */
static void tick(mfx *x, double t)
{
    tw_bind_apply_until(x->b, x->f.w, t);
    uint32_t n;
    const tw_bind_sample *s = tw_bind_applied(x->b, &n);
    if (!n) return;
    if (x->applied_n + n > x->applied_cap) {
        size_t cap = (x->applied_n + n) * 2;
        tw_bind_sample *grown = realloc(x->applied, cap * sizeof *grown);
        if (!grown) return;
        x->applied = grown;
        x->applied_cap = cap;
    }
    memcpy(x->applied + x->applied_n, s, n * sizeof *s);
    x->applied_n += n;
}

/* Reads what has arrived into the queue without applying anything. */
static void collect(mfx *x) { tick(x, -1e6); }

/* Collects until the source has received `messages` messages (or timeout). */
static bool wait_messages(mfx *x, uint64_t messages, double timeout)
{
    double end = now_s() + timeout;
    while (now_s() < end) {
        collect(x);
        if (status(x).messages >= messages && status(x).queued == 0) return true;
        sleep_s(0.005);
    }
    return false;
}

static bool wait_state(mfx *x, tw_bind_mqtt_state want, double timeout)
{
    double end = now_s() + timeout;
    while (now_s() < end) {
        collect(x);
        if (status(x).state == want) return true;
        sleep_s(0.01);
    }
    return false;
}

static bool start_default_broker(mfx *x)
{
    if (!broker_write_conf(&x->br, NULL) || !broker_start(&x->br)) return false;
    return true;
}

#define NEED_BROKER()                                                             \
    do {                                                                          \
        if (!broker_binary()) TEST_SKIP("the mosquitto binary is not installed"); \
    } while (0)

/* ---- cases ---------------------------------------------------------------------------------- */

/* 10,000 QoS 1 messages, applied tick by tick a little behind the wall
 * clock, all applied (none late, none lost); then the recording of what was
 * applied, pushed into a fresh binder, gives the same fields. */
TEST(mqtt_qos1_all_applied)
{
    NEED_BROKER();
    mfx x;
    REQUIRE(mfx_init(&x, 0.0));
    REQUIRE(start_default_broker(&x));
    const char *fields[3][2] = { { "temp", "Room.temperature" }, { "co2", "Room.co2" }, { "power", "Room.power" } };
    for (int k = 0; k < 3; k++) {
        char topic[64];
        snprintf(topic, sizeof topic, "site/{room}/%s", fields[k][0]);
        REQUIRE(add_rule(&x, NULL, topic, "site/{room}", fields[k][1], NULL));
    }
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.qos = 1;
    o.connect_wait = 5;
    REQUIRE(open_url(&x, "site/#", &o) == TW_OK);
    test_pub p;
    REQUIRE(pub_open(&p, &(test_pub_desc){ .port = x.br.port }, 5));
    enum { N = 10000 };
    double last[3][3] = { { 0 } };
    double started = now_s();
    for (int i = 0; i < N; i++) {
        int room = i % 3, field = (i / 3) % 3;
        char topic[64];
        snprintf(topic, sizeof topic, "site/room-%d/%s", room + 1, fields[field][0]);
        double v = 100.0 + (double)i;
        REQUIRE(pub_sendf(&p, topic, 1, 100, "%.1f", v));
        last[room][field] = v;
        if (i % 250 == 0) tick(&x, tw_clock_unix_s() - x.t0 - 0.25); /* live: a tick a little behind now */
    }
    CHECK(pub_flush(&p, 20));
    CHECK(wait_messages(&x, N, 20));
    sleep_s(0.01);
    double t_end = tw_clock_unix_s() - x.t0 + 0.01;
    tick(&x, t_end);
    double elapsed = now_s() - started;
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    tw_bind_mqtt_status st = status(&x);
    CHECK_EQ_U64(st.messages, N);
    CHECK_EQ_U64(st.dropped_overflow, 0);
    CHECK_EQ_U64(c->received, N);
    CHECK_EQ_U64(c->applied, N);
    CHECK_EQ_U64(c->late, 0);
    CHECK_EQ_U64(c->duplicate, 0);
    CHECK_EQ_U64(c->rejected, 0);
    CHECK_IDENTITY(c);
    CHECK_EQ_U64(x.applied_n, N);
    tw_entity rooms[3] = { x.f.room1, x.f.room2, x.f.room3 };
    for (int r = 0; r < 3; r++) {
        Room *room = fx_room(&x.f, rooms[r]);
        CHECK_NEAR(room->temperature, last[r][0], 1e-2);
        CHECK_NEAR(room->co2, last[r][1], 1e-2);
        CHECK_NEAR(room->power, last[r][2], 1e-2);
    }
    fprintf(stderr, "mqtt_qos1_all_applied: %d messages in %.2f s\n", N, elapsed);

    /* Reproducible from the recording: the same samples, pushed into a fresh binder. */
    fixture f2;
    REQUIRE(fx_init(&f2, NULL));
    tw_bind *b2;
    tw_diag d;
    REQUIRE(tw_bind_new(f2.w, &(tw_bind_desc){ .anchor = TW_BIND_ANCHOR_FIXED, .anchor_time = x.t0, .log = &quiet_log },
                        &b2, &d) == TW_OK);
    for (uint32_t i = 0; i < tw_bind_rule_count(x.b); i++) REQUIRE(tw_bind_add_rule(b2, tw_bind_rule_get(x.b, i), &d) == TW_OK);
    tw_bind_sensors *s1 = tw_bind_get_sensors(x.b), *s2 = tw_bind_get_sensors(b2);
    for (size_t i = 0; i < x.applied_n; i++) {
        tw_bind_sample s = x.applied[i];
        const char *name = tw_bind_sensors_name(s1, s.sensor);
        REQUIRE(tw_bind_sensors_intern(s2, name, strlen(name), &s.sensor) == TW_OK);
        REQUIRE(tw_bind_push(b2, &s, 1) == TW_OK);
    }
    REQUIRE(tw_bind_apply_until(b2, f2.w, t_end) == TW_OK);
    CHECK_EQ_U64(tw_bind_get_counters(b2)->applied, N);
    tw_entity rooms2[3] = { f2.room1, f2.room2, f2.room3 };
    for (int r = 0; r < 3; r++) CHECK(memcmp(fx_room(&x.f, rooms[r]), fx_room(&f2, rooms2[r]), sizeof(Room)) == 0);
    tw_bind_free(b2);
    fx_fini(&f2);
    pub_close(&p);
    mfx_fini(&x);
}

/* The broker is stopped mid-stream and started again on the same port with
 * its persistence file; the source reconnects (with backoff, status
 * reported), and with QoS 1 and a persistent session nothing is lost: every
 * distinct message is applied once, redeliveries are counted as duplicates. */
TEST(mqtt_broker_restart_persistent_session)
{
    NEED_BROKER();
    mfx x;
    REQUIRE(mfx_init(&x, 1e6)); /* redelivered messages may come out of order */
    REQUIRE(start_default_broker(&x));
    REQUIRE(add_rule(&x, NULL, "site/{room}/temp", "site/{room}", "Room.temperature", NULL));
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.qos = 1;
    o.persistent = true;
    o.client_id = "twin-test-restart-sub";
    o.reconnect_min = 0.05;
    o.reconnect_max = 0.2;
    o.connect_wait = 5;
    o.payload = TW_BIND_PAYLOAD_JSON;
    REQUIRE(open_url(&x, "site/+/temp", &o) == TW_OK);
    test_pub p;
    REQUIRE(pub_open(&p, &(test_pub_desc){ .port = x.br.port, .client_id = "twin-test-restart-pub", .persistent = true }, 5));
    enum { N = 4000 };
    for (int i = 0; i < N; i++) {
        if (i == N / 2) {
            /* Mid-stream: messages in flight both ways. SIGTERM makes mosquitto save its database. */
            pub_pump(&p, 1);
            broker_stop(&x.br, SIGTERM);
            double end = now_s() + 0.6;
            while (now_s() < end) {
                collect(&x);
                pub_pump(&p, 5);
            }
            tw_bind_mqtt_status st = status(&x);
            CHECK_EQ_INT(st.state, TW_BIND_MQTT_RECONNECTING);
            CHECK_EQ_U64(st.disconnects, 1);
            CHECK(st.failed_attempts >= 2);
            char line[400];
            tw_bind_mqtt_status_format(&st, line, sizeof line);
            CHECK_CONTAINS(line, "reconnecting (attempt");
            fprintf(stderr, "broker down: %s\n", line);
            REQUIRE(broker_start(&x.br));
            CHECK(wait_state(&x, TW_BIND_MQTT_CONNECTED, 5));
        }
        char topic[64];
        snprintf(topic, sizeof topic, "site/room-%d/temp", i % 3 + 1);
        /* Measured times in the payload: a redelivered message is a duplicate, not a new sample. */
        REQUIRE(pub_sendf(&p, topic, 1, 50, "{\"time\": %.3f, \"value\": %d}", x.t0 + 1.0 + i * 0.001, i));
        if (i % 100 == 0) collect(&x);
    }
    CHECK(pub_flush(&p, 20));
    CHECK(wait_messages(&x, N, 20));
    /* Stragglers (redeliveries) get a moment. */
    double end = now_s() + 0.3;
    while (now_s() < end) collect(&x);
    tick(&x, 1.0 + N * 0.001 + 1.0);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    tw_bind_mqtt_status st = status(&x);
    fprintf(stderr, "mqtt_broker_restart: sent %d, received %llu, applied %llu, duplicates %llu, reconnects %llu, "
                    "failed attempts %llu\n",
            N, (unsigned long long)st.messages, (unsigned long long)c->applied, (unsigned long long)c->duplicate,
            (unsigned long long)st.reconnects, (unsigned long long)st.failed_attempts);
    CHECK_EQ_U64(c->applied, N);
    CHECK_EQ_U64(c->received, c->applied + c->duplicate);
    CHECK_EQ_U64(c->received, st.messages);
    CHECK_EQ_U64(c->late + c->rejected + c->unknown_sensor, 0);
    CHECK_EQ_U64(st.reconnects, 1);
    CHECK(st.session_present);
    CHECK_EQ_U64(st.dropped_overflow, 0);
    CHECK_IDENTITY(c);
    if (c->applied != N) broker_dump_log(&x.br);
    pub_close(&p);
    mfx_fini(&x);
}

/* No broker: the source keeps trying with exponential backoff, says so, and
 * never blocks the loop; when a broker appears on the port, it connects. */
TEST(mqtt_dead_broker_backoff_then_connects)
{
    NEED_BROKER();
    mfx x;
    REQUIRE(mfx_init(&x, 0.0));
    REQUIRE(add_rule(&x, "site/room-1/temp", NULL, "site/room-1", "Room.temperature", NULL));
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.qos = 1;
    o.reconnect_min = 0.05;
    o.reconnect_max = 0.2;
    REQUIRE(open_url(&x, "site/#", &o) == TW_OK);
    double worst = 0.0, end = now_s() + 1.0;
    bool saw_waiting = false;
    char line[400] = "";
    while (now_s() < end) {
        double a = now_s();
        REQUIRE(tw_bind_apply_until(x.b, x.f.w, tw_clock_unix_s() - x.t0) == TW_OK);
        double took = now_s() - a;
        if (took > worst) worst = took;
        tw_bind_mqtt_status st = status(&x);
        if (st.next_in > 0.0) {
            saw_waiting = true;
            tw_bind_mqtt_status_format(&st, line, sizeof line);
            CHECK(st.next_in <= 0.2 + 1e-9);
        }
        sleep_s(0.01);
    }
    tw_bind_mqtt_status st = status(&x);
    CHECK(saw_waiting);
    CHECK_EQ_INT(st.state, TW_BIND_MQTT_CONNECTING);
    CHECK(st.failed_attempts >= 4); /* 0.05 + 0.1 + 0.2 + 0.2 ... within a second */
    CHECK(st.failed_attempts <= 12);
    CHECK_EQ_U64(st.connects, 0);
    CHECK_CONTAINS(line, "connecting (attempt ");
    CHECK_CONTAINS(line, ", next in ");
    CHECK_CONTAINS(line, "Connection refused");
    CHECK(worst < 0.1);
    fprintf(stderr, "dead broker: %s; %llu attempts in 1 s; slowest apply_until %.3f ms\n", line,
            (unsigned long long)st.failed_attempts, worst * 1e3);
    CHECK(tw_bind_finished(x.b) == false);
    /* The broker comes up: the next attempt connects. */
    REQUIRE(start_default_broker(&x));
    CHECK(wait_state(&x, TW_BIND_MQTT_CONNECTED, 3));
    test_pub p;
    REQUIRE(pub_open(&p, &(test_pub_desc){ .port = x.br.port }, 5));
    sleep_s(0.1); /* the subscription is made right after the CONNACK */
    REQUIRE(pub_sendf(&p, "site/room-1/temp", 1, 10, "%s", "24.25"));
    CHECK(pub_flush(&p, 5));
    CHECK(wait_messages(&x, 1, 5));
    tick(&x, tw_clock_unix_s() - x.t0 + 0.01);
    CHECK_EQ_U64(tw_bind_get_counters(x.b)->applied, 1);
    CHECK_NEAR(fx_room(&x.f, x.f.room1)->temperature, 24.25, 1e-6);
    st = status(&x);
    CHECK_EQ_U64(st.connects, 1);
    CHECK_EQ_U64(st.reconnects, 0);
    pub_close(&p);
    mfx_fini(&x);
}

/* TLS with a CA and server certificate made here by openssl, and a password
 * file: good credentials connect, bad ones are refused with a clear error,
 * an unknown CA fails the handshake. */
TEST(mqtt_tls_and_passwords)
{
    NEED_BROKER();
    char openssl[512], passwd_tool[512];
    if (!find_program("openssl", openssl, sizeof openssl)) TEST_SKIP("openssl is not installed");
    if (!find_program("mosquitto_passwd", passwd_tool, sizeof passwd_tool)) TEST_SKIP("mosquitto_passwd is not installed");
    mfx x;
    REQUIRE(mfx_init(&x, 0.0));
    REQUIRE(add_rule(&x, "site/room-2/temp", NULL, "site/room-2", "Room.temperature", NULL));
    test_broker *br = &x.br;
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    REQUIRE(broker_run(br, "'%s' req -x509 %s -days 2 -subj '/CN=twin test CA' -keyout ca.key -out ca.crt", openssl, ec));
    REQUIRE(broker_run(br, "'%s' req -x509 %s -days 2 -subj '/CN=another CA' -keyout other.key -out other.crt", openssl, ec));
    REQUIRE(broker_run(br, "'%s' req %s -subj '/CN=127.0.0.1' -keyout server.key -out server.csr", openssl, ec));
    REQUIRE(broker_run(br,
                       "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' "
                       "> ext.cnf && '%s' x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
                       "-extfile ext.cnf -out server.crt",
                       openssl));
    REQUIRE(broker_run(br, "'%s' -b -c passwd twin 's3cret pass' && chmod 600 passwd", passwd_tool));
    char extra[1024], ca[256], other[256];
    snprintf(extra, sizeof extra,
             "cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n"
             "allow_anonymous false\npassword_file %s/passwd",
             br->dir, br->dir, br->dir, br->dir);
    broker_path(br, "ca.crt", ca, sizeof ca);
    broker_path(br, "other.crt", other, sizeof other);
    REQUIRE(broker_write_conf(br, extra));
    REQUIRE(broker_start(br));

    char url[256];
    snprintf(url, sizeof url, "mqtts://twin:s3cret%%20pass@127.0.0.1:%d/site/#", br->port);
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.qos = 1;
    o.ca_file = ca;
    o.connect_wait = 5;
    tw_diag d;
    tw_status st = tw_bind_open_mqtt(x.b, url, &o, &d);
    if (st != TW_OK) {
        fprintf(stderr, "TLS open: %s\n", d.message);
        broker_dump_log(br);
    }
    REQUIRE(st == TW_OK);
    CHECK_EQ_INT(status(&x).state, TW_BIND_MQTT_CONNECTED);
    test_pub p;
    REQUIRE(pub_open(&p, &(test_pub_desc){ .port = br->port, .username = "twin", .password = "s3cret pass", .ca_file = ca },
                     5));
    sleep_s(0.1);
    REQUIRE(pub_sendf(&p, "site/room-2/temp", 1, 10, "%s", "19.5"));
    CHECK(pub_flush(&p, 5));
    CHECK(wait_messages(&x, 1, 5));
    tick(&x, tw_clock_unix_s() - x.t0 + 0.01);
    CHECK_NEAR(fx_room(&x.f, x.f.room2)->temperature, 19.5, 1e-6);
    pub_close(&p);

    /* A wrong password, waiting for the answer: a clear error from open. */
    tw_bind_source_desc r = tw_bind_reader_defaults(x.b);
    tw_bind_source *s = NULL;
    snprintf(url, sizeof url, "mqtts://twin:wrong@127.0.0.1:%d/site/#", br->port);
    CHECK_EQ_INT(tw_bind_mqtt_open(url, &o, &r, &s, &d), TW_ERR_IO);
    CHECK(s == NULL);
    CHECK_CONTAINS(d.message, "the broker refused the connection");
    CHECK(strstr(d.message, "not authorised") || strstr(d.message, "bad user name or password"));
    CHECK_CONTAINS(d.message, "check the username and password");
    fprintf(stderr, "bad password: %s\n", d.message);
    /* Not waiting: the source reports REFUSED, stops retrying, and then fails with that message. */
    o.connect_wait = 0;
    REQUIRE(tw_bind_mqtt_open(url, &o, &r, &s, &d) == TW_OK);
    double end = now_s() + 5;
    tw_bind_mqtt_status ms;
    do {
        sleep_s(0.01);
        tw_bind_mqtt_status_get(s, &ms);
    } while (ms.state != TW_BIND_MQTT_REFUSED && now_s() < end);
    CHECK_EQ_INT(ms.state, TW_BIND_MQTT_REFUSED);
    uint64_t attempts = ms.failed_attempts;
    sleep_s(0.3);
    tw_bind_mqtt_status_get(s, &ms);
    CHECK_EQ_U64(ms.failed_attempts, attempts); /* no more retries */
    tw_bind_sample buf[4];
    uint32_t n;
    CHECK_EQ_INT(tw_bind_source_read(s, buf, 4, &n), TW_ERR_IO);
    CHECK_EQ_INT(tw_bind_source_get_state(s), TW_BIND_SOURCE_FAILED);
    REQUIRE(tw_bind_source_error_count(s) == 1);
    CHECK_CONTAINS(tw_bind_source_error(s, 0), "refused");
    char line[400];
    tw_bind_mqtt_status_format(&ms, line, sizeof line);
    CHECK_CONTAINS(line, "refused: the broker refused the connection");
    tw_bind_source_free(s);

    /* A CA that did not sign the broker's certificate: the handshake fails, and is retried. */
    snprintf(url, sizeof url, "mqtts://twin:s3cret%%20pass@127.0.0.1:%d/site/#", br->port);
    o.ca_file = other;
    o.connect_wait = 2;
    o.reconnect_min = 0.2;
    CHECK_EQ_INT(tw_bind_mqtt_open(url, &o, &r, &s, &d), TW_ERR_IO);
    CHECK_CONTAINS(d.message, "cannot reach the MQTT broker");
    CHECK(strstr(d.message, "certificate verify failed") || strstr(d.message, "TLS"));
    fprintf(stderr, "wrong CA: %s\n", d.message);
    mfx_fini(&x);
}

/* Payload forms (number, JSON, SenML), topic patterns with captures, units,
 * bad payloads and unknown topics, each counted; the status as JSON. */
TEST(mqtt_payload_forms_and_patterns)
{
    NEED_BROKER();
    mfx x;
    /* Samples measured by the device (JSON "time") and at arrival (bare
     * numbers) mix in one input: a reorder window takes the difference. */
    REQUIRE(mfx_init(&x, 10.0));
    REQUIRE(start_default_broker(&x));
    REQUIRE(add_rule(&x, "site/room-1/temp", NULL, "site/room-1", "Room.temperature", NULL));
    REQUIRE(add_rule(&x, NULL, "site/{room}/co2", "site/{room}", "Room.co2", "ppm"));
    REQUIRE(add_rule(&x, "site/room-2/temp", NULL, "site/room-2", "Room.temperature", "degC"));
    REQUIRE(add_rule(&x, "site/room-3/power", NULL, "site/room-3", "Room.power", "W"));
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.qos = 1;
    o.connect_wait = 5;
    const char *more[] = { "gw/#", "other/#" };
    o.topics = more;
    o.topic_count = 2;
    REQUIRE(open_url(&x, "site/#", &o) == TW_OK);
    test_pub p;
    REQUIRE(pub_open(&p, &(test_pub_desc){ .port = x.br.port }, 5));
    REQUIRE(pub_sendf(&p, "site/room-1/temp", 1, 10, "%s", "23.5"));
    REQUIRE(pub_sendf(&p, "site/room-3/co2", 1, 10, "%s", "{\"value\": 700}"));
    REQUIRE(pub_sendf(&p, "gw/json", 1, 10, "{\"sensor\": \"site/room-2/temp\", \"time\": %.1f, \"value\": 71.6, \"unit\": \"degF\"}",
                      tw_clock_unix_s() - 0.5)); /* measured by the device half a second ago */
    REQUIRE(pub_sendf(&p, "gw/senml", 1, 10, "%s",
                      "[{\"bn\": \"site/room-3/\", \"n\": \"power\", \"u\": \"kW\", \"v\": 1.5}, {\"n\": \"co2\", \"v\": 480}]"));
    REQUIRE(pub_sendf(&p, "site/room-1/temp", 1, 10, "%s", "warm"));
    REQUIRE(pub_sendf(&p, "other/thing", 1, 10, "%s", "1"));
    CHECK(pub_flush(&p, 5));
    CHECK(wait_messages(&x, 6, 5));
    tick(&x, tw_clock_unix_s() - x.t0 + 0.01);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->received, 7);
    CHECK_EQ_U64(c->applied, 5);
    if (c->applied != 5)
        fprintf(stderr, "late_window %llu late_applied %llu t0 %.3f now %.3f\n", (unsigned long long)c->late_window,
                (unsigned long long)c->late_applied, x.t0, tw_clock_unix_s());
    if (c->applied != 5)
        fprintf(stderr, "received %llu applied %llu late %llu dup %llu rej %llu unit %llu pending %llu\n",
                (unsigned long long)c->received, (unsigned long long)c->applied, (unsigned long long)c->late,
                (unsigned long long)c->duplicate, (unsigned long long)c->rejected,
                (unsigned long long)c->rejected_by[TW_BIND_REJECT_UNIT], (unsigned long long)c->pending);
    CHECK_EQ_U64(c->rejected_by[TW_BIND_REJECT_VALUE], 1);
    CHECK_EQ_U64(c->unknown_sensor, 1);
    CHECK_IDENTITY(c);
    CHECK_NEAR(fx_room(&x.f, x.f.room1)->temperature, 23.5, 1e-6);
    CHECK_NEAR(fx_room(&x.f, x.f.room2)->temperature, 22.0, 1e-4);
    CHECK_NEAR(fx_room(&x.f, x.f.room3)->power, 1500.0, 1e-3);
    CHECK_NEAR(fx_room(&x.f, x.f.room3)->co2, 480.0, 1e-3); /* the pattern, from the SenML record (later) */
    tw_bind_source *src = mqtt_source(&x);
    REQUIRE(src);
    REQUIRE(tw_bind_source_error_count(src) == 1);
    CHECK_CONTAINS(tw_bind_source_error(src, 0), "topic \"site/room-1/temp\": cannot read the payload \"warm\"");
    tw_bind_sensor_count unknown[2];
    CHECK_EQ_INT(tw_bind_unknown_sensors(x.b, unknown, 2), 1);
    CHECK_STR(unknown[0].sensor, "other/thing");

    /* The status for summary.json. */
    char path[256];
    snprintf(path, sizeof path, "%s/status.json", x.br.dir);
    FILE *f = fopen(path, "w+");
    REQUIRE(f);
    CHECK_EQ_INT(tw_bind_mqtt_write_json(src, f, 2), TW_OK);
    long size = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)size + 1);
    REQUIRE(text && fread(text, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    REQUIRE(j);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "state")), "connected");
    CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "messages")), 6);
    CHECK(cJSON_GetObjectItem(j, "dropped_overflow") != NULL);
    cJSON_Delete(j);
    free(text);
    pub_close(&p);
    mfx_fini(&x);
}

/* A receive queue that is not drained: overflow is counted, never a crash
 * or a stall; what was queued is still applied. Oversized payloads too. */
TEST(mqtt_queue_overflow_counted)
{
    NEED_BROKER();
    mfx x;
    REQUIRE(mfx_init(&x, 0.0));
    REQUIRE(start_default_broker(&x));
    REQUIRE(add_rule(&x, "site/room-1/temp", NULL, "site/room-1", "Room.temperature", NULL));
    tw_bind_mqtt_options o;
    memset(&o, 0, sizeof o);
    o.qos = 1;
    o.connect_wait = 5;
    o.queue_messages = 16;
    o.max_payload = 64;
    REQUIRE(open_url(&x, "site/#", &o) == TW_OK);
    test_pub p;
    REQUIRE(pub_open(&p, &(test_pub_desc){ .port = x.br.port }, 5));
    char big[200];
    memset(big, '7', sizeof big);
    REQUIRE(pub_send(&p, "site/room-1/temp", big, sizeof big, 1, 10));
    for (int i = 0; i < 200; i++) REQUIRE(pub_sendf(&p, "site/room-1/temp", 1, 50, "%d", i));
    CHECK(pub_flush(&p, 10));
    double end = now_s() + 5;
    tw_bind_mqtt_status st;
    do {
        sleep_s(0.01);
        st = status(&x); /* nothing is read: the queue fills */
    } while (st.messages < 201 && now_s() < end);
    CHECK_EQ_U64(st.messages, 201);
    CHECK_EQ_U64(st.dropped_oversize, 1);
    CHECK_EQ_U64(st.dropped_overflow, 200 - 16);
    CHECK_EQ_U64(st.queued, 16);
    CHECK_EQ_U64(st.queue_peak, 16);
    /* Not ahead of the wall clock: a live sample measured at or before an applied tick would be late. */
    tick(&x, tw_clock_unix_s() - x.t0);
    const tw_bind_counters *c = tw_bind_get_counters(x.b);
    CHECK_EQ_U64(c->received, 16);
    CHECK_EQ_U64(c->applied, 16);
    CHECK_NEAR(fx_room(&x.f, x.f.room1)->temperature, 15.0, 0); /* the first 16 were kept */
    st = status(&x);
    CHECK_EQ_U64(st.queued, 0);
    /* The queue takes messages again once drained. */
    REQUIRE(pub_sendf(&p, "site/room-1/temp", 1, 50, "%d", 1234));
    CHECK(pub_flush(&p, 5));
    CHECK(wait_messages(&x, 202, 5));
    tick(&x, tw_clock_unix_s() - x.t0 + 0.01);
    CHECK_NEAR(fx_room(&x.f, x.f.room1)->temperature, 1234.0, 0);
    if (fx_room(&x.f, x.f.room1)->temperature != 1234.0) {
        st = status(&x);
        fprintf(stderr, "received %llu applied %llu late %llu dup %llu rej %llu; messages %llu overflow %llu queued %llu\n",
                (unsigned long long)c->received, (unsigned long long)c->applied, (unsigned long long)c->late,
                (unsigned long long)c->duplicate, (unsigned long long)c->rejected, (unsigned long long)st.messages,
                (unsigned long long)st.dropped_overflow, (unsigned long long)st.queued);
    }
    pub_close(&p);
    mfx_fini(&x);
}

int main(int argc, char **argv)
{
    if (!broker_binary()) {
        printf("SKIP: the mosquitto binary is not installed (tools/setup-deps.sh --tests installs it)\n");
        return 77;
    }
    return test_main(argc, argv);
}
