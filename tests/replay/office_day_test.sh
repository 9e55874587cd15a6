#!/usr/bin/env bash
# The issue's "done when", end to end: the shipped office day, driven by the
# shipped telemetry, recorded; `twin replay` of the whole log ends on the
# recorded run's state_hash (checked at every keyframe on the way), with
# identical KPIs and events, and so does a seek to midday played to the end.
#   office_day_test.sh TWIN SOURCE_DIR WORK_DIR
set -u
twin="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"

"$twin" run "$src/scenes/office.twin.json" --telemetry "$src/assets/telemetry/office-day.csv" \
  --record "$work/day.twlog" --out "$work/run" --quiet >"$work/run.log" 2>&1 || bad "office day run: $(cat "$work/run.log")"
recorded=$(hash_of "$work/run/summary.json")
[[ -n "$recorded" ]] && ok office_day_recorded || bad "office_day_recorded: no summary"

"$twin" replay "$src/scenes/office.twin.json" "$work/day.twlog" --out "$work/replay" --quiet >"$work/replay.log" 2>&1
rc=$?
h=$(hash_of "$work/replay/summary.json")
[[ $rc == 0 && "$h" == "$recorded" ]] && ok "replay_of_the_day_matches ($h)" || bad "replay_of_the_day_matches (exit $rc, $h vs $recorded): $(cat "$work/replay.log")"
cmp -s "$work/run/kpis.csv" "$work/replay/kpis.csv" && ok replay_kpis_identical || bad replay_kpis_identical
cmp -s "$work/run/events.csv" "$work/replay/events.csv" && ok replay_events_identical || bad replay_events_identical

"$twin" replay "$src/scenes/office.twin.json" "$work/day.twlog" --from 43200 --out "$work/noon" --quiet >"$work/noon.log" 2>&1
rc=$?
h=$(hash_of "$work/noon/summary.json")
[[ $rc == 0 && "$h" == "$recorded" ]] && ok "seek_to_midday_played_to_the_end_matches ($h)" || bad "seek_to_midday_played_to_the_end_matches (exit $rc, $h vs $recorded): $(cat "$work/noon.log")"

finish
