/* Test helpers for the MQTT source: a real Mosquitto broker per test, and a
 * synchronous libmosquitto publisher.
 *
 * A broker runs `mosquitto -c <generated conf>` from a fresh temporary
 * directory (config, log, persistence, certificates), listening on
 * 127.0.0.1 at a port that was free a moment before. broker_start waits until
 * it accepts connections; broker_stop kills it and reaps it. Brokers die with
 * the test process (PR_SET_PDEATHSIG) and are stopped at exit, so a failing
 * or crashing test leaves none behind. */
#ifndef TWIN_TEST_MQTT_BROKER_H
#define TWIN_TEST_MQTT_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The mosquitto binary ($TWIN_MOSQUITTO, /usr/sbin/mosquitto, or on PATH); NULL if absent. */
const char *broker_binary(void);
/* A program on PATH (or in /usr/sbin, /usr/bin), e.g. "openssl"; NULL if absent. */
const char *find_program(const char *name, char *buf, size_t size);

typedef struct test_broker {
    char dir[128];       /* its temporary directory */
    char conf[192];
    char log[192];
    int port;
    pid_t pid;           /* 0 when not running */
} test_broker;

/* Makes the directory and picks a free port. */
bool broker_init(test_broker *b);
/* Writes the config: the listener on b->port, persistence in b->dir, raised
 * queue limits (lossless QoS 1 with a fast publisher), then `extra` lines. */
bool broker_write_conf(test_broker *b, const char *extra);
/* Starts it and waits (up to 5 s) until it accepts connections. */
bool broker_start(test_broker *b);
/* Sends sig (SIGTERM saves persistence, SIGKILL does not) and reaps it. */
void broker_stop(test_broker *b, int sig);
/* Stops it and removes the directory. */
void broker_cleanup(test_broker *b);
/* Path of a file in the broker's directory. */
const char *broker_path(const test_broker *b, const char *name, char *buf, size_t size);
/* Runs a shell command; true when it exits 0. Output goes to the broker's directory's cmd.log. */
bool broker_run(const test_broker *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints the broker's log to stderr (for failures). */
void broker_dump_log(const test_broker *b);

/* A publisher in the calling thread (no network thread). */
typedef struct test_pub {
    struct mosquitto *m;
    int port;
    bool connected;
    int connack;          /* CONNACK code of the last attempt (-1: none yet) */
    uint64_t published, acked;
    int inflight;         /* QoS 1 messages not acknowledged yet */
} test_pub;

typedef struct test_pub_desc {
    int port;
    const char *client_id;   /* NULL: a random one */
    bool persistent;
    const char *username, *password;
    const char *ca_file;     /* TLS when set */
} test_pub_desc;

/* Connects and waits for the CONNACK (up to timeout s). */
bool pub_open(test_pub *p, const test_pub_desc *d, double timeout);
/* Publishes; at QoS 1 first waits while `window` messages are in flight. */
bool pub_send(test_pub *p, const char *topic, const void *payload, size_t len, int qos, int window);
bool pub_sendf(test_pub *p, const char *topic, int qos, int window, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Runs the network loop for about ms milliseconds; reconnects when the connection is gone. */
void pub_pump(test_pub *p, int ms);
/* Waits until every QoS 1 message is acknowledged (false on timeout). */
bool pub_flush(test_pub *p, double timeout);
void pub_close(test_pub *p);

/* Wall-clock seconds (monotonic) for timeouts. */
double now_s(void);
void sleep_s(double s);

#endif
