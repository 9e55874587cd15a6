/* libFuzzer target for the CSV reader. The first two bytes choose options
 * (layout, header, delimiter, decimal comma, time format, record limit); the
 * rest is the file. Besides memory errors and undefined behaviour it checks
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
    d.format = TW_BIND_FORMAT_CSV;
    d.sensors = t;
    d.log = &quiet;
    d.csv.layout = (tw_bind_csv_layout)(o1 % 3);
    d.csv.header = (tw_bind_csv_header)((o1 >> 2) % 3);
    static const char delims[4] = { 0, ',', ';', '\t' };
    d.csv.delimiter = delims[(o1 >> 4) % 4];
    d.csv.decimal_comma = (o1 >> 6) & 1;
    if (d.csv.decimal_comma && d.csv.delimiter == ',') d.csv.delimiter = ';';
    d.csv.no_comments = o1 >> 7;
    d.time_format = (tw_bind_time_format)(o2 % 6);
    if ((o2 >> 3) & 1) d.csv.key_column = "key";
    if ((o2 >> 4) & 1) d.sensor_prefix = "p/";
    d.max_record = (o2 >> 5) ? 16u << (o2 >> 5) : 0;
    d.chunk_size = 1;
    read_all(&d, &a);
    d.chunk_size = size + 16;
    read_all(&d, &b);
    check("fuzz_bind_csv", &a, &b);
    tw_bind_sensors_free(t);
    return 0;
}
