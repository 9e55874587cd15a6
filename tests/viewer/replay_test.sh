#!/usr/bin/env bash
# `twin view --replay` and `twin view --record` on a real (virtual) display:
# starts a private Xvfb, records a run with alarms and telemetry, and checks
#   1. a session recorded in the viewer replays headless to the viewer's own
#      final state hash (with and without telemetry), and the log is closed
#      properly on Esc and on SIGINT;
#   2. a scripted replay: timeline clicks (seeks), ] and [ (alarm events), a
#      step, speed, a pick with its recorded sensor values, a screenshot;
#   3. the inspector's sensor values after a seek equal those reached by
#      playing continuously across a keyframe;
#   4. playing stops at the end of the log, x1000 runs every tick;
#   5. errors: --record with --replay, a log of another scene, a missing
#      log, a torn log (plays up to the tear, with a warning).
# Validation is on throughout. Skips (77) only when Xvfb or a Vulkan device is absent.
#   replay_test.sh TWIN PNG_CHECK SOURCE_DIR WORK_DIR
set -uo pipefail
twin=$1 png_check=$2 src=$3 work=$4
scene=$src/scenes/office.twin.json

. "$(dirname "$0")/xvfb_lib.sh"
xvfb_start replay_test "$work"

show() { cat "$1.out"; grep -v ': info: ' "$1.err" || true; }
stat_of() { # stat_of FILE KEY: KEY=value from the viewer's stats line
  sed -n "s/^stats .* $2=\([^ ]*\).*/\1/p" "$1"
}

# 0. A recorded run with alarms and sensors: the office driven by the shipped
# telemetry from 12:00 (a window of the day holding both transitions of
# room-104's CO2 alarm: ACTIVE at 12:36:00, normal at 13:29:50).
awk -F, 'NR == 1 || ($1 >= "2024-06-03T12:00:00Z" && $1 <= "2024-06-03T14:00:00Z")' \
  "$src/assets/telemetry/office-day.csv" > noon.csv
cp "$src/assets/telemetry/office.bindings.json" .
"$twin" run "$scene" --telemetry noon.csv --bindings office.bindings.json --duration 5400 --record noon.twlog \
  --out run --quiet >run.out 2>run.err
check "the recorded run" test $? -eq 0
check "the run has both alarm transitions" \
  bash -c 'grep -q "^2024-06-03T12:36:00Z,.*room-104/co2-high,.*,active" run/events.csv &&
           grep -q "^2024-06-03T13:29:50Z,.*room-104/co2-high,.*,normal" run/events.csv'

# 1. Record in the viewer, replay headless: the same final state. --at's
# prologue is recorded too; --frame-dt makes the ticks reproducible.
"$twin" view "$scene" --telemetry noon.csv --bindings office.bindings.json --record v.twlog --at 2100 \
  --speed 10 --frames 100 --frame-dt 0.1 --stats >rec.out 2>rec.err
rc=$?
show rec
if [[ $rc -eq 1 ]] && grep -q "no Vulkan device" rec.err; then exit 77; fi
check "recording view exits 0" test $rc -eq 0
check "recording view: validation clean" grep -q 'validation_messages=0 validation_errors=0' rec.out
check "recording view: the log was closed at tick 22000" grep -q '^recorded v.twlog ticks=22000 ' rec.out
view_hash=$(stat_of rec.out state_hash)
"$twin" replay "$scene" v.twlog --out vrep --quiet >/dev/null 2>vrep.err
check "twin replay of the viewer's log" test $? -eq 0
check "twin replay reaches the viewer's state hash ($view_hash)" \
  grep -q "\"state_hash\": \"$view_hash\"" vrep/summary.json
"$twin" log info v.twlog >vinfo.out 2>&1
check "the viewer's log is intact and holds telemetry" \
  bash -c 'grep -q "^integrity: *OK" vinfo.out && grep -q "^samples: *[1-9]" vinfo.out'

# Without telemetry, ended by Esc: closed properly, same state.
printf '25 key escape\n' > esc.txt
"$twin" view "$scene" --record plain.twlog --at 600 --speed 10 --frames 100 --frame-dt 0.1 --script esc.txt \
  --stats >plain.out 2>plain.err
check "plain recording ended by Esc exits 0" test $? -eq 0
plain_hash=$(stat_of plain.out state_hash)
"$twin" replay "$scene" plain.twlog --out prep --quiet >/dev/null 2>prep.err
check "twin replay of the plain log reaches the viewer's state hash ($plain_hash)" \
  grep -q "\"state_hash\": \"$plain_hash\"" prep/summary.json
check "the Esc'd log is intact" bash -c '"$0" log info plain.twlog | grep -q "^integrity: *OK"' "$twin"

# SIGINT: exit 130 and a log closed properly.
"$twin" view "$scene" --record int.twlog --speed 10 --no-vsync >int.out 2>int.err &
view_pid=$!
# (signalled once its window shows frames: a loaded machine may take a while to get there)
for _ in $(seq 1200); do
  [[ -s int.twlog ]] && grep -q 'window target' int.err 2>/dev/null && break
  kill -0 "$view_pid" 2>/dev/null || break
  sleep 0.1
done
sleep 1
kill -INT "$view_pid"
wait "$view_pid"
rc=$?
check "SIGINT ends the recording view with 130" test $rc -eq 130
[[ $rc -eq 130 ]] || show int
check "the interrupted log is intact" bash -c '"$0" log info int.twlog | grep -q "^integrity: *OK"' "$twin"

# 2. A scripted replay. Start at 12:39:59 (tick 23990), paused; pick room-202
# (its CO2, temperature and occupancy are bound); click the timeline at
# x=1000 (forward, far), Home, x=566 (tick 23725, backward: a restore) and
# x=572 (tick 23990 again, forward within the keyframe interval: played on);
# ] twice (the normal transition; then none), [ (back to the ACTIVE one),
# a step, speed x2, play for 9 frames (18 ticks), the help, a screenshot.
cat > replay.txt <<'SCRIPT'
2 click 600 420
4 click 1000 760
6 key home
8 click 566 760
10 click 572 760
12 key ]
14 key ]
16 key [
18 key period
20 key plus
21 key space
25 screenshot replay-help.png
24 key F1
26 key F1
SCRIPT
"$twin" view "$scene" --replay noon.twlog --at 2399 --paused --frames 30 --frame-dt 0.1 --script replay.txt \
  --stats --screenshot replay.png >replay.out 2>replay.err
rc=$?
show replay
check "replay view exits 0" test $rc -eq 0
check "replay: validation clean" grep -q 'validation_messages=0 validation_errors=0' replay.out
check "replay: no validation message on stderr" bash -c '! grep -q "validation:" replay.err'
check "replay: the pick" grep -q '^picked hq/office/floor-2/room-202 (space)$' replay.out
check "replay: the inspector's recorded CO2 at the start" \
  grep -q '^sensor hq/office/floor-2/room-202 Air.co2 <- hq/office/floor-2/room-202/co2  [0-9.]* ppm  good (tick 23990)$' replay.out
check "replay: the timeline seeks, Home" \
  bash -c 'grep -q "^seek to 12:00:00 (tick 0, 0.0 s), start" replay.out &&
           grep -q "^seek to 12:39:32 (tick 23725, 2372.5 s), timeline" replay.out &&
           grep -q "^seek to 12:39:59 (tick 23990, 2399.0 s), timeline" replay.out'
check "replay: ] goes to the next alarm event" \
  grep -q '^alarm 2/2 hq/office/floor-1/room-104/co2-high on hq/office/floor-1/room-104 normal value=948.718 at 13:29:50 (tick 53901)$' replay.out
check "replay: ] past the last event seeks nowhere" test "$(grep -c '^alarm ' replay.out)" -eq 2
check "replay: [ goes back to the previous one" \
  grep -q '^alarm 1/2 hq/office/floor-1/room-104/co2-high on hq/office/floor-1/room-104 ACTIVE value=1168.08 at 12:36:00 (tick 21601)$' replay.out
check "replay: the selection survives every seek (kept by path)" \
  test "$(grep -c '^sensor hq/office/floor-2/room-202 Air.co2 ' replay.out)" -eq 6
# the sensors at tick 23990: after the backward-then-forward seek as when the replay started there
grep '(tick 23990)$' replay.out | sort | uniq -c > at23990.txt
check "replay: the sensor values after the seeks equal those at the start" \
  bash -c '[[ $(wc -l < at23990.txt) -eq 3 ]] && ! grep -qv "^ *2 sensor " at23990.txt'
check "replay: a step and 9 frames at x2 end at tick 21620" grep -q ' tick=21620 ' replay.out
check "replay: the speed and seek counters" grep -q '^replay log=noon.twlog first_tick=0 end_tick=54000 seeks=6 speed=2 ' replay.out
check "replay: the screenshot (timeline, HUD, inspector)" "$png_check" screenshot replay.png 1280 800 --inspector
check "replay: the help screenshot" "$png_check" screenshot replay-help.png 1280 800

# 3. Continuous play to the same tick across a keyframe (23400): from 23390
# at x10, one pick at frame 60 (tick 23990): the same recorded values.
printf '60 click 600 420\n' > cont.txt
"$twin" view "$scene" --replay noon.twlog --at 2339 --speed 10 --frames 61 --frame-dt 0.1 --script cont.txt \
  >cont.out 2>cont.err
check "continuous replay exits 0" test $? -eq 0
grep '^sensor .*(tick 23990)$' replay.out | sort -u > seek-sensors.txt
grep '^sensor .*(tick 23990)$' cont.out | sort -u > cont-sensors.txt
check "sensors after a seek equal those of continuous play" \
  bash -c '[[ -s cont-sensors.txt ]] && cmp -s seek-sensors.txt cont-sensors.txt'

# 4. The end of the log: playing stops there (x1000 with --frame-dt plays all
# 1000 ticks a frame), never past it; End seeks there too.
"$twin" view "$scene" --replay noon.twlog --at 3000 --speed 1000 --frames 40 --frame-dt 0.1 --stats \
  >end.out 2>end.err
check "x1000 replay exits 0" test $? -eq 0
check "x1000: stops at the end of the log" grep -q '^end of log at 13:30:00 (tick 54000, 5400.0 s)$' end.out
check "x1000: never past it, nothing dropped" \
  bash -c 'grep -q " tick=54000 " end.out && grep -q "dropped_ticks=0" end.out'
check "x1000: the alarm transitions passed on the way" grep -q 'alarm_events=2 ' end.out

# 5. Errors.
"$twin" view "$scene" --replay noon.twlog --record x.twlog --frames 2 >/dev/null 2>both.err
check "--replay with --record is a usage error (2)" test $? -eq 2
"$twin" view "$src/scenes/factory.twin.json" --replay noon.twlog --frames 2 >/dev/null 2>other.err
check "a log of another scene exits 3" test $? -eq 3
check "and says so" grep -q 'recorded from another scene' other.err
"$twin" view "$scene" --replay missing.twlog --frames 2 >/dev/null 2>missing.err
check "a missing log exits 1" test $? -eq 1
check "and says so" grep -q 'cannot open the log missing.twlog' missing.err
size=$(stat -c %s noon.twlog)
head -c $((size / 2)) noon.twlog > torn.twlog
# (then a drag along the timeline scrubs, and neither orbits nor picks)
printf '1 key end\n3 key space\n5 drag 100 760 300 760 left 3\n9 key end\n' > torn.txt
"$twin" view "$scene" --replay torn.twlog --frames 11 --frame-dt 0.1 --script torn.txt --stats >torn.out 2>torn.err
rc=$?
show torn
check "a torn log plays (exit 0)" test $rc -eq 0
check "a torn log warns" grep -q 'warning: replay: torn.twlog: .*twin log repair' torn.err
last=$("$twin" log info torn.twlog | sed -n 's/^span: .* to tick \([0-9]*\).*/\1/p')
check "a torn log plays up to the tear (tick $last)" \
  bash -c '[[ -n "$1" ]] && grep -q "^end of log at .* (tick $1, " torn.out && grep -q " tick=$1 " torn.out' _ "$last"
check "a drag on the timeline scrubs" \
  bash -c '[[ $(grep -c "^seek to .*, scrub in " torn.out) -ge 2 ]] && grep -q " picks=0 " torn.out'

exit $fail
