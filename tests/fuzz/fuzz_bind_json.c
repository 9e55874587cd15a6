/* libFuzzer target for the JSON Lines and SenML readers. The first byte
 * chooses the format and options (time format, keys, record limit, SenML
 * "now"); the rest is the input. Besides memory errors and undefined behaviour it checks
 * the reader's promises:
 *   - every sample has a known kind, and a malformed one a reader's reason;
 *   - the samples do not depend on how the input was cut into chunks: one
 *     byte at a time gives exactly what one big read gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_bind_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t o1 = data[0], o2 = data[1];
    static run a, b;
    tw_bind_sensors *t = tw_bind_sensors_new(NULL);
    if (!t) abort();
    tw_bind_source_desc d;
    memset(&d, 0, sizeof d);
    d.data = data + 2;
    d.size = size - 2;
    d.format = (o1 & 1) ? TW_BIND_FORMAT_SENML : TW_BIND_FORMAT_JSONL;
    d.sensors = t;
    d.log = &quiet;
    d.time_format = (tw_bind_time_format)((o1 >> 1) % 6);
    if ((o1 >> 4) & 1) {
        d.json.time_key = "t";
        d.json.sensor_key = "n";
        d.json.value_key = "v";
    }
    if ((o1 >> 5) & 1) d.json.senml_now = 1.7e9;
    if ((o1 >> 6) & 1) d.sensor_prefix = "p/";
    d.max_record = (o2 & 7) ? 16u << (o2 & 7) : 0;
    d.chunk_size = 1;
    read_all(&d, &a);
    d.chunk_size = size + 16;
    read_all(&d, &b);
    check("fuzz_bind_json", &a, &b);
    tw_bind_sensors_free(t);
    return 0;
}
