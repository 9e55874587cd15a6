#!/usr/bin/env python3
"""Generates assets/telemetry/office-day.csv: a SYNTHETIC recorded day of
building telemetry for scenes/office.twin.json.

Nobody measured this data. It stands in for a building management system's
export until a real site is connected, and it is made so that it differs
from what the twin would simulate on its own, which is what makes binding
it worth doing:

  * the "real" day is warmer (weather mean +4 K) and people keep other
    hours (another seed for their plans);
  * the HVAC of room-203 is undersized in reality (15 % of its cooling
    capacity), so that room runs warm in the afternoon;
  * sensors have noise and resolution: temperature 0.1 K (noise 0.08 K),
    CO2 1 ppm (noise 8 ppm), occupancy a people count, main meter 0.01 kW
    (noise 1 %), and timestamps jitter by 0-2 s (whole seconds).

How: the generator runs the twin itself on a modified copy of the office
scene (with KPIs for every sensor, sampled every minute), then turns the
KPI columns into long-form samples `time,sensor,value` (ISO 8601 UTC):
room temperature, CO2 and occupancy every 5 minutes, the main meter every
minute (in kW, to exercise unit conversion).

Sensor ids look like MQTT topics: hq/office/<storey>/<room>/temperature
(degC), .../co2 (ppm), .../occupancy (people), hq/office/meter/power (kW).

Usage: tools/gen_telemetry.py --twin build/release/twin [--out assets/telemetry/office-day.csv]
The output is the same bytes on every run (fixed seeds).
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def walk(entity, path=""):
    p = f"{path}/{entity['name']}" if path else entity["name"]
    yield p, entity
    for child in entity.get("children", []):
        yield from walk(child, p)


def find(scene, path):
    for p, e in walk(scene["entities"][0]):
        if p == path:
            return e
    raise KeyError(path)


def sensor_rooms(scene):
    """Spaces named room-* (offices, meeting rooms, kitchen, server room): they have sensors."""
    rooms = []
    for p, e in walk(scene["entities"][0]):
        if e.get("kind") == "space" and e["name"].startswith("room-"):
            rooms.append(p)
    return rooms


def make_reality(scene):
    real = json.loads(json.dumps(scene))
    real["simulation"]["seed"] = 2
    real["simulation"]["kpi_interval"] = 60
    site = real["entities"][0]
    weather = site.setdefault("components", {}).setdefault("Weather", {})
    weather["mean"] = weather.get("mean", 12) + 4
    weak = find(real, "hq/office/floor-2/room-203")
    hvac = weak["components"].setdefault("Hvac", {})
    hvac["max_cooling"] = 0.15 * hvac.get("max_cooling", 3000)
    kpis = []
    for room in sensor_rooms(real):
        key = room.replace("/", "__")
        kpis.append({"name": f"{key}__temperature", "field": "Thermal.temperature", "entity": room, "aggregate": "value"})
        kpis.append({"name": f"{key}__co2", "field": "Air.co2", "entity": room, "aggregate": "value"})
        kpis.append({"name": f"{key}__occupancy", "field": "Space.occupants", "entity": room, "aggregate": "value"})
    kpis.append({"name": "hq__office__meter__power", "field": "Meter.power", "entity": "hq/office", "aggregate": "value"})
    real["kpis"] = kpis
    return real


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--twin", required=True, help="path of the twin executable")
    ap.add_argument("--scene", default=os.path.join(ROOT, "scenes/office.twin.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "assets/telemetry/office-day.csv"))
    args = ap.parse_args()

    scene = json.load(open(args.scene))
    real = make_reality(scene)
    start = datetime.fromisoformat(real["simulation"]["start"].replace("Z", "+00:00"))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "reality.twin.json")
        json.dump(real, open(path, "w"), indent=1)
        out = os.path.join(tmp, "run")
        subprocess.run([args.twin, "run", path, "--out", out, "--quiet", "--duration", "86400"],
                       check=True, stdout=subprocess.DEVNULL)
        rows = list(csv.reader(open(os.path.join(out, "kpis.csv"))))

    header, data = rows[0], rows[1:]
    rng = random.Random(42)
    samples = []
    for row in data:
        t = float(row[0])
        if t >= 86400:
            continue
        minute = int(round(t / 60))
        for name, cell in zip(header[1:], row[1:]):
            if cell == "":
                continue
            sensor = name.replace("__", "/")
            v = float(cell)
            kind = sensor.rsplit("/", 1)[1]
            if kind == "power":
                value = f"{round(v * (1 + rng.gauss(0, 0.01)) / 1000.0, 2):.2f}"
            elif minute % 5 != 0:
                continue
            elif kind == "temperature":
                value = f"{round(v + rng.gauss(0, 0.08), 1):.1f}"
            elif kind == "co2":
                value = str(max(380, int(round(v + rng.gauss(0, 8)))))
            else:  # occupancy: a people counter
                value = str(int(round(v)))
            when = start + timedelta(seconds=t + rng.randint(0, 2))
            samples.append((when, sensor, value))
    samples.sort(key=lambda s: (s[0], s[1]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        f.write("time,sensor,value\n")
        for when, sensor, value in samples:
            stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.write(f"{stamp},{sensor},{value}\n")
    sensors = sorted({s for _, s, _ in samples})
    print(f"wrote {args.out}: {len(samples)} samples from {len(sensors)} sensors", file=sys.stderr)


if __name__ == "__main__":
    main()
