#!/usr/bin/env bash
# `twin view --mqtt`: the viewer driven live by a real Mosquitto broker started
# here on a free loopback port, on a private Xvfb. Retained messages wait at
# the broker, so what the viewer receives does not depend on how fast frames
# go: one good temperature, one garbage payload, one topic no binding matches.
# The session is recorded, and `twin replay` of the log (no broker) ends on the
# viewer's own final state hash.
#   mqtt_view_test.sh TWIN SOURCE_DIR WORK_DIR
set -uo pipefail
twin=$1 src=$2 work=$3
command -v mosquitto >/dev/null 2>&1 || { echo "mosquitto is not installed (Debian: mosquitto): skipped"; exit 77; }
command -v mosquitto_pub >/dev/null 2>&1 || { echo "mosquitto_pub is not installed (Debian: mosquitto-clients): skipped"; exit 77; }

. "$(dirname "$0")/xvfb_lib.sh"
xvfb_start mqtt_view_test "$work"
checks=0
count() { checks=$((checks + 1)); check "$@"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > broker.conf
mosquitto -c broker.conf >broker.log 2>&1 &
broker=$!
trap 'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null; xvfb_cleanup' EXIT
for _ in $(seq 50); do
  mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m 1 >/dev/null 2>&1 && break
  sleep 0.1
done
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t site/room-a/temp -m 24.5
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t site/room-b/temp -m nonsense
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t site/attic/temp -m 20

scene=$src/tests/cli/data/tiny.twin.json
"$twin" view "$scene" --mqtt "mqtt://127.0.0.1:$port/site/#?qos=1" --bindings "$src/tests/cli/data/live.bindings.json" \
  --frames 120 --select hq/office/ground/room-a --stats --record live.twlog >view.out 2>view.err
rc=$?
cat view.out; grep -v ': info: ' view.err || true
count "live viewer exits 0" test $rc -eq 0
count "live viewer: validation clean" grep -q 'validation_messages=0 validation_errors=0' view.out
count "live viewer: the broker's messages counted" \
  grep -Eq '^telemetry received=3 applied=1 rejected=1 late=0 duplicate=0 unknown=1 ' view.out
hash=$(sed -n 's/^stats .* state_hash=\([0-9a-f]*\).*/\1/p' view.out)
count "live viewer: a state hash" test -n "$hash"

"$twin" replay "$scene" live.twlog --out replayed --quiet >replay.out 2>&1
rc=$?
replayed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state_hash"])' replayed/summary.json 2>/dev/null)
count "the live session replays without a broker (exit $rc)" test $rc -eq 0
count "the replay ends on the viewer's state ($replayed vs $hash)" test "$replayed" = "$hash"

if [[ $fail -eq 0 ]]; then echo "$checks passed, 0 failed"; else echo "of $checks checks some FAILED (above)"; fi
exit $fail
