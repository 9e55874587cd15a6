/* mqtt_internal.h: what the MQTT source's files share (not installed).
 *
 * mqtt_decode.c turns one MQTT message (topic + payload bytes) into samples
 * and parses mqtt:// URLs; it knows nothing of libmosquitto, so the fuzz
 * target and the tests use it alone. mqtt.c is the client: the libmosquitto
 * network thread, the receive queue and the source's vtable. */
#ifndef TWIN_BIND_MQTT_INTERNAL_H
#define TWIN_BIND_MQTT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bind_internal.h"
#include "twin/bind_source.h"

/* ---- payloads (mqtt_decode.c) ------------------------------------------------- */

/* Receives each sample of a message; non-OK (TW_ERR_NOMEM) stops decoding. */
typedef tw_status (*bind_mqtt_emit)(void *user, const tw_bind_sample *s);

typedef struct bind_mqtt_decoder {
    tw_bind_sensors *sensors;
    tw_bind_source *src;            /* errors are reported here; NULL: counted nowhere, not formatted */
    tw_bind_payload payload;
    tw_bind_time_format time_format;
    const char *prefix;             /* prepended to every sensor id; borrowed */
    size_t prefix_len;
    const char *k_time, *k_sensor, *k_value, *k_quality, *k_unit; /* borrowed */
    uint64_t errors;                /* malformed samples produced */
    bj_member members[BJ_MAX_MEMBERS];
    char scratch[2 * TW_BIND_SENSOR_NAME_MAX];
    char name[TW_BIND_SENSOR_NAME_MAX];
} bind_mqtt_decoder;

/* Sets the defaults (keys time, sensor, value, quality, unit; payload AUTO). */
void bind_mqtt_decoder_init(bind_mqtt_decoder *d, tw_bind_sensors *sensors);

/* Decodes one message received at `arrival` (Unix s): a bare number (the
 * topic is the sensor, measured at arrival), a JSON object (keys as
 * configured; no sensor key: the topic; no time key: the arrival), or a SenML
 * pack or record (times below 2^28 s relative to the arrival; a record with
 * no name: the topic). Every sample goes to emit, malformed ones included
 * (with a reason, reported to d->src); an empty payload (a cleared retained
 * message) is one IGNORED sample. `number` becomes each sample's line. */
tw_status bind_mqtt_decode(bind_mqtt_decoder *d, const char *topic, size_t topic_len, const void *payload,
                           size_t payload_len, double arrival, uint64_t number, bind_mqtt_emit emit, void *user);

/* ---- URLs (mqtt_decode.c) -------------------------------------------------------- */

enum { BIND_MQTT_URL_TOPICS = 8, BIND_MQTT_TEXT = 256, BIND_MQTT_TOPIC_MAX = 1024 };

/* mqtt[s]://[user[:password]@]host[:port][/topic-filter][?key=value&...]
 * Percent escapes are decoded in the user, password, filter and values.
 * Query keys: topic (repeatable), qos, client_id, clean, keepalive, payload,
 * ca, capath, cert, key, insecure. Unset numbers are -1. */
typedef struct bind_mqtt_url {
    bool tls;
    char host[BIND_MQTT_TEXT];
    int port;                               /* 1883 / 8883 when absent */
    bool has_user, has_password;
    char user[BIND_MQTT_TEXT], password[BIND_MQTT_TEXT];
    uint32_t topic_count;                   /* the path's filter first, then topic= */
    char topics[BIND_MQTT_URL_TOPICS][BIND_MQTT_TOPIC_MAX];
    int qos, clean, insecure;               /* -1: not given */
    double keepalive;                       /* -1: not given */
    int payload;                            /* tw_bind_payload, -1: not given */
    char client_id[BIND_MQTT_TEXT], ca_file[BIND_MQTT_TEXT], ca_path[BIND_MQTT_TEXT];
    char cert_file[BIND_MQTT_TEXT], key_file[BIND_MQTT_TEXT];
} bind_mqtt_url;

/* False with a sentence in msg when the URL cannot be read. */
bool bind_mqtt_url_parse(const char *url, bind_mqtt_url *out, char *msg, size_t msg_size);

#endif
