#!/usr/bin/env bash
# End-to-end tests of telemetry through the CLI: `twin run --telemetry`, the
# counters in summary.json, recording and replay (with seek) of telemetry,
# what-if override/silence of recorded sensors, `twin check` of bindings, a
# real log (UCI occupancy) and the shipped office day.
#   telemetry_test.sh TWIN SOURCE_DIR WORK_DIR
set -u
twin="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"
# check NAME PYTHON-CODE [ARGS...]: the code runs with sys.argv = [ARGS...] and fails by raising.
check() {
  local name="$1" code="$2"; shift 2
  local out
  if out=$(python3 -c "$code" "$@" 2>&1); then ok "$name"; else bad "$name: $(echo "$out" | tail -2 | tr '\n' ' ')"; fi
}
data="$src/tests/cli/data"
tiny="$data/tiny.twin.json"
dirty=(--telemetry "$data/dirty.csv" --telemetry "$data/dirty.senml" --bindings "$data/dirty.bindings.json")

# --- usage
"$twin" run --help 2>&1 | grep -q -- "--telemetry FILE" && ok tel_run_help_mentions_telemetry || bad tel_run_help_mentions_telemetry
"$twin" run "$tiny" --bindings "$data/dirty.bindings.json" --out "$work/u" >/dev/null 2>&1
expect_rc tel_bindings_without_telemetry_is_usage 2 $?
"$twin" run "$tiny" --telemetry - --telemetry - --bindings "$data/dirty.bindings.json" --out "$work/u" </dev/null >/dev/null 2>&1
expect_rc tel_stdin_twice_is_usage 2 $?

# --- the dirty log: every case counted exactly (each number is explained in dirty.csv's design:
# 76 CSV records + 5 SenML records; see the comments beside the counts)
"$twin" run "$tiny" "${dirty[@]}" --out "$work/dirty" --record "$work/dirty.twlog" --quiet >"$work/dirty.txt" 2>"$work/dirty.err"
expect_rc tel_dirty_runs_to_the_end 0 $?
grep -q "^telemetry: 81 samples received, 62 applied" "$work/dirty.txt" && ok tel_dirty_cli_line || bad "tel_dirty_cli_line: $(cat "$work/dirty.txt")"
check tel_dirty_counts_exact '
import json, sys
s = json.load(open(sys.argv[1])); t = s["telemetry"]
want = {
  "received": 81,       # 76 CSV records (the comment and the blank line are not records) + 5 SenML records
  "applied": 62,        # room-a 21+2, room-b temp 21+1 (uncertain), co2 11 (CSV) + 3 (SenML), corridor 3
  "rejected": 10,       # below, by reason
  "late": 1,            # 08:01:40 after 08:10:00: 500 s behind, the window is 30 s
  "duplicate": 2,       # room-b temp at 08:01:00 and 08:05:00 twice (the second with another value)
  "unknown_sensor": 5,  # room-z/temp x3, lobby/co2 x2 (matches the co2 pattern, but there is no lobby)
  "ignored": 1,         # the SenML string record
  "pending": 0,
  "stale_fields": 1,    # the corridor: last sample 08:02:00, stale_after 300, the data ends at 08:20
  "stale_events": 1,
}
for k, v in want.items(): assert t[k] == v, (k, t[k], v)
by = {"line": 2, "time": 1, "value": 1, "sensor": 1, "quality": 1, "nan": 1, "inf": 1, "range": 1, "unit": 1, "target": 0}
assert t["rejected_by"] == by, t["rejected_by"]
d = {"clamped": 1, "deadband_held": 2, "uncertain": 1, "late_window": 1, "late_applied": 0,
     "duplicate_conflict": 1, "unresolved_sensors": 1}
assert t["detail"] == d, t["detail"]
assert t["received"] == sum(t[k] for k in ("applied", "rejected", "late", "duplicate", "unknown_sensor", "ignored", "pending"))
assert t["unknown_sensors_distinct"] == 2
assert t["unknown_sensors"] == [{"sensor": "tiny/room-z/temp", "count": 3}, {"sensor": "tiny/lobby/co2", "count": 2}], t["unknown_sensors"]
assert t["anchor"] == "2024-06-03T08:00:00Z" and s["start_time"] == "2024-06-03T08:00:00Z", (t["anchor"], s["start_time"])
csv, senml = t["sources"]
assert (csv["records"], csv["samples"], csv["malformed"], csv["errors"]) == (76, 76, 5, 5), csv
assert (senml["records"], senml["samples"], senml["ignored"]) == (5, 5, 1), senml
assert any(e.endswith("dirty.csv:29: cannot read the value \"warm\"") for e in csv["first_errors"]), csv["first_errors"]
b = {x["sensor"]: x for x in t["bindings"]}
assert b["tiny/room-a/temp_f"]["applied"] == 23 and b["tiny/room-a/temp_f"]["rejected"] == 1
assert b["tiny/room-b/temp"]["held"] == 2 and b["tiny/room-b/temp"]["mode"] == "assimilate"
assert b["tiny/room-b/co2"]["clamped"] == 1 and b["tiny/room-b/co2"]["applied"] == 14
assert b["tiny/corridor/temp"]["quality"] == "stale"
# the data lasts 1200 s: the run ends one tick after its last sample
assert abs(s["sim_time_s"] - 1200.1) < 1e-6, s["sim_time_s"]
assert s["bindings_files"][0].endswith("dirty.bindings.json")
' "$work/dirty/summary.json"
grep -q "dirty.csv:31: cannot read the time \"yesterday\"" "$work/dirty.err" && ok tel_dirty_errors_name_file_and_line || bad tel_dirty_errors_name_file_and_line
check tel_dirty_kpis_follow_the_data '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
last = rows[-1]
# room-a: 69.9 degF = 21.06 degC, smoothed (tau 120 s) from 69.1..69.9 degF: within 0.1 K
assert abs(float(last["room_a_temp"]) - 21.06) < 0.1, last["room_a_temp"]
# room-b CO2 was set to 650 ppm at 08:20:00, 0.1 s before the end
assert abs(float(last["room_b_co2"]) - 650) < 5, last["room_b_co2"]
' "$work/dirty/kpis.csv"

# standard input: the same samples, the same counts and state
"$twin" run "$tiny" --telemetry - --telemetry "$data/dirty.senml" --bindings "$data/dirty.bindings.json" \
    --out "$work/stdin" --quiet <"$data/dirty.csv" >/dev/null 2>&1
expect_rc tel_stdin_runs 0 $?
[[ -n "$(hash_of "$work/dirty/summary.json")" && "$(hash_of "$work/dirty/summary.json")" == "$(hash_of "$work/stdin/summary.json")" ]] \
  && ok tel_stdin_same_hash || bad tel_stdin_same_hash
check tel_stdin_same_counts 'import json,sys; a,b=(json.load(open(p))["telemetry"] for p in sys.argv[1:]); assert all(a[k]==b[k] for k in ("received","applied","rejected","late","duplicate","unknown_sensor")), (a,b)' \
  "$work/dirty/summary.json" "$work/stdin/summary.json"

# the same samples at another dt: the same samples applied (measured time decides, not ticks)
sed 's/"dt": 0.1/"dt": 0.7/' "$tiny" >"$work/tiny-dt.twin.json"
"$twin" run "$work/tiny-dt.twin.json" "${dirty[@]}" --out "$work/dt" --quiet >/dev/null 2>&1
check tel_other_dt_same_counts 'import json,sys; a,b=(json.load(open(p))["telemetry"] for p in sys.argv[1:]); assert all(a[k]==b[k] for k in ("received","applied","rejected","late","duplicate","unknown_sensor","ignored")), (a,b)' \
  "$work/dirty/summary.json" "$work/dt/summary.json"

# where the bindings come from
mkdir -p "$work/alone"; cp "$data/dirty.csv" "$work/alone/"
"$twin" run "$tiny" --telemetry "$work/alone/dirty.csv" --out "$work/nob" --quiet >/dev/null 2>"$work/nob.err"
expect_rc tel_no_bindings_exit 3 $?
grep -q "no bindings for the telemetry" "$work/nob.err" && grep -q "tiny.bindings.json" "$work/nob.err" \
  && ok tel_no_bindings_says_where_it_looked || bad "tel_no_bindings_says_where_it_looked: $(cat "$work/nob.err")"
[[ ! -e "$work/nob" ]] && ok tel_no_bindings_leaves_no_output || bad tel_no_bindings_leaves_no_output
cp "$data/dirty.bindings.json" "$work/alone/tiny.bindings.json"
"$twin" run "$tiny" --telemetry "$work/alone/dirty.csv" --out "$work/next" --quiet >/dev/null 2>&1
expect_rc tel_default_bindings_next_to_the_data 0 $?
check tel_default_bindings_named 'import json,sys; s=json.load(open(sys.argv[1])); assert s["bindings_files"][0].endswith("alone/tiny.bindings.json"), s["bindings_files"]; assert s["telemetry"]["received"] == 76' \
  "$work/next/summary.json"
"$twin" run "$tiny" --telemetry "$work/missing.csv" --bindings "$data/dirty.bindings.json" --out "$work/miss" --quiet >/dev/null 2>"$work/miss.err"
expect_rc tel_missing_file_exit 3 $?
grep -q "missing.csv" "$work/miss.err" && [[ ! -e "$work/miss" ]] && ok tel_missing_file_named || bad "tel_missing_file_named: $(cat "$work/miss.err")"
"$twin" run "$tiny" --telemetry "$data/dirty.csv" --bindings "$work/nope.bindings.json" --out "$work/miss2" --quiet >/dev/null 2>&1
expect_rc tel_missing_bindings_exit 3 $?

# --- record with telemetry, replay: the same state, the same KPIs; seek from midway: the same end
"$twin" run "$tiny" "${dirty[@]}" --out "$work/plainrun" --quiet >/dev/null 2>&1
[[ "$(hash_of "$work/dirty/summary.json")" == "$(hash_of "$work/plainrun/summary.json")" ]] \
  && ok tel_record_does_not_change_the_run || bad tel_record_does_not_change_the_run
"$twin" replay "$tiny" "$work/dirty.twlog" --out "$work/replay" --quiet >"$work/replay.txt" 2>&1
expect_rc tel_replay_runs 0 $?
[[ -n "$(hash_of "$work/replay/summary.json")" && "$(hash_of "$work/dirty/summary.json")" == "$(hash_of "$work/replay/summary.json")" ]] \
  && ok tel_replay_same_hash || bad "tel_replay_same_hash: $(cat "$work/replay.txt")"
cmp -s "$work/dirty/kpis.csv" "$work/replay/kpis.csv" && ok tel_replay_same_kpis || bad tel_replay_same_kpis
cmp -s "$work/dirty/events.csv" "$work/replay/events.csv" && ok tel_replay_same_events || bad tel_replay_same_events
check tel_replay_counts 'import json,sys
a = json.load(open(sys.argv[1]))["telemetry"]; r = json.load(open(sys.argv[2]))["telemetry"]
# the log holds what the binder took from its queue: applied, duplicates, and the range and unit rejects
assert r["applied"] == a["applied"] and r["duplicate"] == a["duplicate"], (r["applied"], r["duplicate"])
assert r["received"] == a["applied"] + a["duplicate"] + a["rejected_by"]["range"] + a["rejected_by"]["unit"], r["received"]
ab = {x["sensor"]: (x["applied"], x["rejected"], x["held"], x["clamped"]) for x in a["bindings"]}
rb = {x["sensor"]: (x["applied"], x["rejected"], x["held"], x["clamped"]) for x in r["bindings"]}
assert ab == rb, (ab, rb)
' "$work/dirty/summary.json" "$work/replay/summary.json"
# Seeks: to a keyframe (600 s), between keyframes (610 s), late (1150 s). room-a is smoothed and
# room-b has a deadband: without the binder's state in the keyframes these would diverge.
for from in 600 610 1150; do
  "$twin" replay "$tiny" "$work/dirty.twlog" --from "$from" --out "$work/seek-$from" --quiet >"$work/seek-$from.txt" 2>&1
  rc=$?
  [[ $rc -eq 0 && "$(hash_of "$work/dirty/summary.json")" == "$(hash_of "$work/seek-$from/summary.json")" ]] \
    && ok "tel_seek_${from}_same_hash" || bad "tel_seek_${from}_same_hash (exit $rc): $(cat "$work/seek-$from.txt")"
done
"$twin" log info "$work/dirty.twlog" >"$work/info.txt" 2>&1
grep -q "samples: *66 from 4 sensors" "$work/info.txt" && ok tel_log_holds_applied_samples || bad "tel_log_holds_applied_samples: $(grep samples "$work/info.txt")"

# --- what-if on recorded telemetry: override a thermometer, silence a CO2 sensor
"$twin" whatif "$tiny" "$work/dirty.twlog" --scenario "$data/dirty.whatif.json" --from 600 --out "$work/whatif" --quiet \
  >"$work/whatif.txt" 2>"$work/whatif.err"
expect_rc tel_whatif_runs 0 $?
grep -q "2 changes applied (1 failed)" "$work/whatif.txt" && ok tel_whatif_changes_counted || bad "tel_whatif_changes_counted: $(cat "$work/whatif.txt")"
grep -q 'no samples of sensor "tiny/room-b/co2x" (did you mean "tiny/room-b/co2"?)' "$work/whatif.err" \
  && ok tel_whatif_unknown_sensor_named || bad "tel_whatif_unknown_sensor_named: $(cat "$work/whatif.err")"
check tel_whatif_override_and_silence 'import json,sys
c = json.load(open(sys.argv[1] + "/compare.json"))
base = json.load(open(sys.argv[1] + "/baseline/summary.json")); scen = json.load(open(sys.argv[1] + "/scenario/summary.json"))
rec = json.load(open(sys.argv[2]))
assert base["state_hash"] == rec["state_hash"], "the baseline is the recording"
assert scen["state_hash"] != base["state_hash"]
# 95 degF is 35 degC: room-a ends near it instead of 21 degC
assert c["kpis"]["room_a_temp"]["scenario"]["final"] > 34 and c["kpis"]["room_a_temp"]["baseline"]["final"] < 22, c["kpis"]["room_a_temp"]
# room-a samples from 600 s: 11 on the minute + the out-of-range one, all read 95 degF now;
# room-b CO2 samples from 700 s (720 ... 1200 s): 5, all dropped
assert scen["telemetry_replayed"] == {"silenced": 5, "overridden": 12}, scen["telemetry_replayed"]
assert base["telemetry_replayed"] == {"silenced": 0, "overridden": 0}
' "$work/whatif" "$work/dirty/summary.json"

# --- twin check: bindings validated, sensors listed
"$twin" check "$tiny" --bindings "$data/dirty.bindings.json" >"$work/check.txt" 2>&1
expect_rc tel_check_bindings_ok 0 $?
grep -q "^bindings: 4 rules from" "$work/check.txt" && ok tel_check_lists_rules || bad "tel_check_lists_rules: $(cat "$work/check.txt")"
"$twin" check "$tiny" --bindings "$data/dirty.bindings.json" --sensors >"$work/sensors.txt" 2>&1
printf 'tiny/room-a/temp_f\ntiny/room-b/temp\ntiny/{room}/co2\ntiny/corridor/temp\n' >"$work/sensors.want"
cmp -s "$work/sensors.txt" "$work/sensors.want" && ok tel_check_sensors_one_a_line || bad "tel_check_sensors_one_a_line: $(cat "$work/sensors.txt")"
cat >"$work/bad-entity.bindings.json" <<'EOF'
{"format": "twin-bindings/1",
 "bindings": [
  {"sensor": "x", "entity": "hq/office/ground/room-c", "field": "Thermal.temperature"}
 ]}
EOF
"$twin" check "$tiny" --bindings "$work/bad-entity.bindings.json" >/dev/null 2>"$work/bad-entity.err"
expect_rc tel_check_unknown_entity_exit 3 $?
grep -q 'bad-entity.bindings.json:3:29: $.bindings\[0\].entity: no entity "hq/office/ground/room-c" (did you mean' "$work/bad-entity.err" \
  && ok tel_check_unknown_entity_message || bad "tel_check_unknown_entity_message: $(cat "$work/bad-entity.err")"
cat >"$work/bad-unit.bindings.json" <<'EOF'
{"format": "twin-bindings/1",
 "bindings": [
  {"sensor": "x", "entity": "hq/office/ground/room-a", "field": "Air.co2", "unit": "kWh"}
 ]}
EOF
"$twin" check "$tiny" --bindings "$work/bad-unit.bindings.json" >/dev/null 2>"$work/bad-unit.err"
expect_rc tel_check_unit_mismatch_exit 3 $?
grep -q 'unit mismatch: kWh cannot be converted to ppm, the unit of Air.co2' "$work/bad-unit.err" \
  && ok tel_check_unit_mismatch_message || bad "tel_check_unit_mismatch_message: $(cat "$work/bad-unit.err")"
cat >"$work/bad-field.bindings.json" <<'EOF'
{"format": "twin-bindings/1",
 "bindings": [
  {"sensor": "x", "entity": "hq/office/ground/room-a", "field": "Thermal.temprature"}
 ]}
EOF
"$twin" check "$tiny" --bindings "$work/bad-field.bindings.json" >/dev/null 2>"$work/bad-field.err"
expect_rc tel_check_unknown_field_exit 3 $?
grep -q 'did you mean "temperature"' "$work/bad-field.err" && ok tel_check_unknown_field_message || bad "tel_check_unknown_field_message: $(cat "$work/bad-field.err")"
"$twin" run "$tiny" --telemetry "$data/dirty.csv" --bindings "$work/bad-unit.bindings.json" --out "$work/badrun" --quiet >/dev/null 2>&1
expect_rc tel_run_bad_bindings_exit 3 $?

# --- bindings inside a scene: kept through fmt, checked with positions in the scene, run without
# telemetry unchanged (the state is the scene's), as a file name too
uci="$data/uci.twin.json"
"$twin" fmt "$uci" --check >/dev/null 2>&1; expect_rc tel_scene_with_bindings_is_canonical 0 $?
"$twin" check "$uci" --sensors >"$work/uci-sensors.txt" 2>&1
printf 'uci/Temperature\nuci/CO2\nuci/Occupancy\n' | cmp -s - "$work/uci-sensors.txt" && ok tel_scene_bindings_sensors || bad "tel_scene_bindings_sensors: $(cat "$work/uci-sensors.txt")"
sed 's|"entity": "lab/uci/floor/room", "field": "Air.co2"|"entity": "lab/uci/floor/rom", "field": "Air.co2"|' "$uci" >"$work/uci-bad.twin.json"
"$twin" check "$work/uci-bad.twin.json" >/dev/null 2>"$work/uci-bad.err"
expect_rc tel_scene_bad_binding_exit 3 $?
grep -Eq 'uci-bad.twin.json:32:39: \$(.bindings)+\[1\].entity: no entity "lab/uci/floor/rom"' "$work/uci-bad.err" \
  && ok tel_scene_bad_binding_position || bad "tel_scene_bad_binding_position: $(cat "$work/uci-bad.err")"
python3 - "$tiny" "$work/tiny-b.twin.json" "$data/dirty.bindings.json" <<'PY'
import os, sys
scene, out, bindings = sys.argv[1:]
rel = os.path.relpath(bindings, os.path.dirname(out))  # a bindings file named relative to the scene
text = open(scene).read().replace('"entities": [', '"bindings": "%s",\n  "entities": [' % rel, 1)
open(out, "w").write(text)
PY
"$twin" fmt "$work/tiny-b.twin.json" >"$work/tiny-b1.json" 2>/dev/null && "$twin" fmt "$work/tiny-b1.json" >"$work/tiny-b2.json" 2>/dev/null
cmp -s "$work/tiny-b1.json" "$work/tiny-b2.json" && grep -q '"bindings": "' "$work/tiny-b1.json" && ok tel_scene_bindings_file_round_trip || bad tel_scene_bindings_file_round_trip
"$twin" run "$tiny" --duration 300 --out "$work/t0" --quiet >/dev/null 2>&1
"$twin" run "$work/tiny-b.twin.json" --duration 300 --out "$work/t1" --quiet >/dev/null 2>&1
[[ -n "$(hash_of "$work/t0/summary.json")" && "$(hash_of "$work/t0/summary.json")" == "$(hash_of "$work/t1/summary.json")" ]] \
  && ok tel_scene_bindings_do_not_change_a_plain_run || bad tel_scene_bindings_do_not_change_a_plain_run
"$twin" run "$work/tiny-b.twin.json" --telemetry "$data/dirty.csv" --telemetry "$data/dirty.senml" --out "$work/t2" --quiet >/dev/null 2>&1
[[ "$(hash_of "$work/t2/summary.json")" == "$(hash_of "$work/dirty/summary.json")" ]] \
  && ok tel_scene_names_its_bindings_file || bad tel_scene_names_its_bindings_file

# --- real data nobody here wrote: the UCI occupancy test log through uci.twin.json's own bindings
ucidata="${TWIN_DATA_DIR:-$src/../shared/data}/sensors/uci_occupancy/datatest.txt"
if [[ -f "$ucidata" ]]; then
  "$twin" run "$uci" --telemetry "$ucidata" --out "$work/uci" --record "$work/uci.twlog" --quiet >/dev/null 2>"$work/uci.err"
  expect_rc tel_uci_runs 0 $?
  check tel_uci_counts_match_the_file '
import csv, json, sys
from datetime import datetime
rows = list(csv.reader(open(sys.argv[1])))
header, rows = rows[0], rows[1:]
assert len(header) == 7 and all(len(r) == 8 for r in rows)  # a row name first, which is not a sensor
n = len(rows)
times = [datetime.strptime(r[1], "%Y-%m-%d %H:%M:%S").timestamp() for r in rows]
assert all(b > a for a, b in zip(times, times[1:]))  # in order, no two rows at one time: nothing late or duplicate
temp = [float(r[header.index("Temperature") + 1]) for r in rows]
out_of_range = sum(1 for v in temp if not 20.5 <= v <= 30)
t = json.load(open(sys.argv[2]))["telemetry"]
s = json.load(open(sys.argv[2]))
assert t["received"] == 6 * n, (t["received"], n)
assert t["unknown_sensor"] == 3 * n  # Humidity, Light, HumidityRatio have no binding
assert t["rejected"] == out_of_range and t["rejected_by"]["range"] == out_of_range, (t["rejected"], out_of_range)
assert t["applied"] == 3 * n - out_of_range
assert t["late"] == 0 and t["duplicate"] == 0 and t["pending"] == 0
assert sorted(u["sensor"] for u in t["unknown_sensors"]) == ["uci/Humidity", "uci/HumidityRatio", "uci/Light"]
b = {x["sensor"]: x for x in t["bindings"]}
assert b["uci/Occupancy"]["applied"] == n and b["uci/Occupancy"]["residual_count"] == n
# the run covers the data: first to last row, plus the tick that applied the last
assert abs(s["sim_time_s"] - (times[-1] - times[0] + 1)) < 1e-6, s["sim_time_s"]
' "$ucidata" "$work/uci/summary.json"
  "$twin" replay "$uci" "$work/uci.twlog" --from 80000 --out "$work/uci-seek" --quiet >/dev/null 2>&1
  [[ -n "$(hash_of "$work/uci/summary.json")" && "$(hash_of "$work/uci/summary.json")" == "$(hash_of "$work/uci-seek/summary.json")" ]] \
    && ok tel_uci_seek_same_hash || bad tel_uci_seek_same_hash
else
  echo "skip tel_uci_*: the UCI occupancy log is not at $ucidata (set TWIN_DATA_DIR)"
fi

# --- the shipped office day: every sample applied, room temperatures track the recorded ones
office="$src/scenes/office.twin.json"; day="$src/assets/telemetry/office-day.csv"
"$twin" run "$office" --telemetry "$day" --out "$work/office" --quiet >"$work/office.txt" 2>"$work/office.err"
expect_rc tel_office_day_runs 0 $?
check tel_office_day_counts_and_tracking '
import csv, json, math, sys
from datetime import datetime, timezone
s = json.load(open(sys.argv[2])); t = s["telemetry"]
lines = sum(1 for _ in open(sys.argv[1])) - 1
assert t["received"] == lines and t["applied"] == lines, (t["received"], t["applied"], lines)
assert t["rejected"] == t["late"] == t["duplicate"] == t["unknown_sensor"] == t["pending"] == 0
assert s["bindings_files"][0].endswith("assets/telemetry/office.bindings.json"), s["bindings_files"]
kpis = list(csv.DictReader(open(sys.argv[3])))
t0 = datetime(2024, 6, 3, tzinfo=timezone.utc).timestamp()
err = []
for r in csv.DictReader(open(sys.argv[1])):
    if not r["sensor"].endswith("/temperature"): continue
    when = datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() - t0
    row = int(when // 60) + 1  # the KPI row just after the sample
    if row < len(kpis):
        err.append(float(kpis[row][r["sensor"].split("/")[3].replace("-", "_") + "_temp"]) - float(r["value"]))
rms = math.sqrt(sum(e * e for e in err) / len(err))
assert rms < 0.2, rms  # about 0.06 K assimilated, 0.8 K for the scene on its own
' "$day" "$work/office/summary.json" "$work/office/kpis.csv"

finish
