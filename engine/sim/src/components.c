/* Reflection tables and default values of the simulation's components.
 * Defaults are what a typical office room, machine or person has, so a scene
 * gives only what differs. */
#include <stddef.h>

#include "twin/sim_components.h"

#define FLD(T, n, ty, unit, doc) { #n, ty, (uint32_t)offsetof(T, n), 1, 1, unit, NULL, 0, NULL, 0, doc }
#define FLD_D(T, n, ty, unit, doc) { #n, ty, (uint32_t)offsetof(T, n), 1, 1, unit, NULL, 0, NULL, TW_FIELD_DERIVED, doc }
#define FLD_V(T, n, tup, unit, doc) { #n, TW_TYPE_F32, (uint32_t)offsetof(T, n), 1, tup, unit, NULL, 0, NULL, 0, doc }
#define FLD_E(T, n, names, flags, doc) \
    { #n, TW_TYPE_ENUM, (uint32_t)offsetof(T, n), 1, 1, NULL, names, sizeof names / sizeof names[0], NULL, flags, doc }
#define FLD_S(T, n, doc) { #n, TW_TYPE_STR, (uint32_t)offsetof(T, n), sizeof(((T *)0)->n), 1, NULL, NULL, 0, NULL, 0, doc }
#define COUNT(a) (uint32_t)(sizeof a / sizeof a[0])

static const char *const shape_kinds[] = { "box", "extrusion", "polyline", "mesh" };
static const char *const body_shapes[] = { "circle", "box" };
static const char *const agent_types[] = { "person", "agv" };
static const char *const agent_states[] = { "outside", "idle", "walking", "waiting" };
static const char *const waypoint_roles[] = { "path", "desk", "meeting", "kitchen", "entrance", "stair", "station" };
static const char *const alarm_states[] = { "normal", "pending", "active" };
static const char *const evacuation_states[] = { "none", "under_way", "complete" };

static const tw_field transform_fields[] = {
    FLD_V(Transform, position, 3, "m", "position; z is the base"),
    FLD(Transform, yaw, TW_TYPE_F32, "rad", "rotation about +z"),
};
static const Transform transform_default = { { 0, 0, 0 }, 0 };

static const tw_field shape_fields[] = {
    FLD_E(Shape, kind, shape_kinds, 0, "box, extrusion, polyline or mesh"),
    FLD_V(Shape, size, 3, "m", "box size"),
    FLD(Shape, height, TW_TYPE_F32, "m", "extrusion or wall height"),
    FLD(Shape, thickness, TW_TYPE_F32, "m", "polyline thickness"),
    { "point_count", TW_TYPE_U32, (uint32_t)offsetof(Shape, point_count), 1, 1, NULL, NULL, 0, NULL, 0,
      "used entries of points" },
    { "points", TW_TYPE_F32, (uint32_t)offsetof(Shape, points), TW_SHAPE_MAX_POINTS, 2, "m", NULL, 0,
      "point_count", 0, "plan points (x, y)" },
    FLD_S(Shape, mesh, "mesh file, or cityjson:ID / ifc:GlobalId"),
};
static const Shape shape_default = { TW_SHAPE_BOX, { 1, 1, 1 }, 3.0f, 0.2f, 0, { { 0, 0 } }, "" };

static const tw_field storey_fields[] = {
    FLD(Storey, elevation, TW_TYPE_F32, "m", "floor level"),
    FLD(Storey, height, TW_TYPE_F32, "m", "floor to floor height"),
};
static const Storey storey_default = { 0.0f, 3.5f };

static const tw_field space_fields[] = {
    FLD(Space, capacity, TW_TYPE_U32, NULL, "people it is planned for"),
    FLD_D(Space, area, TW_TYPE_F32, "m2", "floor area"),
    FLD_D(Space, volume, TW_TYPE_F32, "m3", "air volume"),
    FLD_D(Space, occupants, TW_TYPE_F32, NULL, "people inside now"),
};
static const Space space_default = { 0, 0, 0, 0 };

static const tw_field wall_fields[] = {
    FLD(Wall, exterior, TW_TYPE_BOOL, NULL, "faces outside"),
};
static const Wall wall_default = { 0 };

static const tw_field door_fields[] = {
    FLD(Door, wall, TW_TYPE_ENTITY, NULL, "the wall it sits in"),
    FLD(Door, offset, TW_TYPE_F32, "m", "distance along the wall to the door centre"),
    FLD(Door, width, TW_TYPE_F32, "m", "clear width"),
    FLD(Door, open, TW_TYPE_BOOL, NULL, "open now (agents open a shut door on their way)"),
    FLD(Door, locked, TW_TYPE_BOOL, NULL, "locked shut: nobody opens it, routing avoids it"),
    FLD(Door, exit, TW_TYPE_BOOL, NULL, "a building exit"),
    FLD(Door, self_closing, TW_TYPE_BOOL, NULL, "shuts by itself once the doorway is clear"),
    FLD(Door, close_delay, TW_TYPE_F32, "s", "how long a self-closing door stays open after the doorway clears"),
    FLD_D(Door, close_at, TW_TYPE_F64, "s", "when a self-closing door will shut (0: not counting down)"),
    FLD_D(Door, passages, TW_TYPE_U32, NULL, "times an agent went through"),
};
static const Door door_default = { { 0 }, 0.0f, 0.9f, 1, 0, 0, 0, 5.0f, 0.0, 0 };

static const tw_field thermal_fields[] = {
    FLD(Thermal, temperature, TW_TYPE_F32, "degC", "air temperature"),
    FLD(Thermal, capacitance, TW_TYPE_F32, "J/K", "heat capacity of air and contents"),
    FLD(Thermal, ua, TW_TYPE_F32, "W/K", "envelope conductance to outside"),
    FLD(Thermal, gain_equipment, TW_TYPE_F32, "W", "constant internal gains"),
    FLD(Thermal, gain_per_person, TW_TYPE_F32, "W", "sensible heat per occupant"),
    FLD(Thermal, comfort_low, TW_TYPE_F32, "degC", "comfort band, low"),
    FLD(Thermal, comfort_high, TW_TYPE_F32, "degC", "comfort band, high"),
    FLD_D(Thermal, discomfort_hours, TW_TYPE_F64, "h", "occupied hours outside the comfort band"),
    FLD_D(Thermal, heat_flow, TW_TYPE_F32, "W", "net heat into the space"),
};
static const Thermal thermal_default = { 21.0f, 2.0e6f, 60.0f, 200.0f, 75.0f, 20.0f, 25.0f, 0.0, 0.0f };

static const tw_field hvac_fields[] = {
    FLD(Hvac, enabled, TW_TYPE_BOOL, NULL, "switched on"),
    FLD(Hvac, failed, TW_TYPE_BOOL, NULL, "faulted: no output"),
    FLD(Hvac, heat_setpoint, TW_TYPE_F32, "degC", "heat below this"),
    FLD(Hvac, cool_setpoint, TW_TYPE_F32, "degC", "cool above this"),
    FLD(Hvac, max_heating, TW_TYPE_F32, "W", "heating capacity"),
    FLD(Hvac, max_cooling, TW_TYPE_F32, "W", "cooling capacity"),
    FLD(Hvac, cop_heating, TW_TYPE_F32, NULL, "heating coefficient of performance"),
    FLD(Hvac, cop_cooling, TW_TYPE_F32, NULL, "cooling coefficient of performance"),
    FLD(Hvac, gain, TW_TYPE_F32, "W/K", "controller gain"),
    FLD(Hvac, airflow, TW_TYPE_F32, "m3/s", "outdoor air while running"),
    FLD(Hvac, schedule_on, TW_TYPE_F32, "h", "hour of day it starts"),
    FLD(Hvac, schedule_off, TW_TYPE_F32, "h", "hour of day it stops"),
    FLD_D(Hvac, output, TW_TYPE_F32, "W", "thermal output, + heating, - cooling"),
    FLD_D(Hvac, power, TW_TYPE_F32, "W", "electrical power"),
};
static const Hvac hvac_default = { 1, 0, 20.5f, 24.0f, 3000.0f, 3000.0f, 3.5f, 3.0f, 1500.0f, 0.05f,
                                   6.0f, 19.0f, 0.0f, 0.0f };

static const tw_field air_fields[] = {
    FLD(Air, co2, TW_TYPE_F32, "ppm", "CO2 concentration"),
    FLD(Air, outdoor_co2, TW_TYPE_F32, "ppm", "outdoor CO2"),
    FLD(Air, infiltration, TW_TYPE_F32, "1/h", "air changes per hour with the HVAC off"),
    FLD(Air, co2_per_person, TW_TYPE_F32, "m3/s", "CO2 exhaled per occupant"),
};
static const Air air_default = { 420.0f, 420.0f, 0.3f, 5.0e-6f };

static const tw_field weather_fields[] = {
    FLD(Weather, mean, TW_TYPE_F32, "degC", "daily mean outdoor temperature"),
    FLD(Weather, amplitude, TW_TYPE_F32, "K", "half the daily swing"),
    FLD(Weather, peak_hour, TW_TYPE_F32, "h", "hour of the daily maximum"),
    FLD_D(Weather, temperature, TW_TYPE_F32, "degC", "outdoor temperature now"),
};
static const Weather weather_default = { 12.0f, 5.0f, 15.0f, 12.0f };

static const tw_field meter_fields[] = {
    FLD(Meter, base_load, TW_TYPE_F32, "W", "constant load while the building is scheduled"),
    FLD(Meter, grid_factor, TW_TYPE_F32, "kgCO2e/kWh", "carbon intensity of the grid"),
    FLD_D(Meter, power, TW_TYPE_F32, "W", "power drawn now"),
    FLD_D(Meter, energy, TW_TYPE_F64, "kWh", "energy since the start"),
    FLD_D(Meter, carbon, TW_TYPE_F64, "kgCO2e", "emissions since the start"),
};
static const Meter meter_default = { 0.0f, 0.233f, 0.0f, 0.0, 0.0 };

static const tw_field equipment_fields[] = {
    FLD(Equipment, rated_power, TW_TYPE_F32, "W", "power at full utilisation"),
    FLD(Equipment, utilisation, TW_TYPE_F32, NULL, "fraction of rated power while running"),
    FLD(Equipment, heat_fraction, TW_TYPE_F32, NULL, "fraction of power released into the space"),
    FLD(Equipment, running, TW_TYPE_BOOL, NULL, "switched on"),
    FLD(Equipment, failed, TW_TYPE_BOOL, NULL, "broken down"),
    FLD(Equipment, schedule_on, TW_TYPE_F32, "h", "hour of day it starts"),
    FLD(Equipment, schedule_off, TW_TYPE_F32, "h", "hour of day it stops (equal to on: always)"),
    FLD_D(Equipment, power, TW_TYPE_F32, "W", "power drawn now"),
};
static const Equipment equipment_default = { 1000.0f, 0.8f, 1.0f, 1, 0, 0.0f, 0.0f, 0.0f };

static const tw_field health_fields[] = {
    FLD(Health, health, TW_TYPE_F32, NULL, "condition, 1 new to 0 broken"),
    FLD(Health, wear_per_hour, TW_TYPE_F32, "1/h", "condition lost per running hour"),
    FLD(Health, fail_below, TW_TYPE_F32, NULL, "fails when condition drops below this"),
    FLD_D(Health, vibration, TW_TYPE_F32, "mm/s", "vibration velocity (RMS)"),
    FLD_D(Health, temperature, TW_TYPE_F32, "degC", "bearing temperature"),
};
static const Health health_default = { 1.0f, 0.001f, 0.1f, 1.0f, 30.0f };

static const tw_field machine_fields[] = {
    FLD(Machine, cycle_time, TW_TYPE_F32, "s", "time to make one part"),
    FLD_D(Machine, progress, TW_TYPE_F32, NULL, "fraction of the current cycle"),
    FLD(Machine, output, TW_TYPE_ENTITY, NULL, "conveyor its parts go onto"),
    FLD_D(Machine, parts_made, TW_TYPE_U32, NULL, "parts made"),
};
static const Machine machine_default = { 30.0f, 0.0f, { 0 }, 0 };

static const tw_field conveyor_fields[] = {
    FLD(Conveyor, speed, TW_TYPE_F32, "m/s", "belt speed"),
    FLD(Conveyor, running, TW_TYPE_BOOL, NULL, "switched on"),
    FLD_D(Conveyor, parts_delivered, TW_TYPE_U32, NULL, "parts that reached the end"),
};
static const Conveyor conveyor_default = { 0.5f, 1, 0 };

static const tw_field part_fields[] = {
    FLD(Part, conveyor, TW_TYPE_ENTITY, NULL, "conveyor it rides"),
    FLD(Part, made_at, TW_TYPE_F64, "s", "simulated time it was made"),
};
static const Part part_default = { { 0 }, 0.0f };

static const tw_field body_fields[] = {
    FLD_E(Body, shape, body_shapes, 0, "circle or box"),
    FLD(Body, radius, TW_TYPE_F32, "m", "circle radius"),
    FLD_V(Body, size, 2, "m", "box size"),
    FLD(Body, mass, TW_TYPE_F32, "kg", "mass"),
    FLD_V(Body, position, 2, "m", "plan position"),
    FLD_V(Body, velocity, 2, "m/s", "plan velocity"),
    FLD(Body, angle, TW_TYPE_F32, "rad", "heading"),
    FLD(Body, angular_velocity, TW_TYPE_F32, "rad/s", "turn rate"),
};
static const Body body_default = { TW_BODY_CIRCLE, 0.3f, { 0.6f, 0.6f }, 70.0f, { 0, 0 }, { 0, 0 }, 0, 0 };

static const tw_field agent_fields[] = {
    FLD_E(Agent, type, agent_types, 0, "person or agv"),
    FLD(Agent, max_speed, TW_TYPE_F32, "m/s", "walking or driving speed"),
    FLD(Agent, home, TW_TYPE_ENTITY, NULL, "desk waypoint, or first AGV stop"),
    { "route", TW_TYPE_ENTITY, (uint32_t)offsetof(Agent, route), TW_AGENT_MAX_ROUTE, 1, NULL, NULL, 0,
      "route_length", 0, "AGV loop of waypoints" },
    { "route_length", TW_TYPE_U32, (uint32_t)offsetof(Agent, route_length), 1, 1, NULL, NULL, 0, NULL, 0,
      "used entries of route" },
    FLD(Agent, arrive_hour, TW_TYPE_F32, "h", "typical arrival"),
    FLD(Agent, leave_hour, TW_TYPE_F32, "h", "typical departure"),
    FLD(Agent, meetings, TW_TYPE_U32, NULL, "meetings a day"),
    FLD_E(Agent, state, agent_states, TW_FIELD_DERIVED, "what it is doing"),
    FLD_D(Agent, storey, TW_TYPE_ENTITY, NULL, "storey it is on"),
    FLD_D(Agent, goal, TW_TYPE_ENTITY, NULL, "waypoint it is heading for"),
    { "path", TW_TYPE_ENTITY, (uint32_t)offsetof(Agent, path), TW_AGENT_MAX_PATH, 1, NULL, NULL, 0,
      "path_length", TW_FIELD_DERIVED, "waypoints still to visit" },
    FLD_D(Agent, path_length, TW_TYPE_U32, NULL, "used entries of path"),
    FLD_D(Agent, route_position, TW_TYPE_U32, NULL, "next route entry"),
    FLD_D(Agent, trip_started, TW_TYPE_F64, "s", "when the current trip began"),
    FLD_D(Agent, trips, TW_TYPE_U32, NULL, "trips completed"),
    FLD_D(Agent, trip_time_total, TW_TYPE_F64, "s", "time spent on completed trips"),
    FLD_D(Agent, busy_until, TW_TYPE_F64, "s", "on the stairs or dwelling at a stop until then"),
};
static const Agent agent_default = { .type = TW_AGENT_PERSON, .max_speed = 1.3f, .arrive_hour = 8.5f,
                                     .leave_hour = 17.5f, .meetings = 2 };

static const tw_field waypoint_fields[] = {
    { "links", TW_TYPE_ENTITY, (uint32_t)offsetof(Waypoint, links), TW_WAYPOINT_MAX_LINKS, 1, NULL, NULL, 0,
      "link_count", 0, "waypoints reachable from here (links are two-way)" },
    { "link_count", TW_TYPE_U32, (uint32_t)offsetof(Waypoint, link_count), 1, 1, NULL, NULL, 0, NULL, 0,
      "used entries of links" },
    FLD(Waypoint, door, TW_TYPE_ENTITY, NULL, "door this waypoint passes through"),
    FLD(Waypoint, portal, TW_TYPE_ENTITY, NULL, "landing on another storey"),
    FLD(Waypoint, exit, TW_TYPE_BOOL, NULL, "agents leave the building here"),
    FLD_E(Waypoint, role, waypoint_roles, 0, "what the place is for"),
};
static const Waypoint waypoint_default = { .role = TW_WAYPOINT_PATH };

static const tw_field mobility_fields[] = {
    FLD_D(Mobility, trips, TW_TYPE_U32, NULL, "trips completed"),
    FLD_D(Mobility, trip_time_mean, TW_TYPE_F32, "s", "mean trip time"),
    FLD_D(Mobility, trip_time_max, TW_TYPE_F32, "s", "longest trip"),
    FLD_D(Mobility, inside, TW_TYPE_U32, NULL, "agents in the building"),
};
static const Mobility mobility_default = { 0, 0, 0, 0 };

static const tw_field alarm_fields[] = {
    FLD(Alarm, target, TW_TYPE_ENTITY, NULL, "entity watched (null: the parent)"),
    FLD_S(Alarm, field, "watched field, Component.field"),
    FLD(Alarm, use_high, TW_TYPE_BOOL, NULL, "alarm above high"),
    FLD(Alarm, use_low, TW_TYPE_BOOL, NULL, "alarm below low"),
    FLD(Alarm, high, TW_TYPE_F32, NULL, "upper threshold, in the field's unit"),
    FLD(Alarm, low, TW_TYPE_F32, NULL, "lower threshold, in the field's unit"),
    FLD(Alarm, hysteresis, TW_TYPE_F32, NULL, "how far back inside the value must come to clear"),
    FLD(Alarm, min_duration, TW_TYPE_F32, "s", "how long the condition must hold"),
    FLD(Alarm, severity, TW_TYPE_I32, NULL, "0 info, 1 warning, 2 critical"),
    FLD_E(Alarm, state, alarm_states, TW_FIELD_DERIVED, "normal, pending or active"),
    FLD_D(Alarm, since, TW_TYPE_F64, "s", "when the condition began"),
    FLD_D(Alarm, activations, TW_TYPE_U32, NULL, "times it became active"),
};
static const Alarm alarm_default = { .use_high = 1, .high = 0.0f, .hysteresis = 0.0f, .min_duration = 0.0f,
                                     .severity = 1 };

static const tw_field evacuation_fields[] = {
    FLD(Evacuation, active, TW_TYPE_BOOL, NULL, "the alarm sounds: people inside leave by the nearest exit"),
    FLD_E(Evacuation, state, evacuation_states, TW_FIELD_DERIVED, "none, under_way or complete"),
    FLD_D(Evacuation, started_at, TW_TYPE_F64, "s", "when the evacuation started"),
    FLD_D(Evacuation, finished_at, TW_TYPE_F64, "s", "when the last evacuee got out (0 until then)"),
    FLD_D(Evacuation, duration, TW_TYPE_F32, "s", "evacuation time (so far, while under way)"),
    FLD_D(Evacuation, evacuees, TW_TYPE_U32, NULL, "people inside when it started"),
    FLD_D(Evacuation, remaining, TW_TYPE_U32, NULL, "people still inside"),
};
static const Evacuation evacuation_default = { 0, TW_EVACUATION_NONE, 0.0, 0.0, 0.0f, 0, 0 };

#define DESC(T, fields, def, doc) { #T, sizeof(T), _Alignof(T), fields, COUNT(fields), &def, doc }

tw_status tw_sim_register_components(tw_ecs_world *w, tw_sim_components *out)
{
    /* Order matters: it fixes the ids, and must match tw_sim_components. */
    const tw_ecs_component_desc descs[] = {
        DESC(Transform, transform_fields, transform_default, "placement"),
        DESC(Shape, shape_fields, shape_default, "geometry"),
        DESC(Storey, storey_fields, storey_default, "a floor"),
        DESC(Space, space_fields, space_default, "a room or zone"),
        DESC(Wall, wall_fields, wall_default, "a wall (polyline shape)"),
        DESC(Door, door_fields, door_default, "a door in a wall"),
        DESC(Thermal, thermal_fields, thermal_default, "lumped RC room temperature"),
        DESC(Hvac, hvac_fields, hvac_default, "heating and cooling under a setpoint controller"),
        DESC(Air, air_fields, air_default, "CO2 balance"),
        DESC(Weather, weather_fields, weather_default, "outdoor conditions"),
        DESC(Meter, meter_fields, meter_default, "energy and carbon meter"),
        DESC(Equipment, equipment_fields, equipment_default, "a power consumer"),
        DESC(Health, health_fields, health_default, "machine condition"),
        DESC(Machine, machine_fields, machine_default, "makes parts"),
        DESC(Conveyor, conveyor_fields, conveyor_default, "a belt"),
        DESC(Part, part_fields, part_default, "a part on a conveyor"),
        DESC(Body, body_fields, body_default, "a rigid body on the floor plan"),
        DESC(Agent, agent_fields, agent_default, "a person or AGV"),
        DESC(Waypoint, waypoint_fields, waypoint_default, "a node of the walking graph"),
        DESC(Mobility, mobility_fields, mobility_default, "site movement statistics"),
        DESC(Alarm, alarm_fields, alarm_default, "a threshold alarm"),
        DESC(Evacuation, evacuation_fields, evacuation_default, "a site-wide evacuation"),
    };
    tw_component *ids = &out->transform;
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        tw_status st = tw_ecs_component_register(w, &descs[i], &ids[i]);
        if (st) return st;
    }
    return TW_OK;
}
