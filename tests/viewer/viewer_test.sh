#!/usr/bin/env bash
# The viewer on a real (virtual) display: starts a private Xvfb, runs the
# window-target tests, then `twin view` with a scripted orbit and click, and
# checks its exit code, the pick it printed, the validation counters and the
# screenshot. Skips (77) only when Xvfb or a Vulkan device is absent.
#   viewer_test.sh TWIN TEST_WINDOW PNG_CHECK SOURCE_DIR WORK_DIR
set -uo pipefail
twin=$1 test_window=$2 png_check=$3 src=$4 work=$5

. "$(dirname "$0")/xvfb_lib.sh"
xvfb_start viewer_test "$work"

# 1. Window targets: present, resize, minimise, pick, save.
"$test_window"
rc=$?
if [[ $rc -eq 77 ]]; then echo "viewer_test: no Vulkan device; skipping"; exit 77; fi
check "window target tests" test $rc -eq 0

# 2. twin view with a scripted orbit drag and a click on the building.
cat > orbit-click.txt <<'SCRIPT'
# orbit a little (left drag over 10 frames), then click the middle of the view
10 drag 640 400 760 430 left 10
30 click 640 400
SCRIPT
"$twin" view "$src/scenes/office.twin.json" --frames 120 --frame-dt 0.1 --script orbit-click.txt \
  --screenshot v.png --stats >view.out 2>view.err
rc=$?
cat view.out; grep -v ': info: ' view.err || true
if [[ $rc -eq 1 ]] && grep -q "no Vulkan device" view.err; then exit 77; fi
check "twin view exits 0" test $rc -eq 0
check "the click picked an entity of the building" grep -q '^picked hq/office/' view.out
check "the validation layer said nothing" grep -q 'validation_messages=0 validation_errors=0' view.out
check "no validation message on stderr" bash -c '! grep -q "validation:" view.err'
check "120 frames, all presented" grep -q 'frames=120 presented=120' view.out
check "the screenshot shows the building, the HUD and the inspector" "$png_check" screenshot v.png 1280 800 --inspector

# 3. Keys, a resize (out-of-date swapchain), the help, screenshots by key and by script.
cat > keys.txt <<'SCRIPT'
2 click 640 400
4 key c
6 key i
8 key x
10 key ]
12 key plus
14 key space
16 key n
18 key period
20 resize 1024 640
21 key o
22 key o
23 key o
26 key f
28 wheel 2 500 300
30 drag 500 300 540 330 right 4
36 key F1
40 screenshot help.png
42 key ?
44 key h
46 key_down w
50 key_up w
52 key p
54 key minus
56 key F12
SCRIPT
"$twin" view "$src/scenes/office.twin.json" --frames 60 --script keys.txt --at 36000 --stats \
  --screenshot keys.png >keys.out 2>keys.err
rc=$?
cat keys.out; grep -v ': info: ' keys.err || true
check "keys run exits 0" test $rc -eq 0
check "keys run: validation clean" grep -q 'validation_messages=0 validation_errors=0' keys.out
check "keys run: the resize rebuilt the swapchain" grep -Eq 'swapchain_rebuilds=([2-9]|[1-9][0-9])' keys.out
check "keys run: P and F12 saved numbered screenshots" test -s twin-screenshot-1.png -a -s twin-screenshot-2.png
check "keys run: the scripted screenshot with the help" "$png_check" screenshot help.png 1024 640
check "keys run: the last frame at the new size" "$png_check" screenshot keys.png 1024 640 --inspector

# 4. Errors: a bad script is invalid input (3); no display is a plain message and exit 1.
printf '5 jump 1 2\n' > bad.txt
"$twin" view "$src/scenes/office.twin.json" --frames 5 --script bad.txt >/dev/null 2>bad.err
rc=$?
check "a bad script exits 3" test $rc -eq 3
check "a bad script names the line" grep -q 'bad.txt:1:3' bad.err
env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$twin" view "$src/scenes/office.twin.json" --frames 5 \
  >/dev/null 2>nodisplay.err
rc=$?
check "no display exits 1" test $rc -eq 1
check "no display says so" grep -q 'no display' nodisplay.err

# 5. Telemetry: recorded samples drive the view as they drive `twin run` (the
# counters are those of tests/viewer/data/tiny.csv, all applied by 300 s),
# stale entities are drawn apart, the inspector shows room-b's sensors, and
# the HUD lists the CO2 alarm's transition.
"$twin" view "$src/tests/cli/data/tiny.twin.json" --telemetry "$src/tests/viewer/data/tiny.csv" \
  --bindings "$src/tests/viewer/data/tiny.bindings.json" --frames 60 --at 300 --select hq/office/ground/room-b \
  --stats --screenshot t.png >tel.out 2>tel.err
rc=$?
cat tel.out; grep -v ': info: ' tel.err || true
check "telemetry view exits 0" test $rc -eq 0
check "telemetry view: validation clean" grep -q 'validation_messages=0 validation_errors=0' tel.out
check "telemetry view: the counters" \
  grep -q '^telemetry received=12 applied=9 rejected=1 late=0 duplicate=1 unknown=1 pending=0 stale_fields=1 alarm_events=1 ' tel.out
check "telemetry view: the screenshot" "$png_check" screenshot t.png 1280 800 --inspector
"$twin" view "$src/tests/cli/data/tiny.twin.json" --bindings "$src/tests/viewer/data/tiny.bindings.json" \
  --frames 1 >/dev/null 2>usage.err
check "--bindings without telemetry is a usage error" test $? -eq 2
"$twin" view "$src/scenes/office.twin.json" --edges sometimes --frames 1 >/dev/null 2>edges.err
check "a bad --edges is a usage error" test $? -eq 2
check "a bad --edges says the choices" grep -q 'auto, on or off' edges.err

exit $fail
