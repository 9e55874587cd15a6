/* The MQTT source: libmosquitto in a network thread, a bounded receive
 * queue, and decoding on the reader's thread.
 *
 * Threads. Everything libmosquitto does happens on one network thread of
 * the source's own: connecting, TLS, keepalive, subscribing, receiving. It
 * drives mosquitto_loop itself instead of mosquitto_loop_start so that it
 * owns reconnection: libmosquitto's automatic reconnect waits whole seconds
 * growing quadratically, says nothing about failed attempts, and keeps
 * retrying a login the broker refused; here the wait doubles from
 * reconnect_min to reconnect_max, each attempt is counted and reported, and
 * a refused login stops. The thread only copies each message (topic,
 * payload, arrival time) into the receive queue; the reader's thread (the
 * fixed-step loop, through tw_bind_apply_until) decodes it into samples. So
 * the simulation never waits for the network, and the network never waits
 * for the simulation.
 *
 * The receive queue is single-producer single-consumer and lock-free: a ring
 * of entries plus a ring of bytes holding topics and payloads, with
 * monotonic positions published by acquire/release atomics. Both rings are
 * allocated at open, so receiving allocates nothing. When either is full
 * the message is dropped and counted (dropped_overflow): a QoS 1 message is
 * acknowledged when libmosquitto hands it over, so a full queue is loss the
 * counters show, never a stall of the broker connection or a crash.
 *
 * Arrival times come from the wall clock on the network thread, made
 * strictly increasing so two bare numbers on one topic never share a
 * measured time (which the binder would count as a duplicate).
 *
 * Connection state and counters live under a mutex (they change a few times
 * per connection); state changes are logged from the reader's thread, so a
 * log sink is never called from the network thread. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "mqtt_internal.h"
#include "twin/bind.h"
#include "twin/clock.h"

enum {
    DEFAULT_QUEUE_MESSAGES = 65536,
    DEFAULT_KEEPALIVE = 30,
    LOOP_MS = 100,          /* longest the network thread sleeps in select: the stop latency */
    TOPIC_MAX = 65535,      /* MQTT's limit on a topic's length */
    PENDING_START = 64
};
#define DEFAULT_QUEUE_BYTES ((size_t)16 << 20)
#define DEFAULT_MAX_PAYLOAD ((size_t)1 << 20)
#define DEFAULT_RECONNECT_MIN 0.5
#define DEFAULT_RECONNECT_MAX 30.0
#define CONNECT_TIMEOUT 10.0   /* s for TCP, TLS and CONNACK before an attempt counts as failed */

typedef struct mqtt_entry {
    uint64_t start, end;    /* byte positions (monotonic) of topic then payload */
    uint32_t topic_len, payload_len;
    double arrival;
} mqtt_entry;

typedef struct mqtt_client {
    tw_allocator alloc;
    tw_log log;
    tw_bind_source *src;
    struct mosquitto *mosq;
    bool lib_init;

    /* settings */
    char name[TW_DIAG_FILE_MAX];
    char host[BIND_MQTT_TEXT];
    int port, keepalive, qos;
    bool persistent;
    char **topics;           /* topic_count filters, in `block` */
    uint32_t topic_count;
    double backoff_min, backoff_max;
    size_t max_payload;
    char *block;             /* topics and the decoder's strings */
    size_t block_size;

    /* receive queue */
    mqtt_entry *entries;
    uint64_t entry_cap;      /* a power of two */
    unsigned char *bytes;
    uint64_t byte_cap;
    uint64_t b_head;         /* network thread only */
    _Atomic uint64_t e_head; /* written by the network thread */
    _Atomic uint64_t e_tail; /* written by the reader */
    _Atomic uint64_t b_tail; /* written by the reader */
    _Atomic uint64_t messages, bytes_in, dropped_overflow, dropped_oversize, queue_peak;
    double last_arrival;     /* network thread only */

    /* connection state, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool sync_ready, thread_started;
    pthread_t thread;
    bool stop, refused, connected_once, waiting;
    bool subscribed;         /* the SUBACK of the current connection came (or a resumed session needs none) */
    uint32_t tries;          /* attempts since the last success */
    uint32_t failures;       /* failed attempts in a row (the backoff exponent) */
    double next_at;          /* monotonic s of the next attempt */
    tw_bind_mqtt_status st;  /* state, counts, error (the atomics are added when read) */

    /* network thread only */
    bool have_socket, connected;
    double attempt_started;
    char last_log[200];      /* libmosquitto's last error or warning (TLS details) */
    char connack[240];       /* why the broker refused, from the CONNACK */

    /* reader thread only */
    bind_mqtt_decoder dec;
    tw_bind_sample *pend;
    size_t pend_cap;
    size_t pend_count, pend_pos;
    uint64_t msg_number;
    uint64_t known_head;     /* entries known to be visible (e_head at the last load) */
    double last_load_clock;  /* wall clock just after that load */
    double clamp;            /* the one before: entries newly visible were not there then */
    double last_arrival_out; /* arrival of the last message decoded (strictly increasing) */
    bool failure_reported;
    tw_bind_mqtt_state logged_state;
    uint64_t logged_connects, logged_failures, logged_overflow, logged_oversize, logged_sub_refused;
} mqtt_client;

const char *tw_bind_mqtt_state_name(tw_bind_mqtt_state s)
{
    switch (s) {
    case TW_BIND_MQTT_CONNECTING: return "connecting";
    case TW_BIND_MQTT_CONNECTED: return "connected";
    case TW_BIND_MQTT_RECONNECTING: return "reconnecting";
    case TW_BIND_MQTT_REFUSED: return "refused";
    case TW_BIND_MQTT_STOPPED: return "stopped";
    }
    return "unknown";
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits on cv until `until` (monotonic s) or a signal; mu is held. */
static void cv_wait_until(mqtt_client *c, double until)
{
    double whole = floor(until);
    struct timespec ts = { (time_t)whole, (long)((until - whole) * 1e9) };
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

/* ---- the network thread ------------------------------------------------------------- */

static double backoff(const mqtt_client *c, uint32_t failures)
{
    double d = c->backoff_min;
    for (uint32_t i = 1; i < failures && d < c->backoff_max; i++) d *= 2.0;
    return d < c->backoff_max ? d : c->backoff_max;
}

/* An attempt failed (or a connection ended): wait, then try again. */
static void attempt_failed(mqtt_client *c, const char *why)
{
    pthread_mutex_lock(&c->mu);
    if (!c->refused) {
        c->st.failed_attempts++;
        c->failures++;
        c->waiting = true;
        c->next_at = mono() + backoff(c, c->failures);
        snprintf(c->st.error, sizeof c->st.error, "%s", why);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void describe_rc(mqtt_client *c, int rc, int err, char *out, size_t size)
{
    if (c->connack[0]) {
        snprintf(out, size, "%s", c->connack);
    } else if (rc == MOSQ_ERR_ERRNO) {
        snprintf(out, size, "%s", err ? strerror(err) : "a system error");
    } else if (c->last_log[0] && (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE || rc == MOSQ_ERR_CONN_LOST ||
                                  rc == MOSQ_ERR_PROTOCOL)) {
        snprintf(out, size, "%s (%s)", mosquitto_strerror(rc), c->last_log);
    } else {
        snprintf(out, size, "%s", mosquitto_strerror(rc));
    }
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags)
{
    mqtt_client *c = obj;
    if (rc != 0) {
        /* Refused in the CONNACK. A bad login or client id will not fix
         * itself: stop; "server unavailable" is worth retrying. */
        bool permanent = rc == 1 || rc == 2 || rc == 4 || rc == 5;
        const char *hint = rc == 4 || rc == 5 ? " (check the username and password, and the broker's ACL)"
                           : rc == 2      ? " (the broker rejected the client id)"
                                          : "";
        snprintf(c->connack, sizeof c->connack, "the broker refused the connection: %s%s",
                 mosquitto_connack_string(rc), hint);
        if (permanent) {
            pthread_mutex_lock(&c->mu);
            c->refused = true;
            c->waiting = false;
            c->st.state = TW_BIND_MQTT_REFUSED;
            c->st.failed_attempts++;
            snprintf(c->st.error, sizeof c->st.error, "%s", c->connack);
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
        }
        return;
    }
    c->connected = true;
    bool session = (flags & 1) != 0;
    pthread_mutex_lock(&c->mu);
    c->st.connects++;
    if (c->connected_once) c->st.reconnects++;
    c->connected_once = true;
    c->tries = 0;
    c->failures = 0;
    c->waiting = false;
    c->st.state = TW_BIND_MQTT_CONNECTED;
    c->st.session_present = session;
    /* A resumed persistent session still holds the subscriptions; subscribing
     * again would make the broker resend retained messages. */
    bool subscribe = !(c->persistent && session);
    c->subscribed = !subscribe;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (subscribe) {
        int rc2 = mosquitto_subscribe_multiple(mosq, NULL, (int)c->topic_count, c->topics, c->qos, 0, NULL);
        if (rc2 != MOSQ_ERR_SUCCESS) {
            pthread_mutex_lock(&c->mu);
            c->subscribed = true; /* nothing to wait for */
            snprintf(c->st.error, sizeof c->st.error, "cannot subscribe: %s", mosquitto_strerror(rc2));
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
        }
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted)
{
    mqtt_client *c = obj;
    (void)mosq;
    (void)mid;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < count && i < (int)c->topic_count; i++) {
        if (granted[i] < 0x80) continue;
        c->st.subscribe_refused++;
        snprintf(c->st.error, sizeof c->st.error, "the broker refused the subscription to \"%.200s\"", c->topics[i]);
    }
    c->subscribed = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *text)
{
    mqtt_client *c = obj;
    (void)mosq;
    if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) snprintf(c->last_log, sizeof c->last_log, "%s", text);
}

static void drop(_Atomic uint64_t *counter) { atomic_fetch_add_explicit(counter, 1, memory_order_relaxed); }

/* Copies one message into the receive queue (or counts why not). */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    mqtt_client *c = obj;
    (void)mosq;
    double now = tw_clock_unix_s();
    if (!(now > c->last_arrival)) now = nextafter(c->last_arrival, INFINITY);
    c->last_arrival = now;
    size_t tl = m->topic ? strlen(m->topic) : 0;
    size_t pl = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
    atomic_fetch_add_explicit(&c->messages, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->bytes_in, pl, memory_order_relaxed);
    if (pl > c->max_payload || tl > TOPIC_MAX) {
        drop(&c->dropped_oversize);
        return;
    }
    uint64_t need = tl + pl;
    uint64_t eh = atomic_load_explicit(&c->e_head, memory_order_relaxed);
    uint64_t et = atomic_load_explicit(&c->e_tail, memory_order_acquire);
    if (eh - et >= c->entry_cap) {
        drop(&c->dropped_overflow);
        return;
    }
    uint64_t bt = atomic_load_explicit(&c->b_tail, memory_order_acquire);
    uint64_t pos = c->b_head % c->byte_cap;
    uint64_t start = pos + need > c->byte_cap ? c->b_head + (c->byte_cap - pos) : c->b_head; /* no wrap inside */
    bool fits = bt == c->b_head ? need <= c->byte_cap : start + need - bt <= c->byte_cap;
    if (!fits) {
        drop(&c->dropped_overflow);
        return;
    }
    unsigned char *dst = c->bytes + start % c->byte_cap;
    if (tl) memcpy(dst, m->topic, tl);
    if (pl) memcpy(dst + tl, m->payload, pl);
    c->entries[eh & (c->entry_cap - 1)] = (mqtt_entry){ start, start + need, (uint32_t)tl, (uint32_t)pl, now };
    c->b_head = start + need;
    atomic_store_explicit(&c->e_head, eh + 1, memory_order_release);
    uint64_t queued = eh + 1 - et;
    if (queued > atomic_load_explicit(&c->queue_peak, memory_order_relaxed))
        atomic_store_explicit(&c->queue_peak, queued, memory_order_relaxed);
}

static void *net_main(void *arg)
{
    mqtt_client *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop, refused = c->refused;
        double next_at = c->next_at;
        if (!stop && !c->have_socket && (refused || mono() < next_at))
            cv_wait_until(c, refused ? mono() + 1.0 : next_at);
        stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop) break;
        if (!c->have_socket) {
            if (refused || mono() < next_at) continue;
            pthread_mutex_lock(&c->mu);
            c->tries++;
            c->waiting = false;
            c->st.state = c->connected_once ? TW_BIND_MQTT_RECONNECTING : TW_BIND_MQTT_CONNECTING;
            pthread_mutex_unlock(&c->mu);
            c->last_log[0] = '\0';
            c->connack[0] = '\0';
            c->attempt_started = mono();
            /* Non-blocking: the TCP connect, TLS handshake and CONNACK complete in mosquitto_loop. */
            errno = 0;
            int rc = mosquitto_connect_async(c->mosq, c->host, c->port, c->keepalive);
            int err = errno;
            if (rc != MOSQ_ERR_SUCCESS) {
                char why[TW_BIND_ERROR_MAX];
                describe_rc(c, rc, err, why, sizeof why);
                attempt_failed(c, why);
                continue;
            }
            c->have_socket = true;
            continue;
        }
        errno = 0;
        int rc = mosquitto_loop(c->mosq, LOOP_MS, 1);
        int err = errno;
        bool alive = rc == MOSQ_ERR_SUCCESS && mosquitto_socket(c->mosq) >= 0;
        if (alive && !c->connected && mono() - c->attempt_started > CONNECT_TIMEOUT) {
            mosquitto_disconnect(c->mosq);
            alive = false;
            rc = MOSQ_ERR_CONN_LOST;
            snprintf(c->last_log, sizeof c->last_log, "no answer from the broker in %.0f s", CONNECT_TIMEOUT);
        }
        if (alive) continue;
        if (mosquitto_socket(c->mosq) >= 0) mosquitto_disconnect(c->mosq);
        c->have_socket = false;
        char why[TW_BIND_ERROR_MAX];
        describe_rc(c, rc, err, why, sizeof why);
        if (c->connected) {
            c->connected = false;
            pthread_mutex_lock(&c->mu);
            c->st.disconnects++;
            c->st.state = TW_BIND_MQTT_RECONNECTING;
            c->waiting = true;
            c->next_at = mono() + c->backoff_min;
            snprintf(c->st.error, sizeof c->st.error, "connection lost: %.280s", why);
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
        } else {
            attempt_failed(c, why);
        }
    }
    if (c->have_socket) {
        /* A clean DISCONNECT: a persistent session stays on the broker. */
        if (c->connected) mosquitto_disconnect(c->mosq);
        for (int i = 0; i < 20 && mosquitto_socket(c->mosq) >= 0; i++)
            if (mosquitto_loop(c->mosq, 10, 1) != MOSQ_ERR_SUCCESS) break;
    }
    pthread_mutex_lock(&c->mu);
    c->st.state = TW_BIND_MQTT_STOPPED;
    c->waiting = false;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- status ------------------------------------------------------------------------------------ */

static void status_fill(mqtt_client *c, tw_bind_mqtt_status *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->attempt = c->tries + (c->waiting ? 1u : 0u);
    out->next_in = 0.0;
    if (c->waiting) {
        double d = c->next_at - mono();
        out->next_in = d > 0.0 ? d : 0.0;
    }
    if (out->state == TW_BIND_MQTT_CONNECTED) out->attempt = 0;
    pthread_mutex_unlock(&c->mu);
    out->messages = atomic_load_explicit(&c->messages, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&c->bytes_in, memory_order_relaxed);
    out->dropped_overflow = atomic_load_explicit(&c->dropped_overflow, memory_order_relaxed);
    out->dropped_oversize = atomic_load_explicit(&c->dropped_oversize, memory_order_relaxed);
    out->queue_peak = atomic_load_explicit(&c->queue_peak, memory_order_relaxed);
    out->queued = atomic_load_explicit(&c->e_head, memory_order_acquire) -
                  atomic_load_explicit(&c->e_tail, memory_order_relaxed);
}

int tw_bind_mqtt_status_format(const tw_bind_mqtt_status *st, char *buf, size_t size)
{
    TW_CHECK(st != NULL && (buf != NULL || size == 0), "tw_bind_mqtt_status_format needs a status and a buffer.");
    switch (st->state) {
    case TW_BIND_MQTT_CONNECTED: return snprintf(buf, size, "connected");
    case TW_BIND_MQTT_REFUSED: return snprintf(buf, size, "refused: %s", st->error);
    case TW_BIND_MQTT_STOPPED: return snprintf(buf, size, "stopped");
    case TW_BIND_MQTT_CONNECTING:
    case TW_BIND_MQTT_RECONNECTING: {
        const char *what = st->state == TW_BIND_MQTT_CONNECTING ? "connecting" : "reconnecting";
        if (st->next_in > 0.0)
            return snprintf(buf, size, "%s (attempt %u, next in %.1f s)%s%s", what, st->attempt, st->next_in,
                            st->error[0] ? ": " : "", st->error);
        return snprintf(buf, size, "%s (attempt %u)", what, st->attempt);
    }
    }
    return snprintf(buf, size, "unknown");
}

/* Logs what changed since the last read, on the reader's thread. */
static void watch(mqtt_client *c)
{
    tw_bind_mqtt_status st;
    status_fill(c, &st);
    char line[TW_BIND_ERROR_MAX + 64];
    if (st.connects != c->logged_connects) {
        c->logged_connects = st.connects;
        tw_log_write(&c->log, TW_LOG_INFO, "bind", "%s: %s%s", c->name, st.reconnects ? "reconnected" : "connected",
                     st.session_present ? " (session resumed)" : "");
    }
    if (st.failed_attempts != c->logged_failures && st.state != TW_BIND_MQTT_CONNECTED) {
        /* The first failure after a success is a warning; the rest of a long outage are debug lines. */
        bool first = c->logged_failures == 0 || c->logged_state == TW_BIND_MQTT_CONNECTED ||
                     st.state == TW_BIND_MQTT_REFUSED;
        c->logged_failures = st.failed_attempts;
        tw_bind_mqtt_status_format(&st, line, sizeof line);
        tw_log_write(&c->log, st.state == TW_BIND_MQTT_REFUSED ? TW_LOG_ERROR : first ? TW_LOG_WARN : TW_LOG_DEBUG,
                     "bind", "%s: %s", c->name, line);
    } else if (st.state == TW_BIND_MQTT_RECONNECTING && c->logged_state == TW_BIND_MQTT_CONNECTED) {
        tw_log_write(&c->log, TW_LOG_WARN, "bind", "%s: %s", c->name, st.error);
    }
    c->logged_state = st.state;
    if (st.dropped_overflow != c->logged_overflow && c->logged_overflow == 0)
        tw_log_write(&c->log, TW_LOG_WARN, "bind",
                     "%s: the receive queue is full (%llu messages, %llu bytes): messages are dropped and counted "
                     "(dropped_overflow); apply more often or raise queue_messages / queue_bytes",
                     c->name, (unsigned long long)c->entry_cap, (unsigned long long)c->byte_cap);
    c->logged_overflow = st.dropped_overflow;
    if (st.dropped_oversize != c->logged_oversize && c->logged_oversize == 0)
        tw_log_write(&c->log, TW_LOG_WARN, "bind", "%s: messages over %zu bytes are dropped and counted (dropped_oversize)",
                     c->name, c->max_payload);
    c->logged_oversize = st.dropped_oversize;
    if (st.subscribe_refused != c->logged_sub_refused) {
        c->logged_sub_refused = st.subscribe_refused;
        tw_log_write(&c->log, TW_LOG_ERROR, "bind", "%s: %s", c->name, st.error);
    }
}

/* ---- reading ------------------------------------------------------------------------------------- */

static tw_status emit_pending(void *user, const tw_bind_sample *s)
{
    mqtt_client *c = user;
    if (c->pend_count == c->pend_cap &&
        tw_grow(&c->alloc, (void **)&c->pend, &c->pend_cap, c->pend_count + 1, sizeof *c->pend))
        return TW_ERR_NOMEM;
    c->pend[c->pend_count++] = *s;
    return TW_OK;
}

static tw_status mqtt_read(tw_bind_source *s, void *impl, tw_bind_sample *out, uint32_t max, uint32_t *count)
{
    mqtt_client *c = impl;
    uint32_t n = 0;
    tw_status result = TW_OK;
    watch(c);
    while (n < max) {
        if (c->pend_pos < c->pend_count) {
            size_t k = c->pend_count - c->pend_pos;
            if (k > max - n) k = max - n;
            memcpy(out + n, c->pend + c->pend_pos, k * sizeof *out);
            c->pend_pos += k;
            n += (uint32_t)k;
            continue;
        }
        c->pend_pos = c->pend_count = 0;
        uint64_t et = atomic_load_explicit(&c->e_tail, memory_order_relaxed);
        if (et == c->known_head) {
            uint64_t eh = atomic_load_explicit(&c->e_head, memory_order_acquire);
            double seen = tw_clock_unix_s();
            c->clamp = c->last_load_clock;
            c->last_load_clock = seen;
            c->known_head = eh;
            if (et == eh) break;
        }
        mqtt_entry e = c->entries[et & (c->entry_cap - 1)];
        const char *p = (const char *)c->bytes + e.start % c->byte_cap;
        c->msg_number++;
        /* A message stamped just before a read but queued just after it would
         * be measured at or before a tick that the read fed, and dropped as
         * late. It was not there at the previous load, so it arrived after
         * that: moving its arrival past the clock of that load (by at most the
         * length of one read) keeps every arrival-stamped sample on time for a
         * loop that applies at or behind the wall clock. */
        double arrival = e.arrival;
        if (!(arrival > c->clamp)) arrival = nextafter(c->clamp, INFINITY);
        if (!(arrival > c->last_arrival_out)) arrival = nextafter(c->last_arrival_out, INFINITY);
        c->last_arrival_out = arrival;
        tw_status st = bind_mqtt_decode(&c->dec, p, e.topic_len, p + e.topic_len, e.payload_len, arrival,
                                        c->msg_number, emit_pending, c);
        /* Samples hold interned ids, not pointers into the queue: release it now. */
        atomic_store_explicit(&c->b_tail, e.end, memory_order_release);
        atomic_store_explicit(&c->e_tail, et + 1, memory_order_release);
        s->stats.records++;
        s->stats.bytes += e.payload_len;
        if (st != TW_OK) {
            result = st;
            break;
        }
    }
    *count = n;
    if (result != TW_OK) return result;
    if (n == 0) {
        char why[TW_BIND_ERROR_MAX];
        pthread_mutex_lock(&c->mu);
        bool refused = c->refused;
        memcpy(why, c->st.error, sizeof why);
        pthread_mutex_unlock(&c->mu);
        if (refused) {
            /* Nothing more will come: end the source so the run carries on without it. */
            if (!c->failure_reported) {
                c->failure_reported = true;
                tw_bind_source_report(s, 0, "%s", why);
            }
            s->state = TW_BIND_SOURCE_FAILED;
            return TW_ERR_IO;
        }
    }
    s->state = n ? TW_BIND_SOURCE_READY : TW_BIND_SOURCE_WAITING;
    return TW_OK;
}

static void client_free(mqtt_client *c)
{
    if (!c) return;
    if (c->thread_started) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    if (c->mosq) mosquitto_destroy(c->mosq);
    if (c->lib_init) mosquitto_lib_cleanup();
    if (c->sync_ready) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
    }
    tw_allocator a = c->alloc;
    tw_free(&a, c->pend, c->pend_cap * sizeof *c->pend);
    tw_free(&a, c->entries, (size_t)c->entry_cap * sizeof *c->entries);
    tw_free(&a, c->bytes, (size_t)c->byte_cap);
    tw_free(&a, c->block, c->block_size);
    tw_free(&a, c, sizeof *c);
}

static void mqtt_destroy(tw_bind_source *s, void *impl)
{
    (void)s;
    client_free(impl);
}

static const tw_bind_source_vtable mqtt_vtable = { "mqtt", mqtt_read, mqtt_destroy };

bool tw_bind_mqtt_status_get(const tw_bind_source *s, tw_bind_mqtt_status *out)
{
    TW_CHECK(s != NULL && out != NULL, "tw_bind_mqtt_status_get needs a source and an out pointer.");
    if (s->vt != &mqtt_vtable) return false;
    status_fill(s->impl, out);
    return true;
}

/* ---- opening ------------------------------------------------------------------------------------- */

typedef struct settings {
    bind_mqtt_url url;
    const char *topics[BIND_MQTT_URL_TOPICS + 256];
    uint32_t topic_count;
    const char *user, *password, *client_id, *ca_file, *ca_path, *cert_file, *key_file;
    bool tls, insecure, persistent;
    int qos;
    double keepalive;
    tw_bind_payload payload;
} settings;

static const char *pick(const char *opt, const char *url_text)
{
    if (opt) return opt;
    return url_text && url_text[0] ? url_text : NULL;
}

/* The URL and the options together, checked. */
static tw_status settle(const char *url, const tw_bind_mqtt_options *o, const tw_bind_source_desc *reader,
                        settings *s, tw_diag *diag)
{
    char msg[TW_DIAG_MSG_MAX];
    memset(s, 0, sizeof *s);
    if (!bind_mqtt_url_parse(url, &s->url, msg, sizeof msg)) {
        tw_diag_set(diag, "cannot read the MQTT URL \"%.200s\": %s", url, msg);
        return TW_ERR_INVALID;
    }
    bind_mqtt_url *u = &s->url;
    for (uint32_t i = 0; i < u->topic_count; i++) s->topics[s->topic_count++] = u->topics[i];
    if (o->topic_count > 256) {
        tw_diag_set(diag, "at most 256 topic filters per MQTT source, not %u", o->topic_count);
        return TW_ERR_INVALID;
    }
    for (uint32_t i = 0; i < o->topic_count; i++) s->topics[s->topic_count++] = o->topics[i];
    if (s->topic_count == 0) s->topics[s->topic_count++] = "#";
    for (uint32_t i = 0; i < s->topic_count; i++) {
        const char *t = s->topics[i];
        if (!t || !t[0] || strlen(t) > TOPIC_MAX || mosquitto_sub_topic_check(t) != MOSQ_ERR_SUCCESS) {
            tw_diag_set(diag, "\"%.200s\" is not a valid MQTT topic filter ('+' and '#' stand alone in a level, '#' last)",
                        t ? t : "(null)");
            return TW_ERR_INVALID;
        }
    }
    s->user = pick(o->username, u->has_user ? u->user : NULL);
    s->password = pick(o->password, u->has_password ? u->password : NULL);
    if (s->password && !s->user) {
        tw_diag_set(diag, "an MQTT password needs a username");
        return TW_ERR_INVALID;
    }
    s->client_id = pick(o->client_id, u->client_id);
    s->ca_file = pick(o->ca_file, u->ca_file);
    s->ca_path = pick(o->ca_path, u->ca_path);
    s->cert_file = pick(o->cert_file, u->cert_file);
    s->key_file = pick(o->key_file, u->key_file);
    s->tls = o->tls || u->tls || s->ca_file || s->ca_path || s->cert_file;
    s->insecure = o->tls_insecure || u->insecure == 1;
    s->persistent = o->persistent || u->clean == 0;
    s->qos = o->qos ? o->qos : u->qos > 0 ? u->qos : 0;
    s->keepalive = o->keepalive > 0 ? o->keepalive : u->keepalive > 0 ? u->keepalive : DEFAULT_KEEPALIVE;
    s->payload = o->payload ? o->payload : u->payload > 0 ? (tw_bind_payload)u->payload : TW_BIND_PAYLOAD_AUTO;
    if (s->payload == TW_BIND_PAYLOAD_AUTO && reader->format == TW_BIND_FORMAT_JSONL) s->payload = TW_BIND_PAYLOAD_JSON;
    if (s->payload == TW_BIND_PAYLOAD_AUTO && reader->format == TW_BIND_FORMAT_SENML) s->payload = TW_BIND_PAYLOAD_SENML;
    if (s->qos != 0 && s->qos != 1) {
        tw_diag_set(diag, "MQTT QoS must be 0 or 1, not %d", s->qos);
        return TW_ERR_INVALID;
    }
    if ((unsigned)s->payload > TW_BIND_PAYLOAD_SENML) {
        tw_diag_set(diag, "unknown MQTT payload kind %d", (int)s->payload);
        return TW_ERR_INVALID;
    }
    if (s->persistent && !s->client_id) {
        tw_diag_set(diag, "a persistent MQTT session needs a fixed client_id (the broker keeps the session under it)");
        return TW_ERR_INVALID;
    }
    if (!s->cert_file != !s->key_file) {
        tw_diag_set(diag, "an MQTT client certificate needs both cert_file and key_file");
        return TW_ERR_INVALID;
    }
    if (s->keepalive < 5 || s->keepalive > 65535) {
        tw_diag_set(diag, "the MQTT keepalive must be from 5 to 65535 s, not %g", s->keepalive);
        return TW_ERR_INVALID;
    }
    if (!(o->reconnect_min >= 0) || !(o->reconnect_max >= 0) || !(o->connect_wait >= 0) ||
        (o->reconnect_max > 0 && o->reconnect_min > o->reconnect_max)) {
        tw_diag_set(diag, "the MQTT reconnect delays and connect_wait must be >= 0, with reconnect_min <= reconnect_max");
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

static size_t text_size(const char *s) { return s ? strlen(s) + 1 : 0; }

static char *put_text(char **cursor, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = *cursor;
    memcpy(d, s, n);
    *cursor += n;
    return d;
}

static uint64_t pow2_at_least(uint64_t n)
{
    uint64_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

static tw_status mosq_setup(mqtt_client *c, const settings *s, tw_diag *diag)
{
    int rc = mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (rc == MOSQ_ERR_SUCCESS && s->user) rc = mosquitto_username_pw_set(c->mosq, s->user, s->password);
    if (rc != MOSQ_ERR_SUCCESS) {
        tw_diag_set(diag, "cannot set up the MQTT client: %s", mosquitto_strerror(rc));
        return TW_ERR_INVALID;
    }
    if (s->tls) {
        if (s->ca_file || s->ca_path) {
            rc = mosquitto_tls_set(c->mosq, s->ca_file, s->ca_path, s->cert_file, s->key_file, NULL);
        } else {
            rc = mosquitto_int_option(c->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
            if (rc == MOSQ_ERR_SUCCESS && s->cert_file)
                rc = MOSQ_ERR_INVAL; /* libmosquitto takes a client certificate only with a CA file or path */
        }
        if (rc != MOSQ_ERR_SUCCESS) {
            tw_diag_set(diag,
                        "cannot set up TLS (CA file %s, CA path %s, certificate %s, key %s): %s; check that the files "
                        "exist and are readable%s",
                        s->ca_file ? s->ca_file : "-", s->ca_path ? s->ca_path : "-",
                        s->cert_file ? s->cert_file : "-", s->key_file ? s->key_file : "-", mosquitto_strerror(rc),
                        s->cert_file && !s->ca_file && !s->ca_path ? " (a client certificate needs ca_file or ca_path)"
                                                                    : "");
            return TW_ERR_INVALID;
        }
        if (s->insecure) mosquitto_tls_insecure_set(c->mosq, true);
    }
    mosquitto_connect_with_flags_callback_set(c->mosq, on_connect);
    mosquitto_subscribe_callback_set(c->mosq, on_subscribe);
    mosquitto_message_callback_set(c->mosq, on_message);
    mosquitto_log_callback_set(c->mosq, on_log);
    return TW_OK;
}

tw_status tw_bind_mqtt_open(const char *url, const tw_bind_mqtt_options *opt, const tw_bind_source_desc *reader,
                            tw_bind_source **out, tw_diag *diag)
{
    TW_CHECK(url != NULL && reader != NULL && out != NULL, "tw_bind_mqtt_open needs a URL, a reader desc and an out pointer.");
    TW_CHECK(reader->sensors != NULL, "tw_bind_mqtt_open: reader->sensors must name the sensor table the source interns into.");
    *out = NULL;
    tw_diag_clear(diag);
    tw_bind_mqtt_options none;
    memset(&none, 0, sizeof none);
    const tw_bind_mqtt_options *o = opt ? opt : &none;
    tw_allocator a = tw_allocator_or_default(reader->allocator);
    settings *s = tw_alloc(&a, sizeof *s); /* big, short-lived: not on the stack */
    if (!s) {
        tw_diag_set(diag, "out of memory opening an MQTT source");
        return TW_ERR_NOMEM;
    }
    tw_status result = settle(url, o, reader, s, diag);
    if (result != TW_OK) {
        if (diag && !diag->file[0]) snprintf(diag->file, sizeof diag->file, "%s", reader->name ? reader->name : "mqtt");
        tw_free(&a, s, sizeof *s);
        return result;
    }

    mqtt_client *c = tw_calloc(&a, 1, sizeof *c);
    if (!c) {
        tw_free(&a, s, sizeof *s);
        tw_diag_set(diag, "out of memory opening an MQTT source");
        return TW_ERR_NOMEM;
    }
    c->alloc = a;
    if (reader->log) c->log = *reader->log;
    bool v6 = strchr(s->url.host, ':') != NULL;
    if (reader->name)
        snprintf(c->name, sizeof c->name, "%s", reader->name);
    else
        snprintf(c->name, sizeof c->name, "mqtt%s://%s%.100s%s:%d/%.120s%s", s->tls ? "s" : "", v6 ? "[" : "",
                 s->url.host, v6 ? "]" : "", s->url.port, s->topics[0], s->topic_count > 1 ? ",..." : "");
    if (diag) snprintf(diag->file, sizeof diag->file, "%s", c->name);
    snprintf(c->host, sizeof c->host, "%s", s->url.host);
    c->port = s->url.port;
    c->keepalive = (int)s->keepalive;
    c->qos = s->qos;
    c->persistent = s->persistent;
    c->backoff_min = o->reconnect_min > 0 ? o->reconnect_min : DEFAULT_RECONNECT_MIN;
    c->backoff_max = o->reconnect_max > 0 ? o->reconnect_max : DEFAULT_RECONNECT_MAX;
    if (c->backoff_max < c->backoff_min) c->backoff_max = c->backoff_min;
    c->max_payload = o->max_payload ? o->max_payload : DEFAULT_MAX_PAYLOAD;
    if (c->max_payload > UINT32_MAX - TOPIC_MAX) c->max_payload = UINT32_MAX - TOPIC_MAX;

    /* One block for the topic filters and the decoder's strings. */
    const tw_bind_json_options *jo = &reader->json;
    const char *texts[6] = { reader->sensor_prefix, jo->time_key ? jo->time_key : "time",
                             jo->sensor_key ? jo->sensor_key : "sensor", jo->value_key ? jo->value_key : "value",
                             jo->quality_key ? jo->quality_key : "quality", jo->unit_key ? jo->unit_key : "unit" };
    size_t total = s->topic_count * sizeof(char *);
    for (uint32_t i = 0; i < s->topic_count; i++) total += strlen(s->topics[i]) + 1;
    for (int i = 0; i < 6; i++) total += text_size(texts[i]);
    c->block = tw_alloc(&a, total);
    c->block_size = total;
    uint64_t want_entries = o->queue_messages ? o->queue_messages : DEFAULT_QUEUE_MESSAGES;
    size_t want_bytes = o->queue_bytes ? o->queue_bytes : DEFAULT_QUEUE_BYTES;
    /* Any message that passes max_payload must fit an empty queue. */
    if (want_bytes < c->max_payload + TOPIC_MAX) want_bytes = c->max_payload + TOPIC_MAX;
    c->entry_cap = pow2_at_least(want_entries);
    c->byte_cap = want_bytes;
    c->entries = tw_calloc(&a, (size_t)c->entry_cap, sizeof *c->entries);
    c->bytes = tw_alloc(&a, want_bytes);
    c->pend_cap = PENDING_START;
    c->pend = tw_alloc(&a, c->pend_cap * sizeof *c->pend);
    if (!c->block || !c->entries || !c->bytes || !c->pend) {
        if (!c->pend) c->pend_cap = 0;
        if (!c->entries) c->entry_cap = 0;
        if (!c->bytes) c->byte_cap = 0;
        if (!c->block) c->block_size = 0;
        client_free(c);
        tw_free(&a, s, sizeof *s);
        tw_diag_set(diag, "out of memory allocating the MQTT receive queue");
        return TW_ERR_NOMEM;
    }
    c->topics = (char **)(void *)c->block;
    char *cursor = c->block + s->topic_count * sizeof(char *);
    for (uint32_t i = 0; i < s->topic_count; i++) c->topics[i] = put_text(&cursor, s->topics[i]);
    c->topic_count = s->topic_count;
    bind_mqtt_decoder_init(&c->dec, reader->sensors);
    c->dec.payload = s->payload;
    c->dec.time_format = reader->time_format;
    c->dec.prefix = put_text(&cursor, texts[0]);
    c->dec.prefix_len = c->dec.prefix ? strlen(c->dec.prefix) : 0;
    c->dec.k_time = put_text(&cursor, texts[1]);
    c->dec.k_sensor = put_text(&cursor, texts[2]);
    c->dec.k_value = put_text(&cursor, texts[3]);
    c->dec.k_quality = put_text(&cursor, texts[4]);
    c->dec.k_unit = put_text(&cursor, texts[5]);

    pthread_condattr_t ca;
    bool sync_ok = pthread_condattr_init(&ca) == 0;
    if (sync_ok) {
        sync_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&c->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (sync_ok && pthread_mutex_init(&c->mu, NULL) != 0) {
        pthread_cond_destroy(&c->cv);
        sync_ok = false;
    }
    if (!sync_ok) {
        client_free(c);
        tw_free(&a, s, sizeof *s);
        tw_diag_set(diag, "cannot create the MQTT source's mutex");
        return TW_ERR_NOMEM;
    }
    c->sync_ready = true;

    mosquitto_lib_init();
    c->lib_init = true;
    char generated_id[32];
    const char *client_id = s->client_id;
    if (!client_id) {
        snprintf(generated_id, sizeof generated_id, "twin-%ld-%08llx", (long)getpid(),
                 (unsigned long long)((tw_clock_monotonic_ns() ^ (uint64_t)(uintptr_t)c) & 0xffffffffu));
        client_id = generated_id;
    }
    c->mosq = mosquitto_new(client_id, !s->persistent, c);
    if (!c->mosq) {
        int err = errno;
        client_free(c);
        tw_free(&a, s, sizeof *s);
        tw_diag_set(diag, "cannot create the MQTT client: %s", err == EINVAL ? "an invalid client id" : strerror(err));
        return err == ENOMEM ? TW_ERR_NOMEM : TW_ERR_INVALID;
    }
    result = mosq_setup(c, s, diag);
    double wait = o->connect_wait;
    tw_free(&a, s, sizeof *s);
    if (result != TW_OK) {
        client_free(c);
        return result;
    }
    c->st.state = TW_BIND_MQTT_CONNECTING;
    c->next_at = 0.0;

    tw_bind_source *src;
    result = tw_bind_source_new_custom(&mqtt_vtable, c, c->name, true, reader->sensors, &a, reader->log, &src);
    if (result != TW_OK) {
        tw_diag_set(diag, "out of memory opening an MQTT source");
        return result; /* c was freed by the source */
    }
    c->src = src;
    c->dec.src = src;
    if (pthread_create(&c->thread, NULL, net_main, c) != 0) {
        tw_bind_source_free(src);
        tw_diag_set(diag, "cannot start the MQTT network thread");
        return TW_ERR_NOMEM;
    }
    c->thread_started = true;

    if (wait > 0.0) {
        double deadline = mono() + wait;
        pthread_mutex_lock(&c->mu);
        /* Until subscribed: a message published right after open is then received. */
        while (!(c->connected_once && c->subscribed) && !c->refused && mono() < deadline) cv_wait_until(c, deadline);
        bool ok = c->connected_once && c->subscribed, refused = c->refused;
        char why[TW_BIND_ERROR_MAX];
        snprintf(why, sizeof why, "%s", c->st.error[0] ? c->st.error : "no answer");
        pthread_mutex_unlock(&c->mu);
        if (!ok) {
            if (refused)
                tw_diag_set(diag, "%s", why);
            else
                tw_diag_set(diag, "cannot reach the MQTT broker at %s:%d in %g s: %s", c->host, c->port, wait, why);
            tw_bind_source_free(src);
            return TW_ERR_IO;
        }
    }
    *out = src;
    return TW_OK;
}

/* ---- the binder's side --------------------------------------------------------------------------- */

tw_status tw_bind_open_mqtt(tw_bind *b, const char *url, const tw_bind_mqtt_options *opt, tw_diag *diag)
{
    TW_CHECK(b != NULL && url != NULL, "tw_bind_open_mqtt needs a binder and a URL.");
    tw_bind_source_desc d = tw_bind_reader_defaults(b);
    tw_bind_source *src;
    tw_status st = tw_bind_mqtt_open(url, opt, &d, &src, diag);
    if (st != TW_OK) return st;
    st = tw_bind_add_source(b, src);
    if (st != TW_OK) tw_diag_set(diag, "out of memory adding the MQTT source %s", url);
    return st;
}

static void json_text(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

tw_status tw_bind_mqtt_write_json(const tw_bind_source *s, FILE *f, int indent)
{
    TW_CHECK(s != NULL && f != NULL, "tw_bind_mqtt_write_json needs a source and a file.");
    tw_bind_mqtt_status st;
    if (!tw_bind_mqtt_status_get(s, &st)) return TW_ERR_INVALID;
    const mqtt_client *c = s->impl;
    char line[TW_BIND_ERROR_MAX + 64];
    tw_bind_mqtt_status_format(&st, line, sizeof line);
    int in = indent < 0 ? 0 : indent;
    fprintf(f, "{\n%*s\"source\": ", in + 2, "");
    json_text(f, c->name);
    fprintf(f, ",\n%*s\"state\": \"%s\", \"status\": ", in + 2, "", tw_bind_mqtt_state_name(st.state));
    json_text(f, line);
    fprintf(f,
            ",\n%*s\"connects\": %llu, \"reconnects\": %llu, \"failed_attempts\": %llu, \"disconnects\": %llu,"
            " \"session_present\": %s,\n",
            in + 2, "", (unsigned long long)st.connects, (unsigned long long)st.reconnects,
            (unsigned long long)st.failed_attempts, (unsigned long long)st.disconnects,
            st.session_present ? "true" : "false");
    fprintf(f,
            "%*s\"messages\": %llu, \"bytes\": %llu, \"dropped_overflow\": %llu, \"dropped_oversize\": %llu,"
            " \"queued\": %llu, \"queue_peak\": %llu, \"subscribe_refused\": %llu,\n",
            in + 2, "", (unsigned long long)st.messages, (unsigned long long)st.bytes,
            (unsigned long long)st.dropped_overflow, (unsigned long long)st.dropped_oversize,
            (unsigned long long)st.queued, (unsigned long long)st.queue_peak,
            (unsigned long long)st.subscribe_refused);
    fprintf(f, "%*s\"error\": ", in + 2, "");
    json_text(f, st.error);
    fprintf(f, "\n%*s}", in, "");
    return ferror(f) ? TW_ERR_IO : TW_OK;
}
