/* twin/sim_components.h: the components the simulation reads and writes.
 *
 * Plain structs, registered with reflection by tw_sim_register_components,
 * so scenes, bindings, snapshots and the state hash reach every field by
 * name ("Thermal.temperature"). Units are SI except where a field says
 * otherwise: temperatures in degC (building practice; bindings convert),
 * energy in kWh and times of day in hours, as facility managers read them.
 * Fields marked "derived" are computed by systems: scenes neither give nor
 * save them, but they are simulated state (hashed, kept in keyframes).
 *
 * Coordinates: x, y on the storey's floor plan in metres, z up; every storey
 * shares the site's plan frame. */
#ifndef TWIN_SIM_COMPONENTS_H
#define TWIN_SIM_COMPONENTS_H

#include <stdint.h>

#include "twin/ecs.h"

enum {
    TW_SHAPE_MAX_POINTS = 32,
    TW_WAYPOINT_MAX_LINKS = 8,
    TW_AGENT_MAX_ROUTE = 16,
    TW_AGENT_MAX_PATH = 48,
    TW_REF_MAX = 96
};

/* Where an entity is. Spaces and walls carry their plan geometry in Shape and
 * keep position at the storey elevation; boxes sit centred on position. */
typedef struct Transform {
    float position[3]; /* m */
    float yaw;         /* rad, about +z */
} Transform;

typedef enum tw_shape_kind {
    TW_SHAPE_BOX = 0,      /* size[3] centred on Transform.position (z: base) */
    TW_SHAPE_EXTRUSION,    /* closed footprint polygon points[], extruded by height */
    TW_SHAPE_POLYLINE,     /* open polyline points[] (walls, conveyors), thickness x height */
    TW_SHAPE_MESH          /* a mesh file, placed by Transform */
} tw_shape_kind;

typedef struct Shape {
    int32_t kind;          /* tw_shape_kind */
    float size[3];         /* m, boxes */
    float height;          /* m, extrusions and polylines */
    float thickness;       /* m, polylines */
    uint32_t point_count;
    float points[TW_SHAPE_MAX_POINTS][2]; /* m, plan coordinates */
    char mesh[TW_REF_MAX]; /* mesh file path, or "cityjson:ID" / "ifc:GlobalId" */
} Shape;

/* A floor: one physics space per storey. */
typedef struct Storey {
    float elevation;       /* m, floor level */
    float height;          /* m, floor to floor */
} Storey;

/* A room or zone. */
typedef struct Space {
    uint32_t capacity;     /* people, for planning */
    float area;            /* m2, derived from the footprint */
    float volume;          /* m3, derived: area x storey height */
    float occupants;       /* people, derived from agent positions */
} Space;

/* A wall: its Shape is a polyline with thickness and height. Doors on it cut openings. */
typedef struct Wall {
    uint8_t exterior;      /* faces outside */
} Wall;

/* A door. People and AGVs open a shut door that is on their way (routing
 * treats it as passable); only a locked one stops them. A self-closing door
 * swings shut close_delay seconds after the doorway was last occupied. */
typedef struct Door {
    tw_entity wall;        /* the Wall it sits in */
    float offset;          /* m, from the wall's first point along the polyline to the door's centre */
    float width;           /* m */
    uint8_t open;          /* the state now (a scene gives the initial one); shut is solid */
    uint8_t locked;        /* stays shut whatever happens, and routing avoids it */
    uint8_t exit;          /* a building exit */
    uint8_t self_closing;  /* shuts by itself once the doorway has been clear for close_delay */
    float close_delay;     /* s */
    double close_at;       /* s, derived: when a self-closing door will shut; 0: not counting down */
    uint32_t passages;     /* derived: times an agent went through */
} Door;

/* Lumped RC thermal model of a space: C dT/dt = UA (T_out - T) + gains + HVAC. */
typedef struct Thermal {
    float temperature;        /* degC */
    float capacitance;        /* J/K, air plus furnishing mass */
    float ua;                 /* W/K, envelope conductance to outside */
    float gain_equipment;     /* W, constant plug loads */
    float gain_per_person;    /* W, sensible heat per occupant */
    float comfort_low;        /* degC */
    float comfort_high;       /* degC */
    double discomfort_hours;  /* h, derived: occupied hours outside the comfort band */
    float heat_flow;          /* W, derived: net heat into the space last tick */
} Thermal;

/* A space's HVAC terminal under a setpoint controller (proportional, saturating). */
typedef struct Hvac {
    uint8_t enabled;
    uint8_t failed;           /* a fault: no output at all */
    float heat_setpoint;      /* degC */
    float cool_setpoint;      /* degC */
    float max_heating;        /* W thermal */
    float max_cooling;        /* W thermal */
    float cop_heating;        /* thermal W per electrical W */
    float cop_cooling;
    float gain;               /* W/K, controller gain */
    float airflow;            /* m3/s outdoor air while running */
    float schedule_on;        /* h of day the schedule starts */
    float schedule_off;       /* h of day it stops */
    float output;             /* W thermal, derived (+ heating, - cooling) */
    float power;              /* W electrical, derived */
} Hvac;

/* CO2 balance of a space: V dC/dt = G n + Q (C_out - C). */
typedef struct Air {
    float co2;                /* ppm */
    float outdoor_co2;        /* ppm */
    float infiltration;       /* 1/h air changes with the HVAC off */
    float co2_per_person;     /* m3/s of CO2 per occupant */
} Air;

/* Outdoor conditions on the site: a daily sinusoid. */
typedef struct Weather {
    float mean;               /* degC */
    float amplitude;          /* K */
    float peak_hour;          /* h of day of the maximum */
    float temperature;        /* degC, derived: now */
} Weather;

/* An energy meter: sums the electrical power of every consumer below it in the hierarchy. */
typedef struct Meter {
    float base_load;          /* W always drawn (lighting, servers) while scheduled */
    float grid_factor;        /* kgCO2e per kWh */
    float power;              /* W, derived */
    double energy;            /* kWh, derived */
    double carbon;            /* kgCO2e, derived */
} Meter;

/* Something that draws power and heats its space. */
typedef struct Equipment {
    float rated_power;        /* W */
    float utilisation;        /* 0..1 while running */
    float heat_fraction;      /* 0..1 of power released into the space */
    uint8_t running;
    uint8_t failed;
    float schedule_on;        /* h */
    float schedule_off;       /* h; on == off means always on */
    float power;              /* W, derived */
} Equipment;

/* Wear and condition of a machine. */
typedef struct Health {
    float health;             /* 1 new .. 0 broken */
    float wear_per_hour;      /* health lost per running hour */
    float fail_below;         /* the machine fails when health drops below this */
    float vibration;          /* mm/s, derived: grows as health falls */
    float temperature;        /* degC, derived: bearing temperature */
} Health;

/* A production machine: makes one part per cycle onto its output conveyor. */
typedef struct Machine {
    float cycle_time;         /* s */
    float progress;           /* 0..1 of the current cycle, derived */
    tw_entity output;         /* a Conveyor, or null */
    uint32_t parts_made;      /* derived */
} Machine;

/* A belt: a polyline Shape whose segments carry a surface velocity. */
typedef struct Conveyor {
    float speed;              /* m/s along the polyline */
    uint8_t running;
    uint32_t parts_delivered; /* derived: parts that reached the end */
} Conveyor;

/* A part riding a conveyor. */
typedef struct Part {
    tw_entity conveyor;
    double made_at;           /* s of simulated time */
} Part;

/* A rigid body on its storey's floor plan (mirrors the physics engine each tick). */
typedef enum tw_body_shape { TW_BODY_CIRCLE = 0, TW_BODY_BOX } tw_body_shape;
typedef struct Body {
    int32_t shape;            /* tw_body_shape */
    float radius;             /* m, circles */
    float size[2];            /* m, boxes */
    float mass;               /* kg */
    float position[2];        /* m */
    float velocity[2];        /* m/s */
    float angle;              /* rad */
    float angular_velocity;   /* rad/s */
} Body;

typedef enum tw_agent_type { TW_AGENT_PERSON = 0, TW_AGENT_AGV } tw_agent_type;
typedef enum tw_agent_state {
    TW_AGENT_OUTSIDE = 0,     /* not in the building */
    TW_AGENT_IDLE,            /* at a goal */
    TW_AGENT_WALKING,
    TW_AGENT_WAITING          /* blocked: no route */
} tw_agent_state;

/* A person or an AGV. People follow a daily plan made from the scene seed
 * (arrive, desk, meetings, lunch, leave); AGVs loop over their route. */
typedef struct Agent {
    int32_t type;             /* tw_agent_type */
    float max_speed;          /* m/s */
    tw_entity home;           /* desk waypoint (people), first route point (AGVs) */
    tw_entity route[TW_AGENT_MAX_ROUTE]; /* AGV loop of waypoints */
    uint32_t route_length;
    float arrive_hour;        /* h, people: typical arrival */
    float leave_hour;         /* h, people: typical departure */
    uint32_t meetings;        /* meetings per day */
    int32_t state;            /* tw_agent_state, derived */
    tw_entity storey;         /* derived: current storey */
    tw_entity goal;           /* derived: current goal waypoint */
    tw_entity path[TW_AGENT_MAX_PATH]; /* derived: waypoints still to visit */
    uint32_t path_length;     /* derived */
    uint32_t route_position;  /* derived */
    double trip_started;      /* s, derived */
    uint32_t trips;           /* derived */
    double trip_time_total;   /* s, derived */
    double busy_until;        /* s, derived: on the stairs (walking) or dwelling at a stop (idle) until then */
} Agent;

/* A node of a storey's walking graph. A waypoint in a doorway names its door;
 * a stair or lift landing names the landing it connects to on another storey. */
typedef struct Waypoint {
    tw_entity links[TW_WAYPOINT_MAX_LINKS];
    uint32_t link_count;
    tw_entity door;           /* impassable while this door is shut */
    tw_entity portal;         /* waypoint on another storey reached from here */
    uint8_t exit;             /* leaving the building happens here */
    int32_t role;             /* tw_waypoint_role */
} Waypoint;

typedef enum tw_waypoint_role {
    TW_WAYPOINT_PATH = 0,
    TW_WAYPOINT_DESK,
    TW_WAYPOINT_MEETING,
    TW_WAYPOINT_KITCHEN,
    TW_WAYPOINT_ENTRANCE,
    TW_WAYPOINT_STAIR,
    TW_WAYPOINT_STATION       /* AGV stop */
} tw_waypoint_role;

/* Site-wide movement statistics, kept by the agent system. */
typedef struct Mobility {
    uint32_t trips;           /* derived */
    float trip_time_mean;     /* s, derived */
    float trip_time_max;      /* s, derived */
    uint32_t inside;          /* derived: agents in the building */
} Mobility;

typedef enum tw_evacuation_state {
    TW_EVACUATION_NONE = 0,   /* no evacuation (or the alarm was called off) */
    TW_EVACUATION_UNDER_WAY,  /* people are leaving */
    TW_EVACUATION_COMPLETE    /* everyone who was inside is out */
} tw_evacuation_state;

/* A site-wide evacuation, kept by the agent system. Setting active (a
 * scenario, a binding, a command) sounds the alarm: every person inside drops
 * their plan and walks to the nearest exit waypoint they can reach (locked
 * doors are impassable), and nobody enters while it stays set. Clearing it
 * calls the evacuation off: people go back to their plans. The derived fields
 * keep the figures of the latest evacuation. */
typedef struct Evacuation {
    uint8_t active;           /* the alarm sounds */
    int32_t state;            /* tw_evacuation_state, derived */
    double started_at;        /* s, derived: when active was seen set */
    double finished_at;       /* s, derived: when the last evacuee got out; 0 until then */
    float duration;           /* s, derived: finished_at - started_at, or the time so far while under way */
    uint32_t evacuees;        /* derived: people inside when it started */
    uint32_t remaining;       /* derived: people still inside */
} Evacuation;

typedef enum tw_alarm_state { TW_ALARM_NORMAL = 0, TW_ALARM_PENDING, TW_ALARM_ACTIVE } tw_alarm_state;

/* A threshold rule on any numeric field of its target (the parent when target is null):
 * active once the value stays above high (or below low) for min_duration; it clears
 * when the value is back inside by more than the hysteresis. */
typedef struct Alarm {
    tw_entity target;
    char field[TW_ECS_NAME_MAX]; /* "Health.vibration" */
    uint8_t use_high;
    uint8_t use_low;
    float high;
    float low;
    float hysteresis;
    float min_duration;       /* s */
    int32_t severity;         /* 0 info, 1 warning, 2 critical */
    int32_t state;            /* tw_alarm_state, derived */
    double since;             /* s, derived: when the condition began */
    uint32_t activations;     /* derived */
} Alarm;

/* Ids of the components above in one world (registration order makes them
 * the same in every world). */
typedef struct tw_sim_components {
    tw_component transform, shape, storey, space, wall, door, thermal, hvac, air, weather, meter,
        equipment, health, machine, conveyor, part, body, agent, waypoint, mobility, alarm, evacuation;
} tw_sim_components;

/* Registers every component above in w. Call once per world, before loading a scene. */
tw_status tw_sim_register_components(tw_ecs_world *w, tw_sim_components *out);

#endif
