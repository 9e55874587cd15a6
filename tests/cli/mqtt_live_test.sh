#!/usr/bin/env bash
# `twin run --mqtt`: live telemetry from a real Mosquitto broker started here
# on a free loopback port (and stopped at the end). The run follows the wall
# clock for a few seconds while mosquitto_pub sends temperatures; summary.json
# must count them applied, and the room must hold the last value.
#   mqtt_live_test.sh TWIN SOURCE_DIR WORK_DIR
set -u
twin="$1"; src="$2"; work="$3"
command -v mosquitto >/dev/null 2>&1 || { echo "mosquitto is not installed (Debian: mosquitto): skipped"; exit 77; }
command -v mosquitto_pub >/dev/null 2>&1 || { echo "mosquitto_pub is not installed (Debian: mosquitto-clients): skipped"; exit 77; }
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/broker.conf"
mosquitto -c "$work/broker.conf" >"$work/broker.log" 2>&1 &
broker=$!
trap 'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null' EXIT
for _ in $(seq 50); do
  mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m 1 >/dev/null 2>&1 && break
  sleep 0.1
done

# A dead broker: a clear message, and the run still ends by itself.
"$twin" run "$src/tests/cli/data/tiny.twin.json" --mqtt "mqtt://127.0.0.1:1/site/#" \
  --bindings "$src/tests/cli/data/live.bindings.json" --duration 1 --out "$work/dead" --quiet >"$work/dead.log" 2>&1
rc=$?
[[ $rc == 0 && -s "$work/dead/summary.json" ]] && ok mqtt_dead_broker_run_ends || bad "mqtt_dead_broker_run_ends (exit $rc): $(cat "$work/dead.log")"

"$twin" run "$src/tests/cli/data/tiny.twin.json" --mqtt "mqtt://127.0.0.1:$port/site/#?qos=1" \
  --bindings "$src/tests/cli/data/live.bindings.json" --duration 4 --out "$work/live" --record "$work/live.twlog" \
  --quiet >"$work/live.log" 2>&1 &
run=$!
sleep 1.5
for v in 23.5 24.0 24.5; do
  mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t site/room-a/temp -m "$v"
done
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t site/room-b/temp -m "nonsense"
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t site/attic/temp -m "20"
wait "$run"; rc=$?
[[ $rc == 0 ]] && ok mqtt_live_run_exits_0 || bad "mqtt_live_run_exits_0 (exit $rc): $(cat "$work/live.log")"
if python3 - "$work/live/summary.json" "$work/live/kpis.csv" <<'PY'
import json, sys, csv
s = json.load(open(sys.argv[1]))
t = s["telemetry"]
assert t["received"] == 5, t
assert t["applied"] == 3, t
assert t["rejected"] == 1, t
assert t["unknown_sensor"] == 1, t          # site/attic/temp matches no room
assert t["rejected_by"]["value"] == 1, t    # "nonsense" is not a number
assert t["unknown_sensors"][0]["sensor"] == "site/attic/temp", t
assert 3.5 <= s["sim_time_s"] <= 4.5, s["sim_time_s"]
rows = list(csv.reader(open(sys.argv[2])))
h = rows[0]
last = dict(zip(h, rows[-1]))
assert abs(float(last["room_a_temp"]) - 24.5) < 0.05, last["room_a_temp"]
PY
then ok mqtt_live_samples_applied_and_counted; else bad "mqtt_live_samples_applied_and_counted: $(cat "$work/live/summary.json" 2>/dev/null | head -60)"; fi

# The live run was recorded as applied: replaying the log, with no broker,
# ends on the live run's state and counts the same samples.
"$twin" replay "$src/tests/cli/data/tiny.twin.json" "$work/live.twlog" --out "$work/replayed" --quiet >"$work/replay.log" 2>&1
rc=$?
if [[ $rc == 0 ]] && python3 - "$work/live/summary.json" "$work/replayed/summary.json" <<'PY'
import json, sys
live, rep = (json.load(open(p)) for p in sys.argv[1:3])
assert live["state_hash"] == rep["state_hash"], (live["state_hash"], rep["state_hash"])
assert rep["telemetry"]["applied"] == live["telemetry"]["applied"] == 3, rep["telemetry"]
PY
then ok mqtt_live_recording_replays_to_the_same_state; else bad "mqtt_live_recording_replays_to_the_same_state (exit $rc): $(cat "$work/replay.log")"; fi

finish
