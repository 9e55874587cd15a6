#!/usr/bin/env bash
# End-to-end tests of `twin run --record`, `twin replay`, `twin log` and `twin whatif`.
#   cli_replay_test.sh TWIN SOURCE_DIR WORK_DIR
set -u
twin="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"
factory="$src/scenes/factory.twin.json"; tiny="$src/tests/cli/data/tiny.twin.json"

"$twin" replay --help >/dev/null 2>&1; expect_rc replay_help 0 $?
"$twin" log --help >/dev/null 2>&1; expect_rc log_help 0 $?
"$twin" whatif --help >/dev/null 2>&1; expect_rc whatif_help 0 $?
"$twin" replay "$factory" >/dev/null 2>&1; expect_rc replay_without_log 2 $?
"$twin" replay "$factory" x.twlog --out "$work/x" --speed 0 >/dev/null 2>&1; expect_rc replay_bad_speed 2 $?
"$twin" log frob x >/dev/null 2>&1; expect_rc log_unknown_subcommand 2 $?

# record, then replay: same state_hash, same kpis.csv and events.csv
"$twin" run "$factory" --duration 1800 --out "$work/run" --record "$work/f.twlog" --quiet >"$work/run.txt" 2>&1
expect_rc run_record 0 $?
grep -q "^log: " "$work/run.txt" && ok run_record_reports_log || bad run_record_reports_log
"$twin" run "$factory" --duration 1800 --out "$work/plain" --quiet >/dev/null 2>&1
[[ "$(hash_of "$work/run/summary.json")" == "$(hash_of "$work/plain/summary.json")" ]] && ok record_does_not_change_the_run || bad record_does_not_change_the_run
"$twin" replay "$factory" "$work/f.twlog" --out "$work/replay" --quiet >/dev/null 2>&1; expect_rc replay_whole 0 $?
[[ -n "$(hash_of "$work/run/summary.json")" && "$(hash_of "$work/run/summary.json")" == "$(hash_of "$work/replay/summary.json")" ]] && ok replay_same_hash || bad replay_same_hash
cmp -s "$work/run/kpis.csv" "$work/replay/kpis.csv" && ok replay_same_kpis || bad replay_same_kpis
cmp -s "$work/run/events.csv" "$work/replay/events.csv" && ok replay_same_events || bad replay_same_events
# a seek played to the end gives the end's hash
"$twin" replay "$factory" "$work/f.twlog" --from 1234.5 --out "$work/seek" --quiet >/dev/null 2>&1; expect_rc replay_seek 0 $?
[[ "$(hash_of "$work/run/summary.json")" == "$(hash_of "$work/seek/summary.json")" ]] && ok seek_same_hash || bad seek_same_hash
head -2 "$work/seek/kpis.csv" | tail -1 | grep -q "^1234.5," && ok seek_kpis_start_at_from || bad "seek_kpis_start_at_from: $(head -2 "$work/seek/kpis.csv" | tail -1 | cut -c1-20)"
# another scene is refused with exit 3
"$twin" replay "$tiny" "$work/f.twlog" --out "$work/other" --quiet >"$work/other.txt" 2>&1; expect_rc replay_other_scene 3 $?
grep -q "another scene" "$work/other.txt" && ok replay_other_scene_says_why || bad "replay_other_scene_says_why: $(cat "$work/other.txt")"
"$twin" replay "$factory" "$tiny" --out "$work/notlog" --quiet >/dev/null 2>&1; expect_rc replay_not_a_log 3 $?

# log info / dump / convert
"$twin" log info "$work/f.twlog" >"$work/info.txt" 2>&1; expect_rc log_info 0 $?
grep -Eq "^integrity: +OK" "$work/info.txt" && ok log_info_ok || bad log_info_ok
grep -Eq "^keyframes: +31 " "$work/info.txt" && ok log_info_keyframes || bad "log_info_keyframes: $(grep keyframes "$work/info.txt")"
"$twin" log dump "$work/f.twlog" >"$work/dump.txt" 2>&1; expect_rc log_dump 0 $?
[[ $(grep -c " keyframe tick=" "$work/dump.txt") == 31 ]] && ok log_dump_lines || bad log_dump_lines
"$twin" log convert "$work/f.twlog" --to csv --out "$work/samples.csv" >/dev/null 2>&1; expect_rc log_convert 0 $?
[[ "$(head -1 "$work/samples.csv")" == "time,sensor,value,quality" ]] && ok log_convert_header || bad log_convert_header

# a cut log: info tells, replay plays to the cut, repair makes it clean
size=$(stat -c %s "$work/f.twlog")
head -c $((size * 2 / 3)) "$work/f.twlog" > "$work/cut.twlog"
"$twin" log info "$work/cut.twlog" >"$work/cut.txt" 2>&1; expect_rc log_info_cut 0 $?
grep -Eq "^integrity: +torn tail of [0-9]+ bytes" "$work/cut.txt" && ok log_info_torn || bad "log_info_torn: $(grep integrity "$work/cut.txt")"
"$twin" replay "$factory" "$work/cut.twlog" --out "$work/cutreplay" --quiet >/dev/null 2>&1; expect_rc replay_cut_log 0 $?
"$twin" log repair "$work/cut.twlog" >/dev/null 2>&1; expect_rc log_repair 0 $?
"$twin" log info "$work/cut.twlog" 2>&1 | grep -Eq "^integrity: +OK" && ok log_repaired_ok || bad log_repaired_ok
"$twin" log repair "$work/cut.twlog" 2>&1 | grep -q "intact" && ok log_repair_idempotent || bad log_repair_idempotent

# what-if: the shipped factory scenario makes fewer parts
"$twin" whatif "$factory" "$work/f.twlog" --scenario "$src/scenes/whatif/factory-machine-fails.json" --from 600 --out "$work/wi" --quiet >/dev/null 2>&1
expect_rc whatif_factory 0 $?
python3 - "$work/wi/compare.csv" <<'PY' && ok whatif_fewer_parts || bad whatif_fewer_parts
import csv, sys
rows = {r["kpi"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert float(rows["parts_made"]["scenario"]) < float(rows["parts_made"]["baseline"]), rows["parts_made"]
assert float(rows["parts_made"]["delta"]) < 0
PY
[[ "$(hash_of "$work/wi/baseline/summary.json")" == "$(hash_of "$work/run/summary.json")" ]] && ok whatif_baseline_is_the_run || bad whatif_baseline_is_the_run
echo '{"format":"twin-scenario/1","changes":[{"sett":"x"}]}' > "$work/bad.json"
"$twin" whatif "$factory" "$work/f.twlog" --scenario "$work/bad.json" --from 0 --out "$work/wibad" >"$work/wibad.txt" 2>&1; expect_rc whatif_bad_scenario 3 $?
grep -q 'did you mean "set"' "$work/wibad.txt" && ok whatif_bad_scenario_did_you_mean || bad "whatif_bad_scenario_did_you_mean: $(cat "$work/wibad.txt")"

# the replay benchmark prints its JSON lines (figures are not checked here)
if TMPDIR="$work" "$twin" bench replay --quick >"$work/bench.jsonl" 2>"$work/bench.err" && python3 - "$work/bench.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
names = [l["bench"] for l in lines]
assert names == ["replay.seek_1h", "replay.seek_2h", "replay.throughput"], names
for l in lines:
    for k in ("bench", "value", "unit", "baseline", "ratio"):
        assert k in l, (k, l)
PY
then ok bench_replay_json_lines; else bad "bench_replay_json_lines: $(cat "$work/bench.err")"; fi
ls "$work"/twin-bench-replay-* >/dev/null 2>&1 && bad bench_replay_cleans_up || ok bench_replay_cleans_up

finish
