#!/usr/bin/env python3
"""Generates twin's two shipped scenes, checks them and draws their plans.

    python3 tools/gen_scenes.py            write scenes/office.twin.json, scenes/factory.twin.json
                                           and the plans docs/img/office.svg, docs/img/factory.svg
    python3 tools/gen_scenes.py --check    validate the scene files on disk (and say whether they
                                           are what this script would write); exit 1 on any error
    python3 tools/gen_scenes.py --check FILE...   validate other twin-scene/1 files

Python 3 standard library only. The output is deterministic: the only randomness (people's
desks, hours, speeds and sizes) comes from random.Random(SEED), so running the script twice
gives the same bytes.

The scenes are in the twin-scene/1 format (docs/scene-format.md). Component and field names,
units and defaults mirror the reflection tables in engine/sim/src/components.c (SCHEMA below;
--check compares the two). Entities carry only fields that differ from the defaults, never a
derived field, and never a length field (point_count, link_count, route_length: the length of
the array sets them).

Geometry conventions the physics and routing rely on (docs/scenes.md explains them for users):
  * x, y are plan metres shared by every storey; z = the storey's elevation (Transform).
  * a space (room) is an extrusion whose footprint is counter-clockwise and drawn on the wall
    centre lines; walls are polylines (thickness, height) and doors cut openings in them at
    Door.offset metres along the polyline;
  * the walking graph goes room node - doorway node (on the wall line, naming its door) -
    corridor node, so no link crosses a wall except through the door of a doorway node on it;
    stair landings on two storeys name each other in Waypoint.portal.

The validator (--check) re-reads the JSON and checks, among other things: known components and
fields with the right types; references resolve; sibling names are unique; links are walkable
(no wall, machine or conveyor crossed except through the door of the link's doorway node, and a
body of the storey's agent radius clears every obstacle along the link); doorway nodes lie in
their door's opening; every person's home is a desk inside an office; every space and every
waypoint is reachable from an entrance (also with the main stair's doors locked); footprints are
counter-clockwise and simple and do not overlap.
"""

import argparse
import json
import math
import os
import random
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SEED = 1

# --------------------------------------------------------------------------------------------
# Schema: a mirror of engine/sim/src/components.c. Each field: (name, type, default, flags).
# Types: f32 f64 i32 u32 bool str entity, "vecN" (a flat array of N floats), "points" (array of
# [x, y], len field point_count), "refs:N" (array of up to N paths), ("enum", names).
# Flags: "D" derived (never written), "L" an array length (never written: the array sets it).
# --------------------------------------------------------------------------------------------

SHAPE_KINDS = ["box", "extrusion", "polyline", "mesh"]
BODY_SHAPES = ["circle", "box"]
AGENT_TYPES = ["person", "agv"]
AGENT_STATES = ["outside", "idle", "walking", "waiting"]
WAYPOINT_ROLES = ["path", "desk", "meeting", "kitchen", "entrance", "stair", "station"]
ALARM_STATES = ["normal", "pending", "active"]
EVACUATION_STATES = ["none", "under_way", "complete"]
KINDS = ["site", "building", "storey", "space", "element", "equipment", "sensor", "agent",
         "waypoint", "alarm", "group"]
AGGREGATES = ["value", "sum", "mean", "min", "max"]

SCHEMA = {
    "Transform": [("position", "vec3", [0, 0, 0], ""), ("yaw", "f32", 0, "")],
    "Shape": [("kind", ("enum", SHAPE_KINDS), "box", ""), ("size", "vec3", [1, 1, 1], ""),
              ("height", "f32", 3.0, ""), ("thickness", "f32", 0.2, ""),
              ("point_count", "u32", 0, "L"), ("points", "points", [], ""), ("mesh", "str", "", "")],
    "Storey": [("elevation", "f32", 0.0, ""), ("height", "f32", 3.5, "")],
    "Space": [("capacity", "u32", 0, ""), ("area", "f32", 0, "D"), ("volume", "f32", 0, "D"),
              ("occupants", "f32", 0, "D")],
    "Wall": [("exterior", "bool", False, "")],
    "Door": [("wall", "entity", "", ""), ("offset", "f32", 0.0, ""), ("width", "f32", 0.9, ""),
             ("open", "bool", True, ""), ("locked", "bool", False, ""), ("exit", "bool", False, ""),
             ("self_closing", "bool", False, ""), ("close_delay", "f32", 5.0, ""), ("close_at", "f64", 0, "D"),
             ("passages", "u32", 0, "D")],
    "Thermal": [("temperature", "f32", 21.0, ""), ("capacitance", "f32", 2.0e6, ""),
                ("ua", "f32", 60.0, ""), ("gain_equipment", "f32", 200.0, ""),
                ("gain_per_person", "f32", 75.0, ""), ("comfort_low", "f32", 20.0, ""),
                ("comfort_high", "f32", 25.0, ""), ("discomfort_hours", "f64", 0, "D"),
                ("heat_flow", "f32", 0, "D")],
    "Hvac": [("enabled", "bool", True, ""), ("failed", "bool", False, ""),
             ("heat_setpoint", "f32", 20.5, ""), ("cool_setpoint", "f32", 24.0, ""),
             ("max_heating", "f32", 3000.0, ""), ("max_cooling", "f32", 3000.0, ""),
             ("cop_heating", "f32", 3.5, ""), ("cop_cooling", "f32", 3.0, ""),
             ("gain", "f32", 1500.0, ""), ("airflow", "f32", 0.05, ""),
             ("schedule_on", "f32", 6.0, ""), ("schedule_off", "f32", 19.0, ""),
             ("output", "f32", 0, "D"), ("power", "f32", 0, "D")],
    "Air": [("co2", "f32", 420.0, ""), ("outdoor_co2", "f32", 420.0, ""),
            ("infiltration", "f32", 0.3, ""), ("co2_per_person", "f32", 5.0e-6, "")],
    "Weather": [("mean", "f32", 12.0, ""), ("amplitude", "f32", 5.0, ""), ("peak_hour", "f32", 15.0, ""),
                ("temperature", "f32", 12.0, "D")],
    "Meter": [("base_load", "f32", 0.0, ""), ("grid_factor", "f32", 0.233, ""), ("power", "f32", 0, "D"),
              ("energy", "f64", 0, "D"), ("carbon", "f64", 0, "D")],
    "Equipment": [("rated_power", "f32", 1000.0, ""), ("utilisation", "f32", 0.8, ""),
                  ("heat_fraction", "f32", 1.0, ""), ("running", "bool", True, ""),
                  ("failed", "bool", False, ""), ("schedule_on", "f32", 0.0, ""),
                  ("schedule_off", "f32", 0.0, ""), ("power", "f32", 0, "D")],
    "Health": [("health", "f32", 1.0, ""), ("wear_per_hour", "f32", 0.001, ""),
               ("fail_below", "f32", 0.1, ""), ("vibration", "f32", 1.0, "D"),
               ("temperature", "f32", 30.0, "D")],
    "Machine": [("cycle_time", "f32", 30.0, ""), ("progress", "f32", 0, "D"), ("output", "entity", "", ""),
                ("parts_made", "u32", 0, "D")],
    "Conveyor": [("speed", "f32", 0.5, ""), ("running", "bool", True, ""),
                 ("parts_delivered", "u32", 0, "D")],
    "Part": [("conveyor", "entity", "", ""), ("made_at", "f32", 0.0, "")],
    "Body": [("shape", ("enum", BODY_SHAPES), "circle", ""), ("radius", "f32", 0.3, ""),
             ("size", "vec2", [0.6, 0.6], ""), ("mass", "f32", 70.0, ""), ("position", "vec2", [0, 0], ""),
             ("velocity", "vec2", [0, 0], ""), ("angle", "f32", 0, ""), ("angular_velocity", "f32", 0, "")],
    "Agent": [("type", ("enum", AGENT_TYPES), "person", ""), ("max_speed", "f32", 1.3, ""),
              ("home", "entity", "", ""), ("route", "refs:16", [], ""), ("route_length", "u32", 0, "L"),
              ("arrive_hour", "f32", 8.5, ""), ("leave_hour", "f32", 17.5, ""), ("meetings", "u32", 2, ""),
              ("state", ("enum", AGENT_STATES), "outside", "D"), ("storey", "entity", "", "D"),
              ("goal", "entity", "", "D"), ("path", "refs:48", [], "D"), ("path_length", "u32", 0, "D"),
              ("route_position", "u32", 0, "D"), ("trip_started", "f32", 0, "D"), ("trips", "u32", 0, "D"),
              ("trip_time_total", "f64", 0, "D"), ("busy_until", "f64", 0, "D")],
    "Waypoint": [("links", "refs:8", [], ""), ("link_count", "u32", 0, "L"), ("door", "entity", "", ""),
                 ("portal", "entity", "", ""), ("exit", "bool", False, ""),
                 ("role", ("enum", WAYPOINT_ROLES), "path", "")],
    "Mobility": [("trips", "u32", 0, "D"), ("trip_time_mean", "f32", 0, "D"),
                 ("trip_time_max", "f32", 0, "D"), ("inside", "u32", 0, "D")],
    "Alarm": [("target", "entity", "", ""), ("field", "str", "", ""), ("use_high", "bool", True, ""),
              ("use_low", "bool", False, ""), ("high", "f32", 0.0, ""), ("low", "f32", 0.0, ""),
              ("hysteresis", "f32", 0.0, ""), ("min_duration", "f32", 0.0, ""), ("severity", "i32", 1, ""),
              ("state", ("enum", ALARM_STATES), "normal", "D"), ("since", "f32", 0, "D"),
              ("activations", "u32", 0, "D")],
    "Evacuation": [("active", "bool", False, ""), ("state", ("enum", EVACUATION_STATES), "none", "D"),
                   ("started_at", "f64", 0, "D"), ("finished_at", "f64", 0, "D"), ("duration", "f32", 0, "D"),
                   ("evacuees", "u32", 0, "D"), ("remaining", "u32", 0, "D")],
}
FIELDS = {c: {f[0]: f for f in fs} for c, fs in SCHEMA.items()}
NAME_MAX = 63        # TW_ECS_NAME_MAX - 1
PATH_MAX = 511       # TW_ECS_PATH_MAX - 1
STR_MAX = {"Shape.mesh": 95, "Alarm.field": 63}


def default_of(comp, field):
    return FIELDS[comp][field][2]


# --------------------------------------------------------------------------------------------
# Building blocks: entities, components, numbers
# --------------------------------------------------------------------------------------------

def r(x, nd=3):
    """Rounds for the file: short decimals, and integers written as integers."""
    v = round(float(x), nd)
    return 0 if v == 0 else v


def entity(name, kind, components=None, children=None, external_id=None):
    """An entity as the canonical writer lays it out: components in registration order (the
    order of SCHEMA), and no "components" or "children" key when there are none."""
    e = {"name": name, "kind": kind}
    if external_id:
        e["external_id"] = external_id
    if components:
        e["components"] = {c: components[c] for c in SCHEMA if c in components}
    if children:
        e["children"] = children
    return e


def comp(name, **fields):
    """A component with only the fields that differ from the default (None means "leave out"),
    in the reflection table's order."""
    for k in fields:
        f = FIELDS[name][k]  # a KeyError here is a typo in this script
        assert "D" not in f[3] and "L" not in f[3], f"{name}.{k} must not be written"
    return {f[0]: fields[f[0]] for f in SCHEMA[name]
            if f[0] in fields and fields[f[0]] is not None and fields[f[0]] != f[2]}


def comps(**named):
    return {k: v for k, v in named.items() if v is not None}


def fmt_num(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def to_json(v, indent=0):
    """JSON laid out as engine/scene/src/scene_save.c writes it: 2-space indent, a single tuple
    ([x, y, z]) on one line, an array of tuples or of paths one element a line."""
    pad, pad2 = "  " * indent, "  " * (indent + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{pad2}{json.dumps(k)}: {to_json(x, indent + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        if all(isinstance(x, (int, float)) for x in v):
            return "[" + ", ".join(fmt_num(x) for x in v) + "]"
        return "[\n" + ",\n".join(pad2 + to_json(x, indent + 1) for x in v) + "\n" + pad + "]"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if v is None:
        return "null"
    return fmt_num(v)


def scene_text(scene):
    return to_json(scene) + "\n"


# --------------------------------------------------------------------------------------------
# Plan geometry helpers (shared by the generator and the validator)
# --------------------------------------------------------------------------------------------

def rect(x0, y0, x1, y1):
    """Counter-clockwise rectangle."""
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def signed_area(poly):
    return 0.5 * sum(poly[i][0] * poly[(i + 1) % len(poly)][1] - poly[(i + 1) % len(poly)][0] * poly[i][1]
                     for i in range(len(poly)))


def cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def seg_intersection(p, q, a, b, eps=1e-9):
    """(t, u) where segments p-q and a-b meet (t along pq, u along ab, both 0..1), or None.
    Collinear overlaps return the overlap's first point."""
    d1 = (q[0] - p[0], q[1] - p[1])
    d2 = (b[0] - a[0], b[1] - a[1])
    den = d1[0] * d2[1] - d1[1] * d2[0]
    w = (a[0] - p[0], a[1] - p[1])
    if abs(den) < eps:
        if abs(w[0] * d1[1] - w[1] * d1[0]) > eps * max(1.0, math.hypot(*d1)):
            return None  # parallel, apart
        l2 = d1[0] ** 2 + d1[1] ** 2
        if l2 < eps:
            return None
        ta = (w[0] * d1[0] + w[1] * d1[1]) / l2
        tb = ((b[0] - p[0]) * d1[0] + (b[1] - p[1]) * d1[1]) / l2
        lo, hi = max(0.0, min(ta, tb)), min(1.0, max(ta, tb))
        if lo > hi + eps:
            return None
        l2b = d2[0] ** 2 + d2[1] ** 2
        pt = (p[0] + lo * d1[0], p[1] + lo * d1[1])
        u = ((pt[0] - a[0]) * d2[0] + (pt[1] - a[1]) * d2[1]) / l2b if l2b > eps else 0.0
        return lo, u
    t = (w[0] * d2[1] - w[1] * d2[0]) / den
    u = (w[0] * d1[1] - w[1] * d1[0]) / den
    if -eps <= t <= 1 + eps and -eps <= u <= 1 + eps:
        return t, u
    return None


def point_seg_dist(p, a, b):
    dx, dy = b[0] - a[0], b[1] - a[1]
    l2 = dx * dx + dy * dy
    t = 0.0 if l2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def polyline_project(points, p):
    """(distance, offset along the polyline) of the point of the polyline nearest to p."""
    best, s = (float("inf"), 0.0), 0.0
    for a, b in zip(points, points[1:]):
        L = math.dist(a, b)
        if L > 0:
            t = max(0.0, min(1.0, ((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / (L * L)))
            d = math.hypot(p[0] - a[0] - t * (b[0] - a[0]), p[1] - a[1] - t * (b[1] - a[1]))
            if d < best[0] - 1e-12:
                best = (d, s + t * L)
        s += L
    return best


def polyline_length(points):
    return sum(math.dist(a, b) for a, b in zip(points, points[1:]))


def polyline_point(points, offset):
    s = 0.0
    for a, b in zip(points, points[1:]):
        L = math.dist(a, b)
        if offset <= s + L or b is points[-1]:
            t = 0.0 if L == 0 else (offset - s) / L
            return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        s += L
    return tuple(points[-1])


def polyline_pieces(points, gaps):
    """The solid segments of a polyline once the [lo, hi] offset intervals in gaps are cut out."""
    pieces, s = [], 0.0
    for a, b in zip(points, points[1:]):
        L = math.dist(a, b)
        cuts = [(0.0, L)]
        for lo, hi in gaps:
            lo, hi = lo - s, hi - s
            nxt = []
            for c0, c1 in cuts:
                if hi <= c0 or lo >= c1:
                    nxt.append((c0, c1))
                    continue
                if lo > c0:
                    nxt.append((c0, lo))
                if hi < c1:
                    nxt.append((hi, c1))
            cuts = nxt
        for c0, c1 in cuts:
            if c1 - c0 > 1e-9 and L > 0:
                pieces.append(((a[0] + (b[0] - a[0]) * c0 / L, a[1] + (b[1] - a[1]) * c0 / L),
                               (a[0] + (b[0] - a[0]) * c1 / L, a[1] + (b[1] - a[1]) * c1 / L)))
        s += L
    return pieces


def point_in_polygon(p, poly):
    inside = False
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        if (a[1] > p[1]) != (b[1] > p[1]):
            x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if p[0] < x:
                inside = not inside
    return inside


def polygon_is_simple(poly):
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        if a == b:
            return False
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or j == (i + 1) % n:
                continue
            if seg_intersection(a, b, poly[j], poly[(j + 1) % n]):
                return False
    return True


def box_edges(center, size, yaw):
    hx, hy = size[0] / 2, size[1] / 2
    c, s = math.cos(yaw), math.sin(yaw)
    pts = [(center[0] + x * c - y * s, center[1] + x * s + y * c)
           for x, y in ((-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy))]
    return [(pts[i], pts[(i + 1) % 4]) for i in range(4)]


# --------------------------------------------------------------------------------------------
# A storey under construction: spaces, walls, doors, waypoints, placed on one plan
# --------------------------------------------------------------------------------------------

class StoreyPlan:
    """A storey being laid out: its spaces, walls, doors and walking graph on one plan."""

    def __init__(self, base, name, elevation, height):
        self.base, self.name, self.z, self.height = base, name, elevation, height
        self.path = f"{base}/{name}"
        self.spaces = []      # space entities (their children: equipment, alarms)
        self.walls = []       # dicts: name, points, thickness, height, exterior
        self.doors = []       # dicts: name, wall, offset, width, exit, open, self_closing
        self.wps = {}         # name -> dict: pos, role, door, portal, exit, links

    # -- walls and doors
    def wall(self, name, points, thickness, exterior=False, height=None):
        self.walls.append({"name": name, "points": [list(p) for p in points], "thickness": thickness,
                           "height": height if height is not None else 3.0, "exterior": exterior})

    def door(self, name, at, width=0.9, exit=False, open=True, self_closing=False):
        """A door centred on the wall line at plan point `at`; finds the wall and the offset. `open` is
        its state at the start; people and AGVs open a shut door on their way, and a self-closing one
        swings shut by itself once its doorway has been clear for Door.close_delay (5 s)."""
        for w in self.walls:
            d, off = polyline_project(w["points"], at)
            if d < 1e-6:
                self.doors.append({"name": name, "wall": w["name"], "offset": off, "width": width, "exit": exit,
                                   "open": open, "self_closing": self_closing})
                return f"{self.path}/doors/{name}"
        raise ValueError(f"door {name}: no wall passes through {at}")

    # -- walking graph
    def wp(self, name, pos, role="path", door=None, portal=None, exit=False):
        assert name not in self.wps, name
        self.wps[name] = {"pos": (r(pos[0]), r(pos[1])), "role": role, "door": door, "portal": portal,
                          "exit": exit, "links": []}
        return name

    def link(self, a, b):
        """A two-way link, listed on a (the end that has room for it)."""
        if len(self.wps[a]["links"]) >= 8:
            a, b = b, a
        assert len(self.wps[a]["links"]) < 8, f"{a} has too many links"
        self.wps[a]["links"].append(b)

    def wp_path(self, name):
        return f"{self.path}/waypoints/{name}"

    def pos3(self, x, y):
        return [r(x), r(y), r(self.z)]

    def transform(self, x=0.0, y=0.0, yaw=0.0):
        return comp("Transform", position=self.pos3(x, y), yaw=yaw)

    # -- the entity
    def build(self, storey_comps, groups_after=(), extra=()):
        wall_ents = [entity(w["name"], "element", comps(
            Transform=self.transform(),
            Shape=comp("Shape", kind="polyline", points=[[r(x), r(y)] for x, y in w["points"]],
                       thickness=w["thickness"], height=w["height"]),
            Wall=comp("Wall", exterior=w["exterior"]))) for w in self.walls]
        door_ents = [entity(d["name"], "element", comps(
            Door=comp("Door", wall=f"{self.path}/walls/{d['wall']}", offset=r(d["offset"]), width=d["width"],
                      open=d["open"], exit=d["exit"], self_closing=d["self_closing"]))) for d in self.doors]
        wp_ents = []
        for name, w in self.wps.items():
            wp_ents.append(entity(name, "waypoint", comps(
                Transform=self.transform(*w["pos"]),
                Waypoint=comp("Waypoint", links=[self.wp_path(x) for x in w["links"]],
                              door=w["door"], portal=w["portal"], exit=w["exit"], role=w["role"]))))
        children = list(self.spaces) + list(extra)
        children.append(entity("walls", "group", children=wall_ents))
        children.append(entity("doors", "group", children=door_ents))
        children.append(entity("waypoints", "group", children=wp_ents))
        for gname, ents in groups_after:
            children.append(entity(gname, "group", children=ents))
        return entity(self.name, "storey", comps(Storey=storey_comps), children)


def thermal_for(area, volume, exposed_facade, roof_area, ground_area, people_gain=None, plug_w_m2=6.0,
                u_facade=1.0, ach=0.3, **extra):
    """RC parameters from the room's size and envelope.
    C: air (1206 J/m3K) plus furnishing and light internal mass (50 kJ/m2K of floor).
    UA: facade (U 1.0 W/m2K, glazing included), roof 0.25, ground slab 0.15, and the
    infiltration's heat loss (0.335 W per m3/h)."""
    c = 1206 * volume + 50000 * area
    ua = u_facade * exposed_facade + 0.25 * roof_area + 0.15 * ground_area + 0.335 * ach * volume
    return comp("Thermal", capacitance=round(c, -4), ua=round(ua), gain_equipment=round(plug_w_m2 * area, -1),
                gain_per_person=people_gain, **extra)


# --------------------------------------------------------------------------------------------
# The office: site hq, building office, floor-1 and floor-2
# --------------------------------------------------------------------------------------------

OFFICE_W, OFFICE_D = 42.0, 14.0        # outline 42 x 14 m on the wall centre lines
CORR_S, CORR_N = 6.0, 8.0              # the corridor runs between y = 6 and y = 8
FLOOR_H = 3.5

# (space name, use, x0, x1, side): side "s" is y 0..6, "n" is y 8..14.
# Uses: office, meeting, kitchen, server, lobby, stair-main, stair-fire.
OFFICE_FLOORS = {
    1: [("room-101", "office", 0, 6, "s"), ("room-102", "office", 6, 11, "s"),
        ("room-103", "meeting", 11, 16, "s"), ("lobby", "lobby", 16, 20, "s"),
        ("room-104", "kitchen", 20, 26, "s"), ("room-105", "meeting", 26, 30, "s"),
        ("room-106", "office", 30, 35, "s"), ("room-107", "server", 35, 38, "s"),
        ("room-108", "office", 38, 42, "s"),
        ("room-111", "office", 0, 6, "n"), ("room-112", "office", 6, 11, "n"),
        ("room-113", "office", 11, 16, "n"), ("stair-main", "stair-main", 16, 20, "n"),
        ("room-114", "office", 20, 26, "n"), ("room-115", "meeting", 26, 30, "n"),
        ("room-116", "office", 30, 36, "n"), ("room-117", "office", 36, 39, "n"),
        ("stair-fire", "stair-fire", 39, 42, "n")],
    2: [("room-201", "office", 0, 6, "s"), ("room-202", "office", 6, 11, "s"),
        ("room-203", "meeting", 11, 16, "s"), ("room-204", "office", 16, 22, "s"),
        ("room-205", "office", 22, 28, "s"), ("room-206", "meeting", 28, 32, "s"),
        ("room-207", "office", 32, 37, "s"), ("room-208", "office", 37, 42, "s"),
        ("room-211", "office", 0, 6, "n"), ("room-212", "office", 6, 11, "n"),
        ("room-213", "office", 11, 16, "n"), ("stair-main", "stair-main", 16, 20, "n"),
        ("room-214", "office", 20, 26, "n"), ("room-215", "meeting", 26, 30, "n"),
        ("room-216", "office", 30, 36, "n"), ("room-217", "office", 36, 39, "n"),
        ("stair-fire", "stair-fire", 39, 42, "n")],
}
OPEN_PLAN = {"room-204": 5}            # desks in the open-plan office (others: about 9 m2 a desk)
DOOR_WIDTH = {"office": 0.9, "meeting": 1.0, "kitchen": 1.0, "server": 0.9, "stair-main": 1.2,
              "stair-fire": 1.0}
# Fire doors (both stairs) and the server room's door are self-closing and shut: whoever comes
# through opens them and they swing shut behind. Offices, meeting rooms and the kitchen stand open.
DOOR_SELF_CLOSING = {"server", "stair-main", "stair-fire"}


def room_geometry(side):
    """(y0, y1, exterior y, door y, inward unit y from the door)."""
    if side == "s":
        return 0.0, CORR_S, 0.0, CORR_S, -1.0
    return CORR_N, OFFICE_D, OFFICE_D, CORR_N, 1.0


def desk_spots(x0, x1, y_ext, inward, n):
    """n desks in two rows 1.5 m and 3.2 m from the facade, 1 m clear of the side walls."""
    cols = (n + 1) // 2
    spots = []
    for row, count in ((0, cols), (1, n - cols)):
        y = y_ext - inward * (1.5 if row == 0 else 3.2)
        for i in range(count):
            x = (x0 + x1) / 2 if count == 1 else x0 + 1 + i * (x1 - x0 - 2) / (count - 1)
            spots.append((x, y))
    return spots


def office_storey(level):
    z = (level - 1) * FLOOR_H
    st = StoreyPlan("hq/office", f"floor-{level}", z, FLOOR_H)
    rooms = OFFICE_FLOORS[level]
    ground, top = level == 1, level == max(OFFICE_FLOORS)

    # Walls: the closed facade, the two corridor walls (the floor-1 lobby opens onto the corridor),
    # and a partition between each pair of neighbouring rooms.
    st.wall("w-exterior", [(0, 0), (OFFICE_W, 0), (OFFICE_W, OFFICE_D), (0, OFFICE_D), (0, 0)], 0.3,
            exterior=True, height=FLOOR_H)
    lobby = [rm for rm in rooms if rm[1] == "lobby"]
    if lobby:
        _, _, lx0, lx1, _ = lobby[0]
        lxc = (lx0 + lx1) / 2
        st.wall("w-corridor-south-1", [(0, CORR_S), (lx0, CORR_S)], 0.12)
        st.wall("w-corridor-south-2", [(lx1, CORR_S), (OFFICE_W, CORR_S)], 0.12)
    else:
        st.wall("w-corridor-south", [(0, CORR_S), (OFFICE_W, CORR_S)], 0.12)
    st.wall("w-corridor-north", [(0, CORR_N), (OFFICE_W, CORR_N)], 0.12)
    k = 0
    for side in ("s", "n"):
        y0, y1, _, _, _ = room_geometry(side)
        xs = sorted({rm[3] for rm in rooms if rm[4] == side and 0 < rm[3] < OFFICE_W})
        for x in xs:
            k += 1
            st.wall(f"w-partition-{k}", [(x, y0), (x, y1)], 0.12)

    # Rooms, each with its door, its part of the walking graph, HVAC, equipment and alarms.
    corridor_y = (CORR_S + CORR_N) / 2
    corridor_xs = set()                 # where the corridor needs a node: in front of each door
    people_desks = []
    for name, use, x0, x1, side in rooms:
        y0, y1, y_ext, y_door, inward = room_geometry(side)
        xc = (x0 + x1) / 2
        area = (x1 - x0) * (y1 - y0)
        volume = area * FLOOR_H
        facade = (x1 - x0) * FLOOR_H + ((y1 - y0) * FLOOR_H if x0 == 0 or x1 == OFFICE_W else 0)
        roof = area if top else 0
        slab = area if ground else 0
        children = []

        # The room's node 1 m inside its door, the doorway node on the wall line, the corridor node.
        if use == "lobby":
            st.wp("lobby", (xc, (y0 + y1) / 2))
            corridor_xs.add(r(xc))
            room_node = "lobby"
        else:
            shut = use in DOOR_SELF_CLOSING
            door = st.door(f"d-{name}", (xc, y_door), DOOR_WIDTH[use], open=not shut, self_closing=shut)
            doorway = st.wp(f"door-{name}", (xc, y_door), door=door)
            corridor_xs.add(r(xc))
            if use in ("stair-main", "stair-fire"):
                room_node = st.wp(f"{name}-landing", (xc, (y0 + y1) / 2), role="stair",
                                  portal=f"hq/office/floor-{3 - level}/waypoints/{name}-landing")
            else:
                room_node = st.wp(name, (xc, y_door + inward))
            st.link(room_node, doorway)

        cap, hvac, alarms, thermal_extra = 0, None, [], {}
        airflow = None
        if use == "office":
            desks = OPEN_PLAN.get(name, max(2, int(area // 9)))
            cap = desks
            for i, (x, y) in enumerate(desk_spots(x0, x1, y_ext, inward, desks), 1):
                d = st.wp(f"{name}-desk-{i}", (x, y), role="desk")
                st.link(d, room_node)
                people_desks.append(st.wp_path(d))
            airflow = r(max(0.03, 0.01 * cap), 3)
            alarms.append(entity("temp-high", "alarm", comps(Alarm=comp(
                "Alarm", field="Thermal.temperature", high=26, hysteresis=0.5, min_duration=600))))
        elif use == "meeting":
            cap = int(area // 3)
            st.link(st.wp(f"{name}-meeting", (xc, (y0 + y1) / 2), role="meeting"), room_node)
            # Ventilation for about two thirds of the seats, as in many older buildings: a full
            # meeting room drifts over 1000 ppm, which is what the CO2 alarm is there to catch.
            airflow = r(0.006 * cap, 3)
            alarms.append(entity("co2-high", "alarm", comps(Alarm=comp(
                "Alarm", field="Air.co2", high=1000, hysteresis=50, min_duration=300))))
        elif use == "kitchen":
            cap = 12
            st.link(st.wp(f"{name}-kitchen", (xc, (y0 + y1) / 2), role="kitchen"), room_node)
            airflow = 0.12                      # 10 L/s a seat; the lunch crowd is bigger than that
            alarms.append(entity("co2-high", "alarm", comps(Alarm=comp(
                "Alarm", field="Air.co2", high=1000, hysteresis=50, min_duration=300))))
        elif use == "lobby":
            cap = 10
            airflow = 0.06
        if use == "server":
            thermal_extra = {"comfort_low": 15, "comfort_high": 27}   # the rack brings its own heat
            hvac = comp("Hvac", heat_setpoint=16, cool_setpoint=22, max_heating=500, max_cooling=4500,
                        cop_cooling=3.5, airflow=0.02, schedule_on=0, schedule_off=24)
            alarms.append(entity("temp-high", "alarm", comps(Alarm=comp(
                "Alarm", field="Thermal.temperature", high=27, hysteresis=0.5, min_duration=300, severity=2))))
        elif use.startswith("stair"):
            hvac = None
        else:
            cool_w_m2 = 80 if use in ("meeting", "kitchen") else 70
            hvac = comp("Hvac", heat_setpoint=21, cool_setpoint=24, max_heating=round(60 * area, -1),
                        max_cooling=round(cool_w_m2 * area, -1), airflow=airflow)

        thermal = thermal_for(area, volume, facade, roof, slab,
                              plug_w_m2=0 if use.startswith("stair") or use == "server" else 6,
                              ach=0.6 if use == "lobby" else 0.3, **thermal_extra)
        children += office_equipment(st, name, use, x0, x1, y_ext, inward)
        children += alarms
        st.spaces.append(entity(name, "space", comps(
            Transform=st.transform(),
            Shape=comp("Shape", kind="extrusion", points=rect(x0, y0, x1, y1), height=FLOOR_H),
            Space=comp("Space", capacity=cap),
            Thermal=thermal, Hvac=hvac,
            Air=comp("Air", infiltration=0.6 if use == "lobby" else None)), children))

    # The corridor: a space of its own (heated and cooled more gently), with the corridor nodes.
    area = OFFICE_W * (CORR_N - CORR_S)
    st.spaces.append(entity("corridor", "space", comps(
        Transform=st.transform(),
        Shape=comp("Shape", kind="extrusion", points=rect(0, CORR_S, OFFICE_W, CORR_N), height=FLOOR_H),
        Space=comp("Space"),
        Thermal=thermal_for(area, area * FLOOR_H, 2 * (CORR_N - CORR_S) * FLOOR_H, area if top else 0,
                            area if ground else 0, plug_w_m2=2),
        Hvac=comp("Hvac", heat_setpoint=20, cool_setpoint=25, max_heating=round(50 * area, -1),
                  max_cooling=round(50 * area, -1), airflow=0.04),
        Air=comp("Air"))))

    # Floor-1 entrances: the main entrance into the lobby, the side exit at the corridor's east end;
    # both shut and self-closing (people open them coming and going).
    if ground:
        main = st.door("d-main-entrance", (lxc, 0), 1.8, exit=True, open=False, self_closing=True)
        st.link(st.wp("main-entrance", (lxc, 0), role="entrance", door=main, exit=True), "lobby")
        side = st.door("d-side-exit", (OFFICE_W, corridor_y), 1.2, exit=True, open=False, self_closing=True)
        st.wp("side-exit", (OFFICE_W, corridor_y), role="entrance", door=side, exit=True)

    # Chain the corridor nodes west to east, and hang each doorway (and the lobby) on its node.
    xs = sorted(corridor_xs)
    names = {x: st.wp(f"corridor-{i}", (x, corridor_y)) for i, x in enumerate(xs, 1)}
    for a, b in zip(xs, xs[1:]):
        st.link(names[a], names[b])
    for wname, w in list(st.wps.items()):
        if w["door"] and w["pos"][1] in (CORR_S, CORR_N):
            st.link(wname, names[r(w["pos"][0])])
    if lobby:
        st.link("lobby", names[r(lxc)])
    if ground:
        st.link("side-exit", names[xs[-1]])
    return st, people_desks


def office_equipment(st, room, use, x0, x1, y_ext, inward):
    """Plug loads beyond the rooms' constant gains: servers, kitchen appliances, printers."""
    def box(name, x, y, size, **eq):
        return entity(name, "equipment", comps(
            Transform=st.transform(x, y), Shape=comp("Shape", size=size), Equipment=comp("Equipment", **eq)))
    corner_y = y_ext - inward * 0.5
    if use == "server":
        return [box("server-rack", (x0 + x1) / 2, y_ext - inward * 0.8, [1.2, 0.8, 2.0],
                    rated_power=3000, utilisation=0.7)]
    if use == "kitchen":
        return [box("coffee-machine", x0 + 0.5, corner_y, [0.5, 0.5, 0.6], rated_power=1500, utilisation=0.15,
                    schedule_on=7, schedule_off=18),
                box("fridge", x1 - 0.5, corner_y, [0.6, 0.6, 1.8], rated_power=150, utilisation=0.5)]
    if room in ("room-102", "room-204"):
        return [box("printer", x0 + 0.5, corner_y, [0.6, 0.6, 1.0], rated_power=800, utilisation=0.25,
                    schedule_on=7, schedule_off=19)]
    return []


def office_lighting():
    """A storey's lighting, 7 W/m2 over 588 m2 on a 07-19 schedule. Its heat is already in the rooms'
    Thermal.gain_equipment, so it releases none of its own (heat_fraction 0)."""
    return entity("lighting", "equipment", comps(Equipment=comp(
        "Equipment", rated_power=4100, utilisation=0.8, heat_fraction=0, schedule_on=7, schedule_off=19)))


def people(desks, count, rng):
    """count people, each with a desk of their own and a day drawn from rng."""
    homes = sorted(rng.sample(desks, count), key=desks.index)
    out = []
    for i, home in enumerate(homes, 1):
        out.append(entity(f"p-{i:02d}", "agent", comps(
            Agent=comp("Agent", max_speed=r(min(1.6, max(1.0, rng.gauss(1.3, 0.12))), 2), home=home,
                       arrive_hour=r(rng.uniform(7.5, 9.5), 2), leave_hour=r(rng.uniform(16.5, 18.5), 2),
                       meetings=rng.choice([0, 1, 1, 2, 2, 2, 3])),
            Body=comp("Body", radius=r(rng.uniform(0.25, 0.3), 2), mass=round(rng.uniform(55, 95))))))
    return out


def office_scene():
    rng = random.Random(SEED)
    floors, desks = [], []
    for level in sorted(OFFICE_FLOORS):
        st, d = office_storey(level)
        floors.append(st)
        desks += d
    storeys = []
    for st in floors:
        groups = [("people", people(desks, 60, rng))] if st.z == 0 else []
        storeys.append(st.build(comp("Storey", elevation=st.z, height=FLOOR_H), groups,
                                [office_lighting()]))
    # The meter's base load is what never switches off: network, lift and fans on standby,
    # emergency lighting (about 3 W/m2 over 1176 m2).
    building = entity("office", "building", comps(Meter=comp("Meter", base_load=3500, grid_factor=0.233)),
                      storeys)
    # Evacuation: a what-if (or a binding) sets Evacuation.active to sound the alarm.
    site = entity("hq", "site", comps(Weather=comp("Weather", mean=17, amplitude=5.5, peak_hour=15),
                                      Mobility=comp("Mobility"), Evacuation=comp("Evacuation")), [building])
    spaces = sum(1 for st in storeys for c in st["children"] if c["kind"] == "space")
    return {
        "format": "twin-scene/1",
        "name": "office",
        "description": f"A two-storey office for 60 people on a mild early-summer weekday: {spaces} spaces "
                       "with temperature and CO2 (offices, meeting rooms, a kitchen, a server room, corridors, "
                       "a main and a fire stair), and the staff's arrivals, meetings, lunches and departures.",
        "simulation": {"dt": 0.1, "duration": 86400, "seed": 1, "start": "2024-06-03T00:00:00Z",
                       "kpi_interval": 60, "max_catchup_steps": 10},
        "kpis": office_kpis(site),
        "entities": [site],
    }


def office_kpis(site):
    kpis = []
    for storey in site["children"][0]["children"]:
        fl = storey["name"]
        for sp in storey["children"]:
            if sp["kind"] != "space":
                continue
            key = sp["name"].replace("-", "_") if sp["name"].startswith("room-") else \
                f"{fl}_{sp['name']}".replace("-", "_")
            path = f"hq/office/{fl}/{sp['name']}"
            kpis.append({"name": f"{key}_temp", "field": "Thermal.temperature", "entity": path,
                         "aggregate": "value"})
            kpis.append({"name": f"{key}_co2", "field": "Air.co2", "entity": path, "aggregate": "value"})
    for storey in site["children"][0]["children"]:
        fl = storey["name"]
        kpis.append({"name": f"{fl.replace('-', '_')}_temp_mean", "field": "Thermal.temperature",
                     "entity": f"hq/office/{fl}", "aggregate": "mean"})
    kpis += [
        {"name": "co2_max", "field": "Air.co2", "entity": "hq/office", "aggregate": "max"},
        {"name": "comfort_violation_hours", "field": "Thermal.discomfort_hours", "entity": "hq/office",
         "aggregate": "sum"},
        {"name": "hvac_power", "field": "Hvac.power", "entity": "hq/office", "aggregate": "sum"},
        {"name": "building_power", "field": "Meter.power", "entity": "hq/office", "aggregate": "value"},
        {"name": "energy", "field": "Meter.energy", "entity": "hq/office", "aggregate": "value"},
        {"name": "carbon", "field": "Meter.carbon", "entity": "hq/office", "aggregate": "value"},
        {"name": "people_inside", "field": "Mobility.inside", "entity": "hq", "aggregate": "value"},
        {"name": "trip_time_mean", "field": "Mobility.trip_time_mean", "entity": "hq", "aggregate": "value"},
        {"name": "trips", "field": "Mobility.trips", "entity": "hq", "aggregate": "value"},
        {"name": "evacuation_time", "field": "Evacuation.duration", "entity": "hq", "aggregate": "value"},
        {"name": "evacuees", "field": "Evacuation.evacuees", "entity": "hq", "aggregate": "value"},
    ]
    return kpis


# --------------------------------------------------------------------------------------------
# The factory: site plant, building factory, one hall
# --------------------------------------------------------------------------------------------

HALL_W, HALL_D, HALL_H = 60.0, 30.0, 8.0
SHIPPING_X = 50.0                       # production west of it, shipping east of it
AISLE_S, AISLE_N, AISLE_C = 2.4, 27.6, 15.0
AISLE_W, AISLE_E = 4.5, 55.5
CONVEYORS = [("conveyor-1", 10.5, 0.4), ("conveyor-2", 19.5, 0.5)]   # name, y, speed (m/s)
# name, asset tag, x, row (0: south of conveyor-1, 1: north of conveyor-2), size, rated W,
# cycle s, health, wear per running hour, fail_below (None: default).
# The health model (engine/sim/src/models.c) gives vibration = 1 + 12 (1 - health)^2 mm/s and
# wears health by wear_per_hour x utilisation while running. The press m-3 starts at 3.8 mm/s,
# crosses the 4.5 mm/s alarm near 08:20 (health 0.46) and fails near 12:30 (below 0.35), inside
# the 06:00-14:00 shift; the others stay under 3 mm/s.
MACHINES = [
    ("m-1", "PLT-M01", 14, 0, [4, 3, 2.8], 15000, 45, 0.92, 0.004, None),   # CNC mill
    ("m-2", "PLT-M02", 26, 0, [4, 2.5, 2.2], 11000, 30, 0.85, 0.005, None),  # lathe
    ("m-3", "PLT-M03", 38, 0, [3, 3, 3.5], 18000, 20, 0.52, 0.035, 0.35),     # press, worn out
    ("m-4", "PLT-M04", 14, 1, [4, 3, 2.8], 15000, 50, 0.97, 0.003, None),   # CNC mill
    ("m-5", "PLT-M05", 26, 1, [3, 2.5, 2.0], 7500, 40, 0.7, 0.008, None),   # grinder
    ("m-6", "PLT-M06", 38, 1, [5, 3, 3.0], 20000, 60, 0.6, 0.006, None),    # welding cell
]
SHIFT_ON, SHIFT_OFF = 6, 22


def factory_scene():
    st = StoreyPlan("plant/factory", "hall", 0.0, HALL_H)
    st.wall("w-exterior", [(0, 0), (HALL_W, 0), (HALL_W, HALL_D), (0, HALL_D), (0, 0)], 0.3, exterior=True,
            height=HALL_H)
    # The two exits are self-closing and shut; the loading dock's roller door stands open.
    personnel = st.door("d-personnel", (6, 0), 1.2, exit=True, open=False, self_closing=True)
    dock = st.door("d-dock", (HALL_W, AISLE_C), 4.0)
    fire = st.door("d-fire-exit", (30, HALL_D), 1.2, exit=True, open=False, self_closing=True)

    # Aisles: a ring around the hall plus a central aisle between the two conveyors. Every
    # station is a spur 2 m off its aisle, so a parked AGV leaves the aisle free.
    def line(nodes):
        """Nodes along one straight aisle, created when new, linked in order."""
        for n, pos in nodes:
            if n not in st.wps:
                st.wp(n, pos)
        for (a, _), (b, _) in zip(nodes, nodes[1:]):
            st.link(a, b)

    xs = sorted({m[2] for m in MACHINES})
    belt_y = [c[1] for c in CONVEYORS]
    sw, se, nw, ne = (("aisle-sw", (AISLE_W, AISLE_S)), ("aisle-se", (AISLE_E, AISLE_S)),
                      ("aisle-nw", (AISLE_W, AISLE_N)), ("aisle-ne", (AISLE_E, AISLE_N)))
    line([sw, ("aisle-s-6", (6, AISLE_S))] + [(f"aisle-s-{x}", (x, AISLE_S)) for x in xs] + [se])
    line([nw] + sorted([(f"aisle-n-{x}", (x, AISLE_N)) for x in xs + [30]], key=lambda n: n[1][0]) + [ne])
    line([sw, ("aisle-w-1", (AISLE_W, belt_y[0] - 1.5)), ("aisle-w-2", (AISLE_W, AISLE_C)),
          ("aisle-w-3", (AISLE_W, belt_y[1] + 1.5)), nw])
    line([se, ("aisle-e-1", (AISLE_E, belt_y[0])), ("aisle-e-2", (AISLE_E, AISLE_C)),
          ("aisle-e-3", (AISLE_E, belt_y[1])), ne])
    st.link("aisle-w-2", "aisle-e-2")       # the central aisle, clear of both conveyors

    # Doorways on the wall line, each hung on the aisle node in front of it.
    st.link(st.wp("personnel-door", (6, 0), role="entrance", door=personnel, exit=True), "aisle-s-6")
    st.link(st.wp("dock-door", (HALL_W, AISLE_C), door=dock), "aisle-e-2")
    st.link(st.wp("fire-exit", (30, HALL_D), role="entrance", door=fire, exit=True), "aisle-n-30")

    # Stations: raw-material store at the west wall, one per machine, shipping at the belts' ends.
    st.link(st.wp("st-store-a", (2.2, st.wps["aisle-w-1"]["pos"][1]), role="station"), "aisle-w-1")
    st.link(st.wp("st-store-b", (2.2, st.wps["aisle-w-3"]["pos"][1]), role="station"), "aisle-w-3")
    for name, _, x, row, *_ in MACHINES:
        y, aisle = (AISLE_S + 2, f"aisle-s-{x}") if row == 0 else (AISLE_N - 2, f"aisle-n-{x}")
        st.link(st.wp(f"st-{name}", (x, y), role="station"), aisle)
    for i, (_, y, _) in enumerate(CONVEYORS, 1):
        st.link(st.wp(f"st-ship-{i}", (SHIPPING_X + 2.3, y), role="station"), f"aisle-e-{2 * i - 1}")

    base = "plant/factory/hall"
    conveyors = []
    for name, y, speed in CONVEYORS:
        conveyors.append(entity(name, "equipment", comps(
            Transform=st.transform(),
            Shape=comp("Shape", kind="polyline", points=[[10, y], [SHIPPING_X, y]], thickness=0.6, height=0.9),
            Equipment=comp("Equipment", rated_power=1500, utilisation=0.6, schedule_on=SHIFT_ON,
                           schedule_off=SHIFT_OFF),
            Conveyor=comp("Conveyor", speed=speed)), external_id=f"PLT-{name.upper().replace('-', '')}"))
    machines = []
    for name, tag, x, row, size, power, cycle, health, wear, fail in MACHINES:
        belt_y = CONVEYORS[row][1]
        y = belt_y - 1.5 - size[1] / 2 if row == 0 else belt_y + 1.5 + size[1] / 2
        machines.append(entity(name, "equipment", comps(
            Transform=st.transform(x, y),
            Shape=comp("Shape", size=size),
            Equipment=comp("Equipment", rated_power=power, utilisation=0.75, heat_fraction=0.8,
                           schedule_on=SHIFT_ON, schedule_off=SHIFT_OFF),
            Health=comp("Health", health=health, wear_per_hour=wear, fail_below=fail),
            Machine=comp("Machine", cycle_time=cycle, output=f"{base}/production/{CONVEYORS[row][0]}")),
            [entity("vibration-high", "alarm", comps(Alarm=comp(
                "Alarm", field="Health.vibration", high=4.5, hysteresis=0.3, min_duration=60, severity=2)))],
            external_id=tag))

    def hall_space(name, x0, x1, cap, children):
        area = (x1 - x0) * HALL_D
        facade = (2 * (x1 - x0) + (HALL_D if x0 == 0 or x1 == HALL_W else 0)) * HALL_H
        return entity(name, "space", comps(
            Transform=st.transform(),
            Shape=comp("Shape", kind="extrusion", points=rect(x0, 0, x1, HALL_D), height=HALL_H),
            Space=comp("Space", capacity=cap),
            Thermal=thermal_for(area, area * HALL_H, facade, area, area, plug_w_m2=2, u_facade=0.5, ach=0.5,
                                comfort_low=16, comfort_high=27),
            Hvac=comp("Hvac", heat_setpoint=17, cool_setpoint=26, max_heating=round(40 * area, -2),
                      max_cooling=round(30 * area, -2), gain=round(15 * area, -2),
                      airflow=round(area * HALL_H * 0.5 / 3600, 1), schedule_on=SHIFT_ON,
                      schedule_off=SHIFT_OFF)), children)

    # High-bay lighting, 8 W/m2 over the production floor while the shift runs; its heat stays in the hall.
    lighting = entity("lighting", "equipment", comps(Equipment=comp(
        "Equipment", rated_power=12000, utilisation=1, schedule_on=SHIFT_ON, schedule_off=SHIFT_OFF)))
    st.spaces.append(hall_space("production", 0, SHIPPING_X, 20, machines + conveyors + [lighting]))
    st.spaces.append(hall_space("shipping", SHIPPING_X, HALL_W, 6, []))

    # AGVs: loops over stations; each starts parked at its first stop.
    routes = [
        ("agv-1", 1.5, ["st-store-a", "st-m-1", "st-m-2", "st-m-3", "st-ship-1"]),
        ("agv-2", 1.5, ["st-store-b", "st-m-4", "st-m-5", "st-m-6", "st-ship-2"]),
        ("agv-3", 1.2, ["st-ship-1", "st-ship-2", "st-store-b", "st-store-a"]),
        ("agv-4", 1.2, ["st-m-6", "st-m-3", "st-ship-1", "st-store-a"]),
    ]
    agvs = []
    for name, speed, stops in routes:
        home = st.wps[stops[0]]["pos"]
        agvs.append(entity(name, "agent", comps(
            Agent=comp("Agent", type="agv", max_speed=speed, home=st.wp_path(stops[0]),
                       route=[st.wp_path(s) for s in stops]),
            Body=comp("Body", radius=0.6, mass=400, position=[home[0], home[1]])),
            external_id=f"PLT-{name.upper().replace('-', '')}"))

    hall = st.build(comp("Storey", elevation=0, height=HALL_H), [("agvs", agvs)])
    # Base load: compressors idling, extraction and IT, day and night.
    building = entity("factory", "building", comps(Meter=comp("Meter", base_load=6000, grid_factor=0.233)),
                      [hall])
    site = entity("plant", "site", comps(Weather=comp("Weather", mean=17, amplitude=5.5),
                                         Mobility=comp("Mobility")), [building])
    kpis = [
        {"name": "parts_made", "field": "Machine.parts_made", "entity": "plant/factory", "aggregate": "sum"},
        {"name": "parts_delivered", "field": "Conveyor.parts_delivered", "entity": "plant/factory",
         "aggregate": "sum"},
        {"name": "building_power", "field": "Meter.power", "entity": "plant/factory", "aggregate": "value"},
        {"name": "energy", "field": "Meter.energy", "entity": "plant/factory", "aggregate": "value"},
        {"name": "carbon", "field": "Meter.carbon", "entity": "plant/factory", "aggregate": "value"},
        {"name": "machine_health_mean", "field": "Health.health", "entity": "plant/factory",
         "aggregate": "mean"},
        {"name": "machine_health_min", "field": "Health.health", "entity": "plant/factory", "aggregate": "min"},
        {"name": "vibration_max", "field": "Health.vibration", "entity": "plant/factory", "aggregate": "max"},
    ]
    for m in MACHINES:
        kpis.append({"name": f"{m[0].replace('-', '_')}_health", "field": "Health.health",
                     "entity": f"{base}/production/{m[0]}", "aggregate": "value"})
    kpis += [
        {"name": "agv_trip_time_mean", "field": "Mobility.trip_time_mean", "entity": "plant",
         "aggregate": "value"},
        {"name": "agv_trips", "field": "Mobility.trips", "entity": "plant", "aggregate": "value"},
        {"name": "hall_temp", "field": "Thermal.temperature", "entity": f"{base}/production",
         "aggregate": "value"},
    ]
    return {
        "format": "twin-scene/1",
        "name": "factory",
        "description": "A 60 x 30 m machining hall over one 8-hour shift: six machines (one badly worn) "
                       "feeding two conveyors to shipping, and four AGVs looping between the store, the "
                       "machines and shipping.",
        "simulation": {"dt": 0.1, "duration": 28800, "seed": 1, "start": "2024-06-03T06:00:00Z",
                       "kpi_interval": 60, "max_catchup_steps": 10},
        "kpis": kpis,
        "entities": [site],
    }


# --------------------------------------------------------------------------------------------
# Validator
# --------------------------------------------------------------------------------------------

class Ent:
    """One entity of a loaded scene, with its component values (defaults filled in)."""

    def __init__(self, raw, path, parent):
        self.raw, self.path, self.parent = raw, path, parent
        self.name, self.kind = raw.get("name"), raw.get("kind")
        self.comps = {}
        self.storey = None      # path of the nearest storey at or above
        self.children = []

    def has(self, c):
        return c in self.comps

    def get(self, c, f):
        return self.comps[c][f]

    def xy(self):
        p = self.comps.get("Transform", {}).get("position", [0, 0, 0])
        return (p[0], p[1])


class Checker:
    def __init__(self, label):
        self.label, self.errors, self.warnings, self.notes = label, [], [], []

    def err(self, where, msg):
        self.errors.append(f"{self.label}: {where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"{self.label}: {where}: {msg}")

    # -- structure, names, types -----------------------------------------------------------
    def load(self, doc):
        self.doc, self.ents, self.order = doc, {}, []
        keys = list(doc.keys())
        want = ["format", "name", "description", "simulation", "kpis", "entities"]
        if doc.get("format") != "twin-scene/1":
            self.err("format", f"expected \"twin-scene/1\", got {doc.get('format')!r}")
        if [k for k in keys if k in want] != [k for k in want if k in keys] or set(keys) - set(want):
            self.err("(top level)", f"keys {keys}: expected a subset of {want} in that order")
        if len(str(doc.get("name", "")).encode()) > NAME_MAX or len(str(doc.get("description", "")).encode()) > 511:
            self.err("(top level)", f"name over {NAME_MAX} or description over 511 bytes")
        sim = doc.get("simulation", {})
        skeys = ["dt", "duration", "seed", "start", "kpi_interval", "max_catchup_steps"]
        if set(sim) - set(skeys) or [k for k in sim if k in skeys] != [k for k in skeys if k in sim]:
            self.err("simulation", f"keys {list(sim)}: expected a subset of {skeys} in that order")
        for k in ("dt", "duration", "kpi_interval"):
            if k in sim and not (isinstance(sim[k], (int, float)) and not isinstance(sim[k], bool) and sim[k] > 0):
                self.err(f"simulation.{k}", "must be a positive number")
        if "start" in sim and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                                               str(sim["start"])):
            self.err("simulation.start", f"{sim['start']!r} is not an ISO 8601 date-time")
        self._walk(doc.get("entities", []), "", None)
        return self

    def _walk(self, raws, prefix, parent):
        seen = set()
        for i, raw in enumerate(raws):
            where = f"{prefix or '(root)'}/children[{i}]"
            if not isinstance(raw, dict):
                self.err(where, "an entity must be an object")
                continue
            name = raw.get("name")
            if not isinstance(name, str) or not name or "/" in name or len(name) > NAME_MAX:
                self.err(where, f"bad name {name!r} (1..{NAME_MAX} characters, no '/')")
                continue
            if name in seen:
                self.err(where, f"name {name!r} is used twice among its siblings")
            seen.add(name)
            path = f"{prefix}/{name}" if prefix else name
            if len(path) > PATH_MAX:
                self.err(path, f"path longer than {PATH_MAX} characters")
            keys = list(raw.keys())
            order = ["name", "kind", "external_id", "components", "children"]
            if set(keys) - set(order) or [k for k in keys if k in order] != [k for k in order if k in keys]:
                self.err(path, f"keys {keys}: expected {order} (external_id optional) in that order")
            if raw.get("kind") not in KINDS:
                self.err(path, f"unknown kind {raw.get('kind')!r}")
            e = Ent(raw, path, parent)
            if e.kind == "storey":
                e.storey = path
            elif parent is not None:
                e.storey = self.ents[parent].storey
            self.ents[path] = e
            self.order.append(path)
            if parent is not None:
                self.ents[parent].children.append(path)
            for cname, fields in (raw.get("components") or {}).items():
                self._component(e, cname, fields)
            self._walk(raw.get("children") or [], path, path)

    def _component(self, e, cname, fields):
        where = f"{e.path}: {cname}"
        if cname not in SCHEMA:
            self.err(e.path, f"unknown component {cname!r}")
            return
        if not isinstance(fields, dict):
            self.err(where, "a component must be an object")
            return
        vals = {f[0]: f[2] for f in SCHEMA[cname]}
        for k, v in fields.items():
            f = FIELDS[cname].get(k)
            if f is None:
                self.err(where, f"unknown field {k!r}")
                continue
            if "D" in f[3]:
                self.err(where, f"{k} is derived: scenes must not give it")
                continue
            if "L" in f[3]:
                self.err(where, f"{k} is set by the length of its array: leave it out")
                continue
            if v == f[2] and type(v) is type(f[2]):
                self.warn(where, f"{k} = {v!r} is the default: leave it out")
            if self._type_ok(f, v, f"{where}.{k}", STR_MAX.get(f"{cname}.{k}", 95)):
                vals[k] = v
        e.comps[cname] = vals

    def _type_ok(self, f, v, where, str_max):
        t = f[1]
        num = isinstance(v, (int, float)) and not isinstance(v, bool)
        ok = True
        if isinstance(t, tuple):
            ok = isinstance(v, str) and v in t[1]
            if not ok:
                self.err(where, f"{v!r} is not one of {t[1]}")
            return ok
        if t in ("f32", "f64"):
            ok = num and math.isfinite(v)
        elif t in ("i32", "u32"):
            ok = isinstance(v, int) and not isinstance(v, bool) and (t == "i32" or v >= 0)
        elif t == "bool":
            ok = isinstance(v, bool)
        elif t == "str":
            ok = isinstance(v, str) and len(v.encode()) <= str_max
        elif t == "entity":
            ok = isinstance(v, str)
        elif t.startswith("vec"):
            ok = isinstance(v, list) and len(v) == int(t[3:]) and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        elif t == "points":
            ok = isinstance(v, list) and len(v) <= 32 and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, (int, float)) for x in p) for p in v)
        elif t.startswith("refs:"):
            ok = isinstance(v, list) and len(v) <= int(t[5:]) and all(isinstance(x, str) for x in v)
        if not ok:
            self.err(where, f"{v!r} does not fit the field's type {t}")
        return ok

    # -- references ---------------------------------------------------------------------------
    REF_TARGETS = {("Door", "wall"): "Wall", ("Waypoint", "links"): "Waypoint", ("Waypoint", "door"): "Door",
                   ("Waypoint", "portal"): "Waypoint", ("Agent", "home"): "Waypoint",
                   ("Agent", "route"): "Waypoint", ("Machine", "output"): "Conveyor",
                   ("Part", "conveyor"): "Conveyor", ("Alarm", "target"): None}

    def check_refs(self):
        for e in self.ents.values():
            for (c, f), want in self.REF_TARGETS.items():
                if c not in e.comps:
                    continue
                v = e.comps[c][f]
                for ref in (v if isinstance(v, list) else [v] if v else []):
                    t = self.ents.get(ref)
                    if t is None:
                        self.err(e.path, f"{c}.{f}: {ref!r} names no entity")
                    elif want and want not in t.comps:
                        self.err(e.path, f"{c}.{f}: {ref!r} has no {want} component")

    def check_kpis(self):
        names = set()
        for i, k in enumerate(self.doc.get("kpis", [])):
            where = f"kpis[{i}]"
            order = ["name", "field", "entity", "aggregate", "unit"]
            if set(k) - set(order) or [x for x in k if x in order] != [x for x in order if x in k]:
                self.err(where, f"keys {list(k)}: expected {order[:4]} (+ unit) in that order")
            n = k.get("name", "")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", n or ""):
                self.err(where, f"name {n!r} must be an identifier of at most 63 characters")
            if n in names:
                self.err(where, f"name {n!r} is used twice")
            names.add(n)
            cf = k.get("field", "")
            if len(cf) > 127 or len(k.get("entity", "")) > PATH_MAX:
                self.err(where, "field over 127 or entity over 511 characters")
            c, _, f = cf.partition(".")
            fd = FIELDS.get(c, {}).get(f)
            if fd is None:
                self.err(where, f"field {cf!r} is not Component.field")
                continue
            if fd[1] in ("str", "entity", "points") or str(fd[1]).startswith(("vec", "refs")):
                self.err(where, f"field {cf!r} is not a numeric scalar")
            agg = k.get("aggregate", "value")
            if agg not in AGGREGATES:
                self.err(where, f"aggregate {agg!r} is not one of {AGGREGATES}")
            ep = k.get("entity", "")
            if ep and ep not in self.ents:
                self.err(where, f"entity {ep!r} does not exist")
                continue
            if agg == "value":
                if not ep or c not in self.ents[ep].comps:
                    self.err(where, f"aggregate value needs an entity with {c} ({ep!r} has none)")
            else:
                sub = [p for p in self.order if not ep or p == ep or p.startswith(ep + "/")]
                if not any(c in self.ents[p].comps for p in sub):
                    self.err(where, f"no entity under {ep or '(world)'!r} has {c}")

    def check_alarms(self):
        for e in self.ents.values():
            if "Alarm" not in e.comps:
                continue
            a = e.comps["Alarm"]
            target = self.ents.get(a["target"]) if a["target"] else self.ents.get(e.parent)
            c, _, f = a["field"].partition(".")
            if FIELDS.get(c, {}).get(f) is None:
                self.err(e.path, f"Alarm.field {a['field']!r} is not Component.field")
            elif target is None or c not in target.comps:
                self.err(e.path, f"its target {(target.path if target else None)!r} has no {c}")
            if not a["use_high"] and not a["use_low"]:
                self.err(e.path, "an alarm with neither use_high nor use_low never fires")
            if e.kind != "alarm":
                self.warn(e.path, "an Alarm component on an entity whose kind is not alarm")

    # -- geometry -------------------------------------------------------------------------------
    def storeys(self):
        return [p for p in self.order if self.ents[p].kind == "storey"]

    def on(self, storey, comp_name):
        return [self.ents[p] for p in self.order if self.ents[p].storey == storey and comp_name in self.ents[p].comps]

    def check_geometry(self):
        self.spaces, self.walls, self.doors, self.obstacles, self.boxes = {}, {}, {}, {}, {}
        for s in self.storeys():
            if "Storey" not in self.ents[s].comps:
                self.err(s, "a storey needs a Storey component")
            spaces = []
            for sp in self.on(s, "Space"):
                sh = sp.comps.get("Shape")
                if not sh or sh["kind"] != "extrusion":
                    self.err(sp.path, "a space needs Shape kind extrusion")
                    continue
                poly = [tuple(p) for p in sh["points"]]
                if len(poly) < 3:
                    self.err(sp.path, "a footprint needs at least 3 points")
                    continue
                if signed_area(poly) <= 0:
                    self.err(sp.path, "the footprint is not counter-clockwise")
                if not polygon_is_simple(poly):
                    self.err(sp.path, "the footprint intersects itself")
                spaces.append((sp, poly))
            for i, (a, pa) in enumerate(spaces):
                for b, pb in spaces[i + 1:]:
                    if polygons_overlap(pa, pb):
                        self.err(a.path, f"its footprint overlaps {b.path}")
            self.spaces[s] = spaces

            walls = {}
            for w in self.on(s, "Wall"):
                sh = w.comps.get("Shape")
                if not sh or sh["kind"] != "polyline" or len(sh["points"]) < 2:
                    self.err(w.path, "a wall needs Shape kind polyline with at least 2 points")
                    continue
                walls[w.path] = {"e": w, "pts": [tuple(p) for p in sh["points"]], "half": sh["thickness"] / 2,
                                 "doors": []}
            for d in self.on(s, "Door"):
                wp = d.comps["Door"]["wall"]
                if wp not in walls:
                    self.err(d.path, f"Door.wall {wp!r} is not a wall on this storey")
                    continue
                w = walls[wp]
                off, width = d.comps["Door"]["offset"], d.comps["Door"]["width"]
                lo, hi = off - width / 2, off + width / 2
                if lo < 0 or hi > polyline_length(w["pts"]):
                    self.err(d.path, f"opening {lo:g}..{hi:g} m runs off its wall (length "
                                     f"{polyline_length(w['pts']):g} m)")
                cum = 0.0
                for a, b in zip(w["pts"], w["pts"][1:]):
                    L = math.dist(a, b)
                    if lo < cum + L - 1e-9 and hi > cum + L + 1e-9 and b != w["pts"][-1]:
                        self.err(d.path, "its opening spans a corner of the wall")
                    cum += L
                for other in w["doors"]:
                    o = other.comps["Door"]
                    if abs(o["offset"] - off) < (o["width"] + width) / 2:
                        self.err(d.path, f"its opening overlaps {other.path}")
                a, b = polyline_point(w["pts"], lo), polyline_point(w["pts"], hi)
                for op, ow in walls.items():
                    if op == wp:
                        continue
                    for p, q in zip(ow["pts"], ow["pts"][1:]):
                        gap = seg_seg_dist(a, b, p, q)
                        if gap < ow["half"] + 0.05:
                            self.err(d.path, f"its opening is blocked by {op}")
                            break
                w["doors"].append(d)
                self.doors[d.path] = (w, lo, hi)
            self.walls[s] = walls

            # Obstacles for walking: solid wall pieces, conveyors, equipment boxes.
            obs = []
            for wp, w in walls.items():
                gaps = [(self.doors[d.path][1], self.doors[d.path][2]) for d in w["doors"]]
                for a, b in polyline_pieces(w["pts"], gaps):
                    obs.append((a, b, w["half"], wp, "wall"))
            for c in self.on(s, "Conveyor"):
                sh = c.comps.get("Shape")
                if sh and sh["kind"] == "polyline":
                    for a, b in zip(sh["points"], sh["points"][1:]):
                        obs.append((tuple(a), tuple(b), sh["thickness"] / 2, c.path, "belt"))
            boxes = []
            for q in self.on(s, "Shape"):
                sh = q.comps["Shape"]
                if sh["kind"] == "box" and q.kind == "equipment" and "Transform" in q.comps:
                    edges = box_edges(q.xy(), sh["size"], q.comps["Transform"]["yaw"])
                    boxes.append((q, edges))
                    for a, b in edges:
                        obs.append((a, b, 0.0, q.path, "box"))
            self.boxes[s] = boxes
            self.obstacles[s] = obs

    def waypoint_checks(self):
        self.wps = {p: e for p, e in self.ents.items() if "Waypoint" in e.comps}
        person_r = max([e.comps["Body"]["radius"] for e in self.ents.values()
                        if "Agent" in e.comps and e.comps["Agent"]["type"] == "person" and "Body" in e.comps]
                       or [0.3])
        agv_r = {}
        for e in self.ents.values():
            if "Agent" in e.comps and e.comps["Agent"]["type"] == "agv" and "Body" in e.comps:
                agv_r[e.storey] = max(agv_r.get(e.storey, 0), e.comps["Body"]["radius"])
        seen_links = set()
        for p, e in self.wps.items():
            w = e.comps["Waypoint"]
            if "Transform" not in e.comps:
                self.err(p, "a waypoint needs a Transform (its position)")
            if e.storey is None:
                self.err(p, "a waypoint must be under a storey")
                continue
            z = e.comps.get("Transform", {}).get("position", [0, 0, 0])[2]
            st = self.ents[e.storey].comps.get("Storey", {})
            if abs(z - st.get("elevation", 0)) > 1e-6:
                self.err(p, f"z {z:g} is not its storey's elevation {st.get('elevation', 0):g}")
            if w["door"]:
                if w["door"] not in self.doors:
                    self.err(p, f"Waypoint.door {w['door']!r} is not a door on a wall")
                else:
                    wall, lo, hi = self.doors[w["door"]]
                    d, off = polyline_project(wall["pts"], e.xy())
                    if d > wall["half"] + 1e-6 or not (lo + 0.05 <= off <= hi - 0.05):
                        self.err(p, f"it is not inside the opening of {w['door']} "
                                    f"(distance {d:.2f} m from the wall, offset {off:.2f} not in {lo:.2f}..{hi:.2f})")
            elif not any(point_in_polygon(e.xy(), poly) for _, poly in self.spaces.get(e.storey, [])):
                self.err(p, f"it lies in no space of {e.storey}")
            if w["portal"]:
                o = self.wps.get(w["portal"])
                if o is not None:
                    if o.storey == e.storey:
                        self.err(p, "its portal is on the same storey")
                    if o.comps["Waypoint"]["portal"] != p:
                        self.err(p, f"its portal {w['portal']} does not name it back")
                    if math.dist(o.xy(), e.xy()) > 2.0:
                        self.err(p, f"its portal is {math.dist(o.xy(), e.xy()):.1f} m away in plan")
            if w["exit"] and w["role"] != "entrance":
                self.warn(p, "an exit whose role is not entrance")
            for q in w["links"]:
                o = self.wps.get(q)
                if o is None:
                    continue
                key = tuple(sorted((p, q)))
                if q == p:
                    self.err(p, "it links to itself")
                elif key in seen_links:
                    self.err(p, f"the link to {q} is listed twice")
                seen_links.add(key)
                if o.storey != e.storey:
                    self.err(p, f"its link to {q} leaves the storey (use Waypoint.portal for stairs)")
                    continue
                doors = {x for x in (w["door"], o.comps["Waypoint"]["door"]) if x}
                radius = person_r if doors else max(person_r, agv_r.get(e.storey, 0))
                self.check_link(e.storey, p, q, e.xy(), o.xy(), doors, radius)
        self.links = seen_links
        for d in self.doors:
            if not any(e.comps["Waypoint"]["door"] == d for e in self.wps.values()):
                self.warn(d, "no waypoint passes through this door")

    def check_link(self, storey, p, q, a, b, doors, radius):
        where = f"link {p} -> {q.rsplit('/', 1)[-1]}"
        for wp, w in self.walls.get(storey, {}).items():
            cum = 0.0
            for s0, s1 in zip(w["pts"], w["pts"][1:]):
                L = math.dist(s0, s1)
                hit = seg_intersection(a, b, s0, s1)
                if hit:
                    off = cum + hit[1] * L
                    ok = any(d.path in doors and self.doors[d.path][1] - 1e-6 <= off <= self.doors[d.path][2] + 1e-6
                             for d in w["doors"])
                    if not ok:
                        x, y = a[0] + hit[0] * (b[0] - a[0]), a[1] + hit[0] * (b[1] - a[1])
                        self.err(where, f"crosses {wp} at ({x:.2f}, {y:.2f}) outside the opening of a door "
                                        f"of the link's doorway node")
                        return
                cum += L
        for q_, edges in self.boxes.get(storey, []):
            if any(seg_intersection(a, b, e0, e1) for e0, e1 in edges):
                self.err(where, f"runs through {q_.path}")
                return
        for o in self.obstacles.get(storey, []):
            if o[4] == "belt" and seg_intersection(a, b, o[0], o[1]):
                self.err(where, f"crosses the conveyor {o[3]}")
                return
        # Clearance: a body of `radius` following the link keeps clear of every solid piece.
        L = math.dist(a, b)
        n = max(1, int(L / 0.05))
        lo_x, hi_x = min(a[0], b[0]) - radius - 1, max(a[0], b[0]) + radius + 1
        lo_y, hi_y = min(a[1], b[1]) - radius - 1, max(a[1], b[1]) + radius + 1
        near = [o for o in self.obstacles.get(storey, [])
                if max(o[0][0], o[1][0]) >= lo_x and min(o[0][0], o[1][0]) <= hi_x and
                max(o[0][1], o[1][1]) >= lo_y and min(o[0][1], o[1][1]) <= hi_y]
        for i in range(n + 1):
            t = i / n
            pt = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
            for o in near:
                gap = point_seg_dist(pt, o[0], o[1]) - o[2]
                if gap < radius - 1e-6:
                    self.err(where, f"passes {gap:.2f} m from {o[3]} at ({pt[0]:.2f}, {pt[1]:.2f}): a body of "
                                    f"radius {radius:g} m does not fit")
                    return

    # -- reachability ----------------------------------------------------------------------
    def graph(self, closed=()):
        adj = {p: set() for p in self.wps}
        for p, q in self.links:
            adj[p].add(q)
            adj[q].add(p)
        for p, e in self.wps.items():
            t = e.comps["Waypoint"]["portal"]
            if t in adj:
                adj[p].add(t)
                adj[t].add(p)

        def passable(p):
            # as the engine routes: a shut door is opened by whoever comes, a locked one stops them
            d = self.wps[p].comps["Waypoint"]["door"]
            if not d or d not in self.ents:
                return True
            return not self.ents[d].comps["Door"]["locked"] and d not in closed
        return adj, passable

    def reach(self, starts, closed=()):
        adj, passable = self.graph(closed)
        seen = set(s for s in starts if passable(s))
        todo = list(seen)
        while todo:
            p = todo.pop()
            for q in adj[p]:
                if q not in seen and passable(q):
                    seen.add(q)
                    todo.append(q)
        return seen

    def check_reachability(self):
        exits = [p for p, e in self.wps.items() if e.comps["Waypoint"]["exit"]]
        if not exits:
            self.err("(waypoints)", "no waypoint is an exit: nobody can enter or leave")
            return
        seen = self.reach(exits)
        for p in self.wps:
            if p not in seen:
                self.err(p, "cannot be reached from any entrance")
        for s, spaces in self.spaces.items():
            for sp, poly in spaces:
                if not any(point_in_polygon(self.wps[p].xy(), poly) for p in seen if self.wps[p].storey == s):
                    self.err(sp.path, "no reachable waypoint lies in this space")
        # With the main stair's doors locked, everyone must still get out (by the fire stair).
        locked = [d for d in self.doors if "stair-main" in d.rsplit("/", 1)[-1]]
        if locked:
            out = self.reach(exits, locked)
            stuck = [p for p, e in self.wps.items() if e.comps["Waypoint"]["role"] in ("desk", "meeting", "kitchen")
                     and p not in out]
            for p in stuck:
                self.err(p, "cannot reach an exit when the main stair's doors are locked")
            self.notes.append(f"main stair locked ({len(locked)} doors): every desk, meeting and kitchen place "
                              f"still reaches an exit" if not stuck else "main stair locked: some places are cut off")

    # -- agents -------------------------------------------------------------------------------------
    def check_agents(self):
        homes, starts = {}, []
        for p in self.order:
            e = self.ents[p]
            if "Agent" not in e.comps:
                continue
            a = e.comps["Agent"]
            if e.kind != "agent":
                self.warn(p, "an Agent on an entity whose kind is not agent")
            if e.storey is None:
                self.err(p, "an agent must live under a storey")
            if "Body" not in e.comps:
                self.err(p, "an agent needs a Body")
            home = self.wps.get(a["home"])
            if home is None:
                self.err(p, "Agent.home is not a waypoint")
                continue
            if a["type"] == "person":
                if home.comps["Waypoint"]["role"] != "desk":
                    self.err(p, f"its home {a['home']} is not a desk")
                if a["home"] in homes:
                    self.err(p, f"shares its desk with {homes[a['home']]}")
                homes[a["home"]] = p
                office = self.office_of(home)
                if office is None:
                    self.err(p, f"its desk {a['home']} is in no office")
                if not (0 <= a["arrive_hour"] < a["leave_hour"] <= 24):
                    self.err(p, "arrive_hour must come before leave_hour, both within the day")
                if "Body" in e.raw.get("components", {}) and "position" in e.raw["components"]["Body"]:
                    self.err(p, "a person starts outside: leave Body.position out")
                if self.ents[e.storey].comps.get("Storey", {}).get("elevation", 0) != min(
                        self.ents[s].comps.get("Storey", {}).get("elevation", 0) for s in self.storeys()):
                    self.warn(p, "people should live under the ground floor (they arrive at an entrance)")
            else:
                route = a["route"]
                if not route:
                    self.err(p, "an AGV needs a route")
                    continue
                if route[0] != a["home"]:
                    self.err(p, "Agent.home must be the first stop of its route")
                for s in route:
                    if s in self.wps and self.wps[s].comps["Waypoint"]["role"] != "station":
                        self.err(p, f"route stop {s} is not a station")
                if "Body" in e.comps and math.dist(e.comps["Body"]["position"], home.xy()) > 0.01:
                    self.err(p, "Body.position must be its first stop's position")
                for s, t in zip(route, route[1:] + route[:1]):
                    if s in self.wps and t in self.wps and t not in self.reach([s]):
                        self.err(p, f"no path from {s} to {t}")
                if "Body" in e.comps:
                    starts.append((p, e.comps["Body"]["position"], e.comps["Body"]["radius"]))
        for i, (p, a, ra) in enumerate(starts):
            for q, b, rb in starts[i + 1:]:
                if math.dist(a, b) < ra + rb:
                    self.err(p, f"starts overlapping {q}")
        # Desks per office never exceed its capacity.
        for s, spaces in self.spaces.items():
            for sp, poly in spaces:
                desks = [w for w in self.wps.values() if w.storey == s and w.comps["Waypoint"]["role"] == "desk"
                         and point_in_polygon(w.xy(), poly)]
                if len(desks) > sp.comps["Space"]["capacity"]:
                    self.err(sp.path, f"{len(desks)} desks but capacity {sp.comps['Space']['capacity']}")

    def office_of(self, wp):
        for sp, poly in self.spaces.get(wp.storey, []):
            if point_in_polygon(wp.xy(), poly):
                roles = {w.comps["Waypoint"]["role"] for w in self.wps.values()
                         if w.storey == wp.storey and point_in_polygon(w.xy(), poly)}
                if "Hvac" in sp.comps and not roles & {"meeting", "kitchen", "stair", "entrance"}:
                    return sp
        return None

    def check_rooms(self):
        """The brief's sizing rules: offices 15-40 m2, meeting rooms 20-30 m2, HVAC 50-80 W/m2."""
        for s, spaces in self.spaces.items():
            for sp, poly in spaces:
                area = signed_area(poly)
                roles = {w.comps["Waypoint"]["role"] for w in self.wps.values()
                         if w.storey == s and point_in_polygon(w.xy(), poly)}
                if "desk" in roles and not 15 <= area <= 40:
                    self.err(sp.path, f"an office of {area:g} m2 (want 15..40)")
                if "meeting" in roles and not 20 <= area <= 30:
                    self.err(sp.path, f"a meeting room of {area:g} m2 (want 20..30)")
                if roles & {"desk", "meeting"}:
                    h = sp.comps.get("Hvac")
                    if h is None:
                        self.err(sp.path, "an office or meeting room without Hvac")
                    elif not (50 <= h["max_heating"] / area <= 80 and 50 <= h["max_cooling"] / area <= 80):
                        self.err(sp.path, "HVAC capacity outside 50..80 W/m2")
                    if "Thermal" not in sp.comps or "Air" not in sp.comps:
                        self.err(sp.path, "an office or meeting room without Thermal and Air")

    def run(self, doc):
        self.load(doc)
        self.check_refs()
        self.check_kpis()
        self.check_alarms()
        self.check_geometry()
        self.waypoint_checks()
        self.check_reachability()
        self.check_agents()
        self.check_rooms()
        kinds = {}
        for e in self.ents.values():
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        self.notes.insert(0, ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())) +
                          f"; {len(self.links)} links; {len(doc.get('kpis', []))} KPIs")
        return self


def seg_seg_dist(a, b, c, d):
    if seg_intersection(a, b, c, d):
        return 0.0
    return min(point_seg_dist(a, c, d), point_seg_dist(b, c, d), point_seg_dist(c, a, b), point_seg_dist(d, a, b))


def polygons_overlap(pa, pb):
    """True when the interiors of two simple polygons overlap (shared edges do not count)."""
    for i in range(len(pa)):
        a0, a1 = pa[i], pa[(i + 1) % len(pa)]
        for j in range(len(pb)):
            b0, b1 = pb[j], pb[(j + 1) % len(pb)]
            d1, d2 = cross(b0, b1, a0), cross(b0, b1, a1)
            d3, d4 = cross(a0, a1, b0), cross(a0, a1, b1)
            if ((d1 > 1e-9 and d2 < -1e-9) or (d1 < -1e-9 and d2 > 1e-9)) and \
               ((d3 > 1e-9 and d4 < -1e-9) or (d3 < -1e-9 and d4 > 1e-9)):
                return True
    # Touching or collinear edges hide overlaps from the test above: probe points just inside each
    # polygon along its edges (left of a counter-clockwise edge is inside) against the other one.
    for p, q in ((pa, pb), (pb, pa)):
        for i in range(len(p)):
            a, b = p[i], p[(i + 1) % len(p)]
            L = math.dist(a, b)
            for f in (0.05, 0.5, 0.95):
                probe = (a[0] + f * (b[0] - a[0]) - (b[1] - a[1]) / L * 1e-3,
                         a[1] + f * (b[1] - a[1]) + (b[0] - a[0]) / L * 1e-3)
                if point_in_polygon(probe, p) and point_in_polygon(probe, q):
                    return True
    return False


def schema_drift(path):
    """Differences between SCHEMA and the reflection tables in components.c (names and derived flags)."""
    try:
        src = open(path).read()
    except OSError:
        return [f"cannot read {path}: schema not cross-checked"]
    found = {}
    src = re.sub(r"(?m)^#define.*(\\\n.*)*$", "", src)  # the macros' own parameter lists
    for m in re.finditer(r"\b(FLD|FLD_D|FLD_V|FLD_E|FLD_S)\((\w+),\s*(\w+)([^\n]*)", src):
        found[(m.group(2), m.group(3))] = m.group(1) == "FLD_D" or "TW_FIELD_DERIVED" in m.group(4)
    for m in re.finditer(r'\{\s*"(\w+)",\s*TW_TYPE_\w+,\s*\(uint32_t\)offsetof\((\w+),\s*\w+\),(.*?)\}', src, re.S):
        found[(m.group(2), m.group(1))] = "TW_FIELD_DERIVED" in m.group(3)
    mine = {(c, f[0]): "D" in f[3] for c, fs in SCHEMA.items() for f in fs}
    out = []
    for k in sorted(set(found) | set(mine)):
        if k not in found:
            out.append(f"{k[0]}.{k[1]} is in this script but not in components.c")
        elif k not in mine:
            out.append(f"{k[0]}.{k[1]} is in components.c but not in this script")
        elif found[k] != mine[k]:
            out.append(f"{k[0]}.{k[1]}: derived flag differs from components.c")
    return out


# --------------------------------------------------------------------------------------------
# Plans: one SVG per scene, a panel per storey, drawn from the checked scene itself
# --------------------------------------------------------------------------------------------

ROLE_COLOURS = {"path": "#8a8a8a", "desk": "#2f6db5", "meeting": "#c77700", "kitchen": "#3d8b3d",
                "entrance": "#1a9e4b", "stair": "#7b3fa0", "station": "#b8336a"}
SPACE_FILLS = {"desk": "#e3eefa", "meeting": "#fbe8cc", "kitchen": "#e2f1dc", "stair": "#ece4f2",
               "station": "#f6f6f2"}


def plan_svg(chk, title, scale):
    storeys = chk.storeys()
    xs, ys = [], []
    for s in storeys:
        for w in chk.walls.get(s, {}).values():
            xs += [p[0] for p in w["pts"]]
            ys += [p[1] for p in w["pts"]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    m, head, legend_h = 30, 26, 40
    pw, ph = (x1 - x0) * scale, (y1 - y0) * scale
    width = pw + 2 * m + 80          # room on the right for the labels of nodes on the east wall
    height = len(storeys) * (ph + head + m) + m + legend_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
           f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif">',
           f'<rect width="{width:g}" height="{height:g}" fill="white"/>']

    for i, s in enumerate(storeys):
        top = m + i * (ph + head + m) + head

        def X(x):
            return f"{m + (x - x0) * scale:.1f}"

        def Y(y):
            return f"{top + (y1 - y) * scale:.1f}"

        def pts(poly):
            return " ".join(f"{X(p[0])},{Y(p[1])}" for p in poly)
        elev = chk.ents[s].comps.get("Storey", {}).get("elevation", 0)
        out.append(f'<text x="{m}" y="{top - 8:.1f}" font-size="14" font-weight="bold">{title} — {s} '
                   f'(elevation {elev:g} m)</text>')
        for sp, poly in chk.spaces.get(s, []):
            roles = {w.comps["Waypoint"]["role"] for w in chk.wps.values()
                     if w.storey == s and point_in_polygon(w.xy(), poly)}
            fill = next((SPACE_FILLS[r_] for r_ in ("desk", "meeting", "kitchen", "stair", "station") if r_ in roles),
                        "#f4f4f4")
            out.append(f'<polygon points="{pts(poly)}" fill="{fill}" stroke="none"/>')
            cx = sum(p[0] for p in poly) / len(poly)
            cy = max(p[1] for p in poly) - 0.9 if (max(p[1] for p in poly) - min(p[1] for p in poly)) > 4 else \
                sum(p[1] for p in poly) / len(poly)
            out.append(f'<text x="{X(cx)}" y="{Y(cy)}" font-size="9" text-anchor="middle" fill="#555">'
                       f'{sp.name}</text>')
        for q, edges in chk.boxes.get(s, []):
            out.append(f'<polygon points="{pts([e[0] for e in edges])}" fill="#f0a04b" stroke="#9a5b14"/>')
            if min(q.comps["Shape"]["size"][:2]) >= 1.5:  # machines; small appliances stay unlabelled
                out.append(f'<text x="{X(q.xy()[0])}" y="{Y(q.xy()[1])}" font-size="9" text-anchor="middle" '
                           f'dominant-baseline="middle">{q.name}</text>')
        for c in chk.on(s, "Conveyor"):
            sh = c.comps["Shape"]
            out.append(f'<polyline points="{pts(sh["points"])}" fill="none" stroke="#d9b300" '
                       f'stroke-width="{sh["thickness"] * scale:.1f}"/>')
            a, b = sh["points"][-2], sh["points"][-1]
            out.append(f'<text x="{X((a[0] + b[0]) / 2)}" y="{Y(b[1] + 0.5)}" font-size="9" '
                       f'text-anchor="middle">{c.name} →</text>')
        for w in chk.walls.get(s, {}).values():
            gaps = [(chk.doors[d.path][1], chk.doors[d.path][2]) for d in w["doors"]]
            for a, b in polyline_pieces(w["pts"], gaps):
                out.append(f'<line x1="{X(a[0])}" y1="{Y(a[1])}" x2="{X(b[0])}" y2="{Y(b[1])}" stroke="#222" '
                           f'stroke-width="{max(1.0, 2 * w["half"] * scale):.1f}" stroke-linecap="square"/>')
            for d in w["doors"]:
                _, lo, hi = chk.doors[d.path]
                a, b = polyline_point(w["pts"], lo), polyline_point(w["pts"], hi)
                col = "#1a9e4b" if d.comps["Door"]["exit"] else "#b07a3a"
                out.append(f'<line x1="{X(a[0])}" y1="{Y(a[1])}" x2="{X(b[0])}" y2="{Y(b[1])}" stroke="{col}" '
                           f'stroke-width="2" stroke-dasharray="3,2"/>')
        for p, q in sorted(chk.links):
            a, b = chk.wps[p], chk.wps[q]
            if a.storey == s:
                out.append(f'<line x1="{X(a.xy()[0])}" y1="{Y(a.xy()[1])}" x2="{X(b.xy()[0])}" '
                           f'y2="{Y(b.xy()[1])}" stroke="#9bb" stroke-width="0.8"/>')
        for p, e in chk.wps.items():
            if e.storey != s:
                continue
            w = e.comps["Waypoint"]
            rad = 3.5 if w["role"] in ("entrance", "stair", "station") else 2.2
            out.append(f'<circle cx="{X(e.xy()[0])}" cy="{Y(e.xy()[1])}" r="{rad}" '
                       f'fill="{ROLE_COLOURS[w["role"]]}"/>')
            exterior_door = w["door"] in chk.doors and chk.doors[w["door"]][0]["e"].comps["Wall"]["exterior"]
            if w["role"] in ("entrance", "stair", "station") or exterior_door:
                out.append(f'<text x="{X(e.xy()[0] + 0.35)}" y="{Y(e.xy()[1] + 0.35)}" font-size="8" '
                           f'fill="{ROLE_COLOURS[w["role"]]}">{e.name}</text>')
        for e in chk.ents.values():
            if e.storey == s and "Agent" in e.comps and e.comps["Agent"]["type"] == "agv":
                b = e.comps["Body"]
                out.append(f'<circle cx="{X(b["position"][0])}" cy="{Y(b["position"][1])}" '
                           f'r="{b["radius"] * scale:.1f}" fill="none" stroke="#b8336a" stroke-width="1.5"/>')
                out.append(f'<text x="{X(b["position"][0])}" y="{Y(b["position"][1] - b["radius"] - 0.6)}" '
                           f'font-size="8" text-anchor="middle" fill="#b8336a">{e.name}</text>')
        # scale bar: 5 m
        bar_y = float(Y(y0)) + 14
        out.append(f'<line x1="{X(x1 - 5)}" y1="{bar_y:.1f}" x2="{X(x1)}" y2="{bar_y:.1f}" stroke="#222" '
                   f'stroke-width="2"/>')
        out.append(f'<text x="{X(x1 - 2.5)}" y="{float(Y(y0)) + 26:.1f}" font-size="9" '
                   f'text-anchor="middle">5 m</text>')
    ly = height - legend_h + 10
    x = m
    for role, col in ROLE_COLOURS.items():
        out.append(f'<circle cx="{x + 4}" cy="{ly}" r="4" fill="{col}"/>')
        out.append(f'<text x="{x + 12}" y="{ly + 4}" font-size="10">{role}</text>')
        x += 80
    out.append(f'<line x1="{x}" y1="{ly}" x2="{x + 18}" y2="{ly}" stroke="#b07a3a" stroke-width="2" '
               f'stroke-dasharray="3,2"/><text x="{x + 24}" y="{ly + 4}" font-size="10">door</text>')
    x += 70
    out.append(f'<line x1="{x}" y1="{ly}" x2="{x + 18}" y2="{ly}" stroke="#1a9e4b" stroke-width="2" '
               f'stroke-dasharray="3,2"/><text x="{x + 24}" y="{ly + 4}" font-size="10">exit door</text>')
    x += 90
    out.append(f'<line x1="{x}" y1="{ly}" x2="{x + 18}" y2="{ly}" stroke="#9bb" stroke-width="1"/>'
               f'<text x="{x + 24}" y="{ly + 4}" font-size="10">walking link</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

SCENES = {"office": (office_scene, 20), "factory": (factory_scene, 15)}


def check_file(path, expected_text=None, label=None):
    label = label or path
    try:
        text = open(path, encoding="utf-8").read()
        doc = json.loads(text)
    except (OSError, ValueError) as ex:
        chk = Checker(label)
        chk.err("(file)", str(ex))
        return chk, None
    chk = Checker(label).run(doc)
    if scene_text(doc) != text:
        chk.warn("(file)", "not in this script's layout (2-space indent, short numbers, newline at end)")
    if expected_text is not None and expected_text != text:
        chk.err("(file)", "differs from what tools/gen_scenes.py writes now: run it to regenerate")
    return chk, doc


def report(chks, drift):
    bad = False
    for d in drift:
        print(f"schema: {d}")
        bad = True
    for c in chks:
        for n in c.notes:
            print(f"{c.label}: {n}")
        for w in c.warnings:
            print(f"warning: {w}")
        for e in c.errors:
            print(f"error: {e}")
        print(f"{c.label}: {'OK' if not c.errors else f'{len(c.errors)} errors'}"
              f"{f', {len(c.warnings)} warnings' if c.warnings else ''}")
        bad = bad or bool(c.errors)
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", nargs="*", metavar="FILE",
                    help="validate these scene files (default: the shipped scenes) instead of writing")
    ap.add_argument("--root", default=ROOT, help="project root (default: this script's parent folder)")
    args = ap.parse_args(argv)
    drift = schema_drift(os.path.join(args.root, "engine/sim/src/components.c"))

    if args.check:
        return report([check_file(p)[0] for p in args.check], drift)
    chks = []
    for name, (make, scale) in SCENES.items():
        path = os.path.join(args.root, "scenes", f"{name}.twin.json")
        text = scene_text(make())
        if args.check is None:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        chk, doc = check_file(path, text, f"scenes/{name}.twin.json")
        chks.append(chk)
        if args.check is None and doc is not None and not chk.errors:
            svg = os.path.join(args.root, "docs", "img", f"{name}.svg")
            os.makedirs(os.path.dirname(svg), exist_ok=True)
            with open(svg, "w", encoding="utf-8") as f:
                f.write(plan_svg(chk, name, scale))
    return report(chks, drift)


if __name__ == "__main__":
    sys.exit(main())
