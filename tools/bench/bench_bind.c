/* `twin bench bind`: telemetry into entity fields, against reading alone.
 *
 *   bind.csv        CSV long form (epoch times) through the binder into
 *                   Thermal.temperature of 200 rooms, samples/s; baseline: the
 *                   same bytes through the same reader with no binder (parsing
 *                   alone). Target >= 2,000,000 samples/s.
 *   bind.jsonl      the same samples as JSON Lines; target >= 500,000/s.
 *   bind.senml      the same samples as SenML, one pack of 200 records a
 *                   second; target >= 500,000/s.
 *   bind.mqtt_qos0  bare-number messages on 200 topics through a local
 *   bind.mqtt_qos1  Mosquitto into entity state (the MQTT source, the binder,
 *                   a tick every millisecond), messages/s; baseline: a bare
 *                   libmosquitto subscriber receiving the same messages in the
 *                   same run. Target: ratio >= 0.9.
 *
 * The file inputs are made in memory: 2,000,000 samples of 200 sensors at
 * 1 Hz (10,000 s), applied with tw_bind_apply_until every simulated second;
 * each figure is the median of 3 runs. The MQTT runs start their own broker
 * (`mosquitto` on a free loopback port, queue limits raised so QoS 1 is
 * lossless) and publish 200,000 (QoS 0) and 50,000 (QoS 1) messages from a
 * third client; rates count from the first publish to the last message each
 * subscriber took. Without the mosquitto binary those lines say met: null
 * and why (stderr). --quick: 100,000 samples, one run, 20,000 / 5,000
 * messages. Only the JSON lines go to stdout. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "bench/bench.h"
#include "twin/bind.h"
#include "twin/clock.h"
#include "twin/sim_components.h"

enum { SENSORS = 200, REPS_MAX = 5 };
#define T0 1700000000.0

static tw_log quiet_log = { TW_LOG_ERROR + 1, NULL, NULL };

/* ---- inputs ------------------------------------------------------------------------------------- */

typedef struct input {
    char *text;
    size_t size, cap;
    uint64_t samples;
} input;

static bool put(input *in, const char *s, size_t n)
{
    if (in->size + n + 1 > in->cap) {
        size_t cap = in->cap ? in->cap * 2 : (size_t)1 << 20;
        while (cap < in->size + n + 1) cap *= 2;
        char *t = realloc(in->text, cap);
        if (!t) return false;
        in->text = t;
        in->cap = cap;
    }
    memcpy(in->text + in->size, s, n);
    in->size += n;
    in->text[in->size] = '\0';
    return true;
}

/* Sensor k's value at second i: a few degrees around 21, two decimals. */
static double value_at(uint64_t i, uint32_t k) { return 18.0 + (double)((i * 7919u + k * 104729u) % 700u) / 100.0; }

/* n samples (a multiple of SENSORS): second by second, every sensor once. */
static bool make_input(tw_bind_format fmt, uint64_t n, input *in)
{
    memset(in, 0, sizeof *in);
    char line[256];
    uint64_t seconds = n / SENSORS;
    for (uint64_t i = 0; i < seconds; i++) {
        long long t = (long long)T0 + (long long)i;
        if (fmt == TW_BIND_FORMAT_SENML) {
            int m = snprintf(line, sizeof line, "[{\"bn\":\"s/\",\"bt\":%lld,\"n\":\"000\",\"v\":%.2f}", t, value_at(i, 0));
            if (!put(in, line, (size_t)m)) return false;
            for (uint32_t k = 1; k < SENSORS; k++) {
                m = snprintf(line, sizeof line, ",{\"n\":\"%03u\",\"v\":%.2f}", k, value_at(i, k));
                if (!put(in, line, (size_t)m)) return false;
            }
            if (!put(in, "]\n", 2)) return false;
            continue;
        }
        for (uint32_t k = 0; k < SENSORS; k++) {
            int m = fmt == TW_BIND_FORMAT_CSV
                        ? snprintf(line, sizeof line, "%lld,s/%03u,%.2f\n", t, k, value_at(i, k))
                        : snprintf(line, sizeof line, "{\"time\":%lld,\"sensor\":\"s/%03u\",\"value\":%.2f}\n", t, k,
                                   value_at(i, k));
            if (!put(in, line, (size_t)m)) return false;
        }
    }
    in->samples = seconds * SENSORS;
    return true;
}

/* ---- the world: 200 rooms with Thermal ----------------------------------------------------------- */

static tw_ecs_world *make_world(void)
{
    tw_ecs_world *w = tw_ecs_world_new(NULL);
    if (!w) return NULL;
    tw_sim_components c;
    tw_status st = tw_sim_register_components(w, &c);
    tw_entity site = tw_ecs_entity_create(w);
    if (!st) st = tw_ecs_entity_set_name(w, site, "site");
    tw_component comps[2] = { c.transform, c.thermal };
    for (uint32_t i = 0; i < SENSORS && !st; i++) {
        tw_entity e = tw_ecs_entity_create_with(w, comps, 2);
        char name[32];
        snprintf(name, sizeof name, "room-%03u", i);
        st = tw_ecs_entity_set_name(w, e, name);
        if (!st) st = tw_ecs_entity_set_parent(w, e, site);
    }
    if (st) {
        tw_ecs_world_free(w);
        return NULL;
    }
    return w;
}

/* A binder for w with one rule per sensor: <prefix>NNN -> site/room-NNN Thermal.temperature. */
static tw_bind *make_binder(tw_ecs_world *w, const char *prefix, double anchor)
{
    tw_bind_desc bd = { .log = &quiet_log };
    if (anchor > 0) {
        bd.anchor = TW_BIND_ANCHOR_FIXED;
        bd.anchor_time = anchor;
    }
    tw_bind *b;
    tw_diag diag;
    if (tw_bind_new(w, &bd, &b, &diag) != TW_OK) return NULL;
    for (uint32_t k = 0; k < SENSORS; k++) {
        char sensor[64], entity[64];
        snprintf(sensor, sizeof sensor, "%s%03u", prefix, k);
        snprintf(entity, sizeof entity, "site/room-%03u", k);
        tw_bind_rule r = { .sensor = sensor, .entity = entity, .field = "Thermal.temperature", .unit = "degC" };
        if (tw_bind_add_rule(b, &r, &diag) != TW_OK) {
            fprintf(stderr, "twin bench bind: %s\n", diag.message);
            tw_bind_free(b);
            return NULL;
        }
    }
    return b;
}

static tw_bind_source_desc memory_desc(const input *in, tw_bind_format fmt, tw_bind_sensors *t)
{
    tw_bind_source_desc d;
    memset(&d, 0, sizeof d);
    d.data = in->text;
    d.size = in->size;
    d.name = "bench";
    d.format = fmt;
    d.sensors = t;
    d.log = &quiet_log;
    return d;
}

/* Samples/s reading alone; -1 on error. */
static double parse_only(const input *in, tw_bind_format fmt)
{
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    if (!t) return -1;
    tw_bind_source_desc d = memory_desc(in, fmt, t);
    tw_bind_source *s;
    tw_diag diag;
    uint64_t t0 = tw_clock_monotonic_ns();
    if (tw_bind_source_open(&d, &s, &diag) != TW_OK) {
        tw_bind_sensors_free(t);
        return -1;
    }
    tw_bind_sample batch[256];
    uint64_t count = 0;
    double sum = 0.0; /* touch the values, as the binder does */
    for (;;) {
        uint32_t n;
        if (tw_bind_source_read(s, batch, 256, &n) != TW_OK) break;
        for (uint32_t i = 0; i < n; i++) sum += batch[i].value;
        count += n;
        if (n == 0 && tw_bind_source_get_state(s) != TW_BIND_SOURCE_READY) break;
    }
    uint64_t t1 = tw_clock_monotonic_ns();
    tw_bind_source_free(s);
    tw_bind_sensors_free(t);
    if (count != in->samples || !(sum > 0)) return -1;
    return (double)count / ((double)(t1 - t0) * 1e-9);
}

/* Samples/s into Thermal.temperature, apply_until every simulated second; -1 on error. */
static double into_fields(const input *in, tw_bind_format fmt)
{
    tw_ecs_world *w = make_world();
    tw_bind *b = w ? make_binder(w, "s/", 0) : NULL;
    if (!b) {
        tw_ecs_world_free(w);
        return -1;
    }
    tw_bind_source_desc d = tw_bind_reader_defaults(b);
    d.data = in->text;
    d.size = in->size;
    d.name = "bench";
    d.format = fmt;
    tw_bind_source *s;
    tw_diag diag;
    double rate = -1;
    uint64_t t0 = tw_clock_monotonic_ns();
    if (tw_bind_source_open(&d, &s, &diag) == TW_OK && tw_bind_add_source(b, s) == TW_OK) {
        double anchor;
        tw_bind_prime(b, &anchor);
        for (double t = 0.0; !tw_bind_finished(b); t += 1.0) tw_bind_apply_until(b, w, t);
        uint64_t t1 = tw_clock_monotonic_ns();
        const tw_bind_counters *c = tw_bind_get_counters(b);
        if (c->applied + c->duplicate == in->samples && c->rejected == 0)
            rate = (double)c->applied / ((double)(t1 - t0) * 1e-9);
        else
            fprintf(stderr, "twin bench bind: %llu of %llu samples applied\n", (unsigned long long)c->applied,
                    (unsigned long long)in->samples);
    }
    tw_bind_free(b);
    tw_ecs_world_free(w);
    return rate;
}

static int bench_file(const char *name, tw_bind_format fmt, uint64_t n, int reps, double target, FILE *out)
{
    input in;
    if (!make_input(fmt, n, &in)) {
        fprintf(stderr, "twin bench bind: out of memory making the %s input\n", name);
        return 1;
    }
    double parse[REPS_MAX], bind[REPS_MAX];
    int ok = 1;
    parse_only(&in, fmt); /* warm-up: page in the text */
    for (int r = 0; r < reps; r++) {
        parse[r] = parse_only(&in, fmt);
        bind[r] = into_fields(&in, fmt);
        if (parse[r] < 0 || bind[r] < 0) ok = 0;
    }
    free(in.text);
    if (!ok) {
        fprintf(stderr, "twin bench bind: the %s run failed\n", name);
        return 1;
    }
    double value = bench_median(bind, reps), base = bench_median(parse, reps);
    char bench[32], tgt[64], extra[160];
    snprintf(bench, sizeof bench, "bind.%s", name);
    snprintf(tgt, sizeof tgt, "value >= %.0f", target);
    snprintf(extra, sizeof extra, "\"samples\":%llu,\"sensors\":%d,\"bytes\":%zu,\"reps\":%d", (unsigned long long)in.samples,
             SENSORS, in.size, reps);
    bench_line l = { bench, value, "samples/s", base, "parsing alone (the same bytes, no binder)", tgt,
                     value >= target, extra };
    bench_emit(out, &l);
    return 0;
}

/* ---- MQTT: a broker of our own --------------------------------------------------------------------- */

typedef struct broker {
    char dir[128], conf[192], log[192];
    int port;
    pid_t pid;
} broker;

static const char *mosquitto_path(char *buf, size_t size)
{
    const char *env = getenv("TWIN_MOSQUITTO");
    if (env && access(env, X_OK) == 0) return env;
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/usr/local/sbin", path ? path : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, size, "%s/mosquitto", d);
        if (access(buf, X_OK) == 0) return buf;
    }
    return NULL;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void broker_stop(broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        b->pid = 0;
    }
    if (b->dir[0]) {
        unlink(b->conf);
        unlink(b->log);
        rmdir(b->dir);
        b->dir[0] = '\0';
    }
}

static bool broker_start(broker *b, const char *bin, char *why, size_t why_size)
{
    memset(b, 0, sizeof *b);
    const char *tmp = getenv("TMPDIR");
    snprintf(b->dir, sizeof b->dir, "%s/twin_bench_mqtt_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(b->dir)) {
        b->dir[0] = '\0';
        snprintf(why, why_size, "cannot make a temporary directory: %s", strerror(errno));
        return false;
    }
    snprintf(b->conf, sizeof b->conf, "%s/mosquitto.conf", b->dir);
    snprintf(b->log, sizeof b->log, "%s/mosquitto.log", b->dir);
    b->port = free_port();
    FILE *f = fopen(b->conf, "w");
    if (!f || b->port <= 0) {
        if (f) fclose(f);
        snprintf(why, why_size, "cannot write the broker's configuration");
        broker_stop(b);
        return false;
    }
    /* Raised limits: with mosquitto's defaults a fast QoS 1 publisher loses messages. */
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
               "max_inflight_messages 0\nmax_queued_messages 0\nmax_queued_bytes 0\nlog_type error\n%s",
            b->port, geteuid() == 0 ? "user root\n" : "");
    fclose(f);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_size, "fork: %s", strerror(errno));
        broker_stop(b);
        return false;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(bin, "mosquitto", "-c", b->conf, (char *)NULL);
        _exit(127);
    }
    b->pid = pid;
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            b->pid = 0;
            snprintf(why, why_size, "mosquitto exited at start (see its log in %s)", b->log);
            return false;
        }
        if (port_accepts(b->port)) return true;
        struct timespec ts = { 0, 10000000L };
        nanosleep(&ts, NULL);
    }
    snprintf(why, why_size, "mosquitto did not accept connections in 5 s");
    broker_stop(b);
    return false;
}

/* ---- MQTT: the bare subscriber and the publisher --------------------------------------------------- */

typedef struct bare_sub {
    struct mosquitto *m;
    _Atomic uint64_t count;
    _Atomic uint64_t last_ns;
    _Atomic int subscribed;
} bare_sub;

static void bare_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    bare_sub *s = obj;
    (void)m;
    (void)msg;
    atomic_fetch_add(&s->count, 1);
    atomic_store(&s->last_ns, tw_clock_monotonic_ns());
}

static void bare_on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
    (void)m, (void)mid, (void)n, (void)granted;
    atomic_store(&((bare_sub *)obj)->subscribed, 1);
}

typedef struct publisher {
    int port, qos;
    uint64_t n;
    _Atomic uint64_t start_ns, end_ns;
    _Atomic uint64_t acked;
    _Atomic int stop;        /* set by the main thread when the subscribers are done */
    int failed;
} publisher;

static void pub_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m, (void)mid;
    atomic_fetch_add(&((publisher *)obj)->acked, 1);
}

static void *publish_main(void *arg)
{
    publisher *p = arg;
    struct mosquitto *m = mosquitto_new(NULL, true, p);
    if (!m || mosquitto_connect(m, "127.0.0.1", p->port, 30) != MOSQ_ERR_SUCCESS) {
        p->failed = 1;
        atomic_store(&p->end_ns, tw_clock_monotonic_ns());
        if (m) mosquitto_destroy(m);
        return NULL;
    }
    mosquitto_publish_callback_set(m, pub_on_publish);
    mosquitto_max_inflight_messages_set(m, 1000);
    atomic_store(&p->start_ns, tw_clock_monotonic_ns());
    char topic[32], payload[32];
    for (uint64_t i = 0; i < p->n; i++) {
        uint32_t k = (uint32_t)(i % SENSORS);
        snprintf(topic, sizeof topic, "bench/s/%03u", k);
        int len = snprintf(payload, sizeof payload, "%.2f", value_at(i / SENSORS, k));
        while (p->qos && i - atomic_load(&p->acked) >= 1000) mosquitto_loop(m, 1, 1);
        if (mosquitto_publish(m, NULL, topic, len, payload, p->qos, false) != MOSQ_ERR_SUCCESS) {
            p->failed = 1;
            break;
        }
        if ((i & 63) == 0) mosquitto_loop(m, 0, 1);
    }
    /* Until everything is written (QoS 0) or acknowledged (QoS 1). */
    for (int i = 0; i < 30000; i++) {
        bool done = p->qos ? atomic_load(&p->acked) >= p->n : !mosquitto_want_write(m);
        if (done) break;
        mosquitto_loop(m, 1, 1);
    }
    atomic_store(&p->end_ns, tw_clock_monotonic_ns());
    /* Connected until the subscribers are done, as a real device stays. */
    while (!atomic_load(&p->stop)) mosquitto_loop(m, 10, 1);
    mosquitto_disconnect(m);
    mosquitto_loop(m, 10, 1);
    mosquitto_destroy(m);
    return NULL;
}

static void emit_mqtt_null(FILE *out, const char *bench, const char *why)
{
    fprintf(stderr, "twin bench bind: %s skipped: %s\n", bench, why);
    bench_line l = { bench, 0, "messages/s", 0, "a bare libmosquitto subscriber, same messages, same run",
                     "ratio >= 0.9", -1, "\"met\":null" };
    bench_emit(out, &l);
}

static int bench_mqtt(const char *bench, int qos, uint64_t n, FILE *out)
{
    char buf[512], why[256];
    const char *bin = mosquitto_path(buf, sizeof buf);
    if (!bin) {
        emit_mqtt_null(out, bench, "the mosquitto binary is not installed (Debian package mosquitto)");
        return 0;
    }
    broker br;
    if (!broker_start(&br, bin, why, sizeof why)) {
        emit_mqtt_null(out, bench, why);
        return 0;
    }
    int rc = 1;
    double wall0 = tw_clock_unix_s();
    tw_ecs_world *w = make_world();
    tw_bind *b = w ? make_binder(w, "bench/s/", wall0 - 1.0) : NULL;
    bare_sub bare;
    memset(&bare, 0, sizeof bare);
    publisher p;
    memset(&p, 0, sizeof p);
    p.port = br.port;
    p.qos = qos;
    p.n = n;
    pthread_t thread;
    bool thread_started = false;
    mosquitto_lib_init();
    if (!b) goto done;
    char url[128];
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d/bench/#", br.port);
    tw_bind_mqtt_options o = { .qos = qos, .connect_wait = 5 };
    tw_diag diag;
    if (tw_bind_open_mqtt(b, url, &o, &diag) != TW_OK) {
        fprintf(stderr, "twin bench bind: %s\n", diag.message);
        goto done;
    }
    bare.m = mosquitto_new(NULL, true, &bare);
    if (!bare.m) goto done;
    mosquitto_message_callback_set(bare.m, bare_on_message);
    mosquitto_subscribe_callback_set(bare.m, bare_on_subscribe);
    if (mosquitto_connect(bare.m, "127.0.0.1", br.port, 30) != MOSQ_ERR_SUCCESS ||
        mosquitto_subscribe(bare.m, NULL, "bench/#", qos) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(bare.m) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "twin bench bind: the bare subscriber cannot connect\n");
        goto done;
    }
    for (int i = 0; i < 500 && !atomic_load(&bare.subscribed); i++) {
        struct timespec ts = { 0, 10000000L };
        nanosleep(&ts, NULL);
    }
    if (pthread_create(&thread, NULL, publish_main, &p) != 0) goto done;
    thread_started = true;

    /* The fixed-step loop, a tick every millisecond, following the wall clock. */
    const tw_bind_counters *c = tw_bind_get_counters(b);
    uint64_t ours_last_ns = 0, seen = 0;
    for (;;) {
        tw_bind_apply_until(b, w, tw_clock_unix_s() - (wall0 - 1.0));
        uint64_t now = tw_clock_monotonic_ns();
        if (c->applied != seen) {
            seen = c->applied;
            ours_last_ns = now;
        }
        if (seen >= n && atomic_load(&bare.count) >= n) break;
        /* Lost messages (QoS 0 may lose some): stop 3 s after the last progress anywhere. */
        uint64_t end = atomic_load(&p.end_ns), progress = end;
        if (ours_last_ns > progress) progress = ours_last_ns;
        if (atomic_load(&bare.last_ns) > progress) progress = atomic_load(&bare.last_ns);
        if (end && progress + 3000000000ull < now) break; /* (progress may be a bit after now: another thread) */
        struct timespec ts = { 0, 1000000L };
        nanosleep(&ts, NULL);
    }
    atomic_store(&p.stop, 1);
    pthread_join(thread, NULL);
    thread_started = false;
    if (p.failed) {
        fprintf(stderr, "twin bench bind: the publisher failed\n");
        goto done;
    }
    {
        uint64_t start = atomic_load(&p.start_ns);
        uint64_t bare_n = atomic_load(&bare.count), bare_last = atomic_load(&bare.last_ns);
        double ours = ours_last_ns > start ? (double)c->applied / ((double)(ours_last_ns - start) * 1e-9) : 0.0;
        double base = bare_last > start ? (double)bare_n / ((double)(bare_last - start) * 1e-9) : 0.0;
        double pub = (double)n / ((double)(atomic_load(&p.end_ns) - start) * 1e-9);
        tw_bind_mqtt_status st;
        memset(&st, 0, sizeof st);
        tw_bind_mqtt_status_get(tw_bind_source_at(b, 0), &st);
        char extra[400];
        snprintf(extra, sizeof extra,
                 "\"qos\":%d,\"messages\":%llu,\"applied\":%llu,\"bare_received\":%llu,\"late\":%llu,"
                 "\"dropped_overflow\":%llu,\"queue_peak\":%llu,\"publish_rate\":%.0f,\"topics\":%d",
                 qos, (unsigned long long)n, (unsigned long long)c->applied, (unsigned long long)bare_n,
                 (unsigned long long)c->late, (unsigned long long)st.dropped_overflow,
                 (unsigned long long)st.queue_peak, pub, SENSORS);
        double ratio = base > 0 ? ours / base : 0.0;
        bench_line l = { bench, ours, "messages/s", base, "a bare libmosquitto subscriber, same messages, same run",
                         "ratio >= 0.9", ratio >= 0.9, extra };
        bench_emit(out, &l);
        rc = 0;
    }
done:
    atomic_store(&p.stop, 1);
    if (thread_started) pthread_join(thread, NULL);
    if (bare.m) {
        mosquitto_disconnect(bare.m);
        mosquitto_loop_stop(bare.m, false);
        mosquitto_destroy(bare.m);
    }
    tw_bind_free(b);
    tw_ecs_world_free(w);
    mosquitto_lib_cleanup();
    broker_stop(&br);
    if (rc) fprintf(stderr, "twin bench bind: %s failed\n", bench);
    return rc;
}

int bench_bind(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else {
            fprintf(stderr, "twin bench bind: unknown option '%s' (known: --quick)\n", argv[i]);
            return 2;
        }
    }
    uint64_t n = quick ? 100000 : 2000000;
    int reps = quick ? 1 : 3;
    int rc = 0;
    rc |= bench_file("csv", TW_BIND_FORMAT_CSV, n, reps, 2000000.0, stdout);
    rc |= bench_file("jsonl", TW_BIND_FORMAT_JSONL, n, reps, 500000.0, stdout);
    rc |= bench_file("senml", TW_BIND_FORMAT_SENML, n, reps, 500000.0, stdout);
    rc |= bench_mqtt("bind.mqtt_qos0", 0, quick ? 20000 : 200000, stdout);
    rc |= bench_mqtt("bind.mqtt_qos1", 1, quick ? 5000 : 50000, stdout);
    return rc ? 1 : 0;
}
