/* Units a measurement may come in, and conversion between them.
 *
 * Each unit maps linearly onto its dimension's base unit:
 * base = value * scale + offset. Converting a to b is then
 * value * (sa / sb) + (oa - ob) / sb. Names follow the engine's reflection
 * (degC, kWh, ppm) with SenML's (RFC 8428/8798: Cel, %RH, /) and common
 * spellings as aliases. */
#include <math.h>
#include <string.h>

#include "bind_internal.h"

enum dimension {
    DIM_NONE = 0,
    DIM_TEMPERATURE,
    DIM_POWER,
    DIM_ENERGY,
    DIM_RATIO, /* dimensionless: fractions, percentages, counts */
    DIM_TIME,
    DIM_LENGTH,
    DIM_AREA,
    DIM_VOLUME,
    DIM_FLOW,
    DIM_PRESSURE,
    DIM_SPEED,
    DIM_ILLUMINANCE
};

typedef struct unit_def {
    const char *name;   /* canonical */
    int dim;
    double scale, offset;
} unit_def;

/* Index + 1 is the unit id. Order is part of the sample format only within
 * one process (ids are never stored), so it may change. */
static const unit_def units[] = {
    { "K", DIM_TEMPERATURE, 1.0, 0.0 },
    { "degC", DIM_TEMPERATURE, 1.0, 273.15 },
    { "degF", DIM_TEMPERATURE, 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0 },
    { "W", DIM_POWER, 1.0, 0.0 },
    { "kW", DIM_POWER, 1e3, 0.0 },
    { "MW", DIM_POWER, 1e6, 0.0 },
    { "mW", DIM_POWER, 1e-3, 0.0 },
    { "J", DIM_ENERGY, 1.0, 0.0 },
    { "kJ", DIM_ENERGY, 1e3, 0.0 },
    { "MJ", DIM_ENERGY, 1e6, 0.0 },
    { "Wh", DIM_ENERGY, 3600.0, 0.0 },
    { "kWh", DIM_ENERGY, 3.6e6, 0.0 },
    { "MWh", DIM_ENERGY, 3.6e9, 0.0 },
    { "1", DIM_RATIO, 1.0, 0.0 },
    { "%", DIM_RATIO, 1e-2, 0.0 },
    { "ppth", DIM_RATIO, 1e-3, 0.0 },
    { "ppm", DIM_RATIO, 1e-6, 0.0 },
    { "ppb", DIM_RATIO, 1e-9, 0.0 },
    { "count", DIM_RATIO, 1.0, 0.0 },
    { "s", DIM_TIME, 1.0, 0.0 },
    { "ms", DIM_TIME, 1e-3, 0.0 },
    { "min", DIM_TIME, 60.0, 0.0 },
    { "h", DIM_TIME, 3600.0, 0.0 },
    { "d", DIM_TIME, 86400.0, 0.0 },
    { "m", DIM_LENGTH, 1.0, 0.0 },
    { "mm", DIM_LENGTH, 1e-3, 0.0 },
    { "cm", DIM_LENGTH, 1e-2, 0.0 },
    { "km", DIM_LENGTH, 1e3, 0.0 },
    { "m2", DIM_AREA, 1.0, 0.0 },
    { "m3", DIM_VOLUME, 1.0, 0.0 },
    { "l", DIM_VOLUME, 1e-3, 0.0 },
    { "m3/s", DIM_FLOW, 1.0, 0.0 },
    { "m3/h", DIM_FLOW, 1.0 / 3600.0, 0.0 },
    { "l/s", DIM_FLOW, 1e-3, 0.0 },
    { "Pa", DIM_PRESSURE, 1.0, 0.0 },
    { "hPa", DIM_PRESSURE, 1e2, 0.0 },
    { "kPa", DIM_PRESSURE, 1e3, 0.0 },
    { "bar", DIM_PRESSURE, 1e5, 0.0 },
    { "mbar", DIM_PRESSURE, 1e2, 0.0 },
    { "m/s", DIM_SPEED, 1.0, 0.0 },
    { "km/h", DIM_SPEED, 1.0 / 3.6, 0.0 },
    { "lx", DIM_ILLUMINANCE, 1.0, 0.0 },
};
enum { UNIT_COUNT = sizeof units / sizeof units[0] };

typedef struct unit_alias {
    const char *alias;
    const char *name;
} unit_alias;

static const unit_alias aliases[] = {
    { "Cel", "degC" },  { "\xc2\xb0" "C", "degC" }, { "celsius", "degC" },
    { "\xc2\xb0" "F", "degF" }, { "fahrenheit", "degF" }, { "kelvin", "K" }, { "/", "1" },
    { "ratio", "1" },   { "%RH", "%" },   { "%EL", "%" },   { "percent", "%" }, { "people", "count" },
    { "L", "l" },       { "L/s", "l/s" }, { "lux", "lx" },  { "sec", "s" },
};

uint8_t tw_bind_unit_lookup(const char *name, size_t length)
{
    if (!name || length == 0) return TW_BIND_UNIT_NONE;
    for (uint32_t i = 0; i < UNIT_COUNT; i++) {
        if (strlen(units[i].name) == length && memcmp(units[i].name, name, length) == 0) return (uint8_t)(i + 1);
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strlen(aliases[i].alias) == length && memcmp(aliases[i].alias, name, length) == 0)
            return tw_bind_unit_lookup(aliases[i].name, strlen(aliases[i].name));
    }
    return TW_BIND_UNIT_UNKNOWN;
}

const char *tw_bind_unit_name(uint8_t unit)
{
    if (unit == TW_BIND_UNIT_NONE) return "";
    if (unit > UNIT_COUNT) return "?";
    return units[unit - 1].name;
}

int bind_unit_dimension(uint8_t unit)
{
    if (unit == TW_BIND_UNIT_NONE || unit > UNIT_COUNT) return DIM_NONE;
    return units[unit - 1].dim;
}

bool bind_unit_is_ratio(uint8_t unit) { return bind_unit_dimension(unit) == DIM_RATIO; }

uint8_t bind_unit_of_field(const char *unit)
{
    if (!unit || !*unit) return TW_BIND_UNIT_NONE;
    return tw_bind_unit_lookup(unit, strlen(unit));
}

bool tw_bind_unit_conversion(uint8_t from, uint8_t to, double *scale, double *offset)
{
    *scale = 1.0;
    *offset = 0.0;
    int df = bind_unit_dimension(from), dt = bind_unit_dimension(to);
    if (df == DIM_NONE || df != dt) return false;
    const unit_def *a = &units[from - 1], *b = &units[to - 1];
    if (from == to) return true;
    *scale = a->scale / b->scale;
    *offset = (a->offset - b->offset) / b->scale;
    return true;
}

bool tw_bind_unit_convert(double value, const char *from, const char *to, double *out)
{
    if (!from || !to) return false;
    double k, c;
    if (!tw_bind_unit_conversion(tw_bind_unit_lookup(from, strlen(from)), tw_bind_unit_lookup(to, strlen(to)), &k,
                                 &c))
        return false;
    *out = value * k + c;
    return true;
}
