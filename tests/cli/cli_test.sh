#!/usr/bin/env bash
# End-to-end tests of the twin CLI: exit codes, outputs, messages.
#   cli_test.sh TWIN SOURCE_DIR WORK_DIR
set -u
twin="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"
tiny="$src/tests/cli/data/tiny.twin.json"

# --- usage and exit codes
"$twin" >/dev/null 2>&1; expect_rc cli_no_args_is_usage_error 2 $?
"$twin" --help >/dev/null 2>&1; expect_rc cli_help 0 $?
"$twin" run --help >/dev/null 2>&1; expect_rc cli_run_help 0 $?
"$twin" frobnicate >/dev/null 2>&1; expect_rc cli_unknown_command 2 $?
"$twin" run "$tiny" >/dev/null 2>&1; expect_rc cli_run_without_out 2 $?
"$twin" run "$tiny" --out "$work/x" --duration abc >/dev/null 2>&1; expect_rc cli_run_bad_duration 2 $?

# --- a run writes its three files, and summary.json has what the issue asks
"$twin" run "$tiny" --duration 600 --out "$work/a" >"$work/a.log" 2>&1; rc=$?
expect_rc cli_run_tiny 0 $rc
for f in kpis.csv events.csv summary.json; do
  [[ -s "$work/a/$f" ]] && ok "cli_run_writes_$f" || bad "cli_run_writes_$f"
done
if python3 - "$work/a/summary.json" "$work/a/kpis.csv" <<'PY'
import json, sys, csv
s = json.load(open(sys.argv[1]))
for k in ("sim_time_s", "ticks", "wall_time_s", "real_time_factor", "state_hash", "entities"):
    assert k in s, k
assert abs(s["sim_time_s"] - 600) < 1e-6, s["sim_time_s"]
assert s["ticks"] == 6000, s["ticks"]
assert len(s["state_hash"]) == 16
rows = list(csv.reader(open(sys.argv[2])))
assert rows[0][0] == "time_s", rows[0]
assert len(rows[0]) >= 2
assert float(rows[1][0]) == 0.0 and abs(float(rows[-1][0]) - 600) < 1e-6, (rows[1][0], rows[-1][0])
assert all(len(r) == len(rows[0]) for r in rows)
PY
then ok cli_summary_and_kpis_content; else bad cli_summary_and_kpis_content; fi

# --- same scene + seed -> same hash; another seed -> (almost surely) another
"$twin" run "$tiny" --duration 600 --out "$work/b" >/dev/null 2>&1
h1=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["state_hash"])' "$work/a/summary.json" 2>/dev/null)
h2=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["state_hash"])' "$work/b/summary.json" 2>/dev/null)
[[ -n "$h1" && "$h1" == "$h2" ]] && ok cli_same_seed_same_hash || bad "cli_same_seed_same_hash ($h1 vs $h2)"

# --- a truncated scene: non-zero exit, file:line:column, no output folder
head -c 400 "$tiny" > "$work/truncated.twin.json"
"$twin" run "$work/truncated.twin.json" --out "$work/trunc-out" >"$work/trunc.log" 2>&1; rc=$?
expect_rc cli_truncated_scene_exit 3 $rc
grep -Eq "truncated\.twin\.json:[0-9]+:[0-9]+:" "$work/trunc.log" && ok cli_truncated_scene_position || bad "cli_truncated_scene_position: $(cat "$work/trunc.log")"
[[ ! -e "$work/trunc-out" ]] && ok cli_bad_scene_leaves_no_output || bad cli_bad_scene_leaves_no_output

# --- a missing file
"$twin" check "$work/nope.twin.json" >"$work/nope.log" 2>&1; rc=$?
expect_rc cli_missing_scene_exit 3 $rc
grep -q "nope.twin.json" "$work/nope.log" && ok cli_missing_scene_named || bad cli_missing_scene_named

# --- check and fmt on the shipped scenes
for s in office factory; do
  f="$src/scenes/$s.twin.json"
  "$twin" check "$f" >"$work/check-$s.log" 2>&1; expect_rc "cli_check_$s" 0 $?
  grep -q "entities by kind" "$work/check-$s.log" && ok "cli_check_${s}_summary" || bad "cli_check_${s}_summary"
  "$twin" fmt "$f" --check >/dev/null 2>&1; expect_rc "cli_${s}_is_canonical" 0 $?
done

# --- fmt round trip of a non-canonical file is stable
"$twin" fmt "$tiny" --out "$work/tiny1.json" >/dev/null 2>&1
"$twin" fmt "$work/tiny1.json" --out "$work/tiny2.json" >/dev/null 2>&1
cmp -s "$work/tiny1.json" "$work/tiny2.json" && ok cli_fmt_idempotent || bad cli_fmt_idempotent

# --- benchmarks print JSON lines with the required keys
if "$twin" bench ecs --quick >"$work/bench.jsonl" 2>"$work/bench.err" && python3 - "$work/bench.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines
for l in lines:
    for k in ("bench", "value", "unit", "baseline", "ratio"):
        assert k in l, (k, l)
PY
then ok cli_bench_ecs_json_lines; else bad cli_bench_ecs_json_lines; fi

finish
