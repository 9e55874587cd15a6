#!/usr/bin/env bash
# `twin run --record` killed with SIGKILL at random moments: every time the
# log opens, reads up to its last whole record (everything flushed before the
# kill), replays to its end with every keyframe verified, and repairs clean.
#   kill_test.sh TWIN SOURCE_DIR WORK_DIR [ITERATIONS]
set -u
twin="$1"; src="$2"; work="$3"; iterations="${4:-6}"
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"
scene="$src/scenes/office.twin.json"
RANDOM=4242
for ((i = 1; i <= iterations; i++)); do
  log="$work/kill-$i.twlog"
  "$twin" run "$scene" --out "$work/out-$i" --record "$log" --quiet >/dev/null 2>&1 &
  pid=$!
  # Wait until the run has written its first keyframe (loading the scene takes
  # a while under sanitizers or on a loaded machine), so that every kill lands
  # mid-run rather than before the log exists; bounded at 60 s.
  for ((w = 0; w < 600; w++)); do
    [[ -f "$log" && $(stat -c %s "$log" 2>/dev/null || echo 0) -gt 65536 ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # then 0.0 .. 1.9 s more: somewhere in its first simulated hours
  sleep "$(printf '0.%d' $((RANDOM % 10)))"
  [[ $((RANDOM % 2)) == 0 ]] && sleep 1
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if "$twin" log info "$log" >"$work/info-$i.txt" 2>&1; then ok "kill_${i}_log_opens"; else bad "kill_${i}_log_opens: $(cat "$work/info-$i.txt")"; fi
  kf=$(sed -n 's/^keyframes: *\([0-9]*\).*/\1/p' "$work/info-$i.txt")
  if [[ -n "$kf" && "$kf" -ge 1 ]]; then ok "kill_${i}_has_keyframes ($kf)"; else bad "kill_${i}_has_keyframes: $(cat "$work/info-$i.txt")"; fi
  grep -Eq "^integrity: +(OK|unclosed|torn tail)" "$work/info-$i.txt" && ok "kill_${i}_integrity" || bad "kill_${i}_integrity: $(grep integrity "$work/info-$i.txt")"
  # everything flushed replays, with every keyframe on the way checked
  if "$twin" replay "$scene" "$log" --out "$work/replay-$i" --quiet >"$work/replay-$i.txt" 2>&1; then ok "kill_${i}_replays"; else bad "kill_${i}_replays: $(cat "$work/replay-$i.txt")"; fi
  if "$twin" log repair "$log" >"$work/repair-$i.txt" 2>&1 && "$twin" log info "$log" 2>&1 | grep -Eq "^integrity: +OK"; then
    ok "kill_${i}_repairs_clean"
  else
    bad "kill_${i}_repairs_clean: $(cat "$work/repair-$i.txt")"
  fi
  kf2=$("$twin" log info "$log" 2>/dev/null | sed -n 's/^keyframes: *\([0-9]*\).*/\1/p')
  [[ "$kf2" == "$kf" ]] && ok "kill_${i}_repair_keeps_keyframes" || bad "kill_${i}_repair_keeps_keyframes ($kf -> $kf2)"
  rm -rf "$work/out-$i" "$work/replay-$i"
done
finish
