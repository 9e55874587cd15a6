#!/bin/sh
# End-to-end tests of `twin render` and `twin run --frames-every`.
#   cli_render.sh TWIN SOURCE_DIR WORK_DIR
# Exits 77 (skip) only when the machine has no Vulkan device at all. With
# TWIN_VALIDATION=1 (as ctest sets it), any validation message fails.
twin=$1
src=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
expect_rc() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, expected $2)"; fi; }

# PNG width and height from the IHDR chunk (bytes 16..23, big endian).
png_size() {
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
no_validation() {
    if grep -q "validation:" "$1"; then bad "$2 (validation messages, see $1)"; else ok "$2"; fi
}

"$twin" render "$src/scenes/office.twin.json" --out "$work/office.png" --width 320 --height 180 \
    >"$work/render.out" 2>"$work/render.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "no Vulkan device" "$work/render.err"; then
    echo "SKIP: no Vulkan device on this machine"
    exit 77
fi
expect_rc render_office_exit 0 $rc
[ "$(png_size "$work/office.png")" = "320x180" ] && ok render_office_png_size || bad render_office_png_size
no_validation "$work/render.err" render_office_clean

# Every option at once, on the factory after two minutes.
"$twin" render "$src/scenes/factory.twin.json" --out "$work/factory.png" --at 120 --camera top \
    --width 200 --height 100 --colorby Health.health --colormap turbo --range 0,1 --section 3 \
    --select plant/factory/hall/production/m-1 --isolate plant/factory/hall --no-edges \
    >"$work/factory.out" 2>"$work/factory.err"
expect_rc render_factory_options_exit 0 $?
[ "$(png_size "$work/factory.png")" = "200x100" ] && ok render_factory_png_size || bad render_factory_png_size
no_validation "$work/factory.err" render_factory_clean
"$twin" render "$src/scenes/office.twin.json" --out "$work/cam.png" --camera -10,-20,30,21,7,2 --width 64 --height 36 \
    >/dev/null 2>&1
expect_rc render_camera_numbers 0 $?

# Bad command lines and inputs.
"$twin" render "$src/scenes/office.twin.json" >/dev/null 2>&1
expect_rc render_missing_out 2 $?
"$twin" render "$src/scenes/office.twin.json" --out "$work/x.png" --camera nowhere >/dev/null 2>&1
expect_rc render_bad_camera 2 $?
"$twin" render "$src/scenes/office.twin.json" --out "$work/x.png" --colorby Thermal.temprature 2>"$work/cb.err" >/dev/null
expect_rc render_bad_colorby 2 $?
grep -q "temperature" "$work/cb.err" && ok render_bad_colorby_suggests || bad render_bad_colorby_suggests
"$twin" render "$src/scenes/office.twin.json" --out "$work/x.png" --isolate hq/nope >/dev/null 2>&1
expect_rc render_bad_isolate 2 $?
"$twin" render "$work/nope.twin.json" --out "$work/x.png" >/dev/null 2>&1
expect_rc render_missing_scene 3 $?
[ ! -e "$work/x.png" ] && ok render_nothing_written_on_error || bad render_nothing_written_on_error
"$twin" render --help >/dev/null 2>&1
expect_rc render_help 0 $?

# Frames during a run: one every 60 s of simulated time, the first at 0.
"$twin" run "$src/scenes/office.twin.json" --duration 120 --frames-every 60 --width 64 --height 36 \
    --out "$work/run" >"$work/run.out" 2>"$work/run.err"
expect_rc run_frames_exit 0 $?
for t in 000000 000060 000120; do
    [ "$(png_size "$work/run/frames/frame-$t.png" 2>/dev/null)" = "64x36" ] && ok "run_frame_$t" || bad "run_frame_$t"
done
[ "$(ls "$work/run/frames" | wc -l)" -eq 3 ] && ok run_frames_count || bad run_frames_count
no_validation "$work/run.err" run_frames_clean
# The frames change nothing in the run: the same state hash as without them.
"$twin" run "$src/scenes/office.twin.json" --duration 120 --out "$work/run2" >"$work/run2.out" 2>/dev/null
h1=$(grep -o 'state_hash [0-9a-f]*' "$work/run.out")
h2=$(grep -o 'state_hash [0-9a-f]*' "$work/run2.out")
[ -n "$h1" ] && [ "$h1" = "$h2" ] && ok run_frames_same_hash || bad run_frames_same_hash
"$twin" run "$src/scenes/office.twin.json" --duration 10 --width 64 --out "$work/run3" >/dev/null 2>&1
expect_rc run_width_without_frames 2 $?
"$twin" run "$src/scenes/office.twin.json" --duration 10 --frames-every 0 --out "$work/run3" >/dev/null 2>&1
expect_rc run_frames_every_zero 2 $?

echo "$fails failed"
[ $fails -eq 0 ]
