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
. "$(dirname "$0")/../lib.sh"

"$twin" render "$src/scenes/office.twin.json" --out "$work/office.png" --width 320 --height 180 \
    >"$work/render.out" 2>"$work/render.err"
rc=$?
skip_without_vulkan $rc "$work/render.err"
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

# --edges: the three modes run; at the office's home view at 1280x720 no
# element is under the level of detail's 12 px, so auto and on give the same
# picture (at 320x180 a few door panels lose theirs).
"$twin" render "$src/scenes/office.twin.json" --out "$work/edges-auto.png" --edges auto \
    >/dev/null 2>"$work/edges.err"
expect_rc render_edges_auto 0 $?
"$twin" render "$src/scenes/office.twin.json" --out "$work/edges-on.png" --edges on \
    >/dev/null 2>>"$work/edges.err"
expect_rc render_edges_on 0 $?
"$twin" render "$src/scenes/office.twin.json" --out "$work/edges-off.png" --edges off \
    >/dev/null 2>>"$work/edges.err"
expect_rc render_edges_off 0 $?
no_validation "$work/edges.err" render_edges_clean
cmp -s "$work/edges-auto.png" "$work/edges-on.png" && ok render_edges_auto_keeps_office_outlines \
    || bad render_edges_auto_keeps_office_outlines
cmp -s "$work/edges-auto.png" "$work/edges-off.png" && bad render_edges_off_differs || ok render_edges_off_differs
"$twin" render "$src/scenes/office.twin.json" --out "$work/edges-bad.png" --edges sometimes >/dev/null 2>&1
expect_rc render_edges_bad_mode 2 $?

# --colorby labels its bar in the picture: dark, neutral text pixels beside
# the bar that the same frame without --colorby does not have there. A fixed
# range far below the rooms' temperatures paints every room bright (the top
# colour), so the only new dark pixels are words. Python's zlib reads the PNGs.
legend_words() {
    python3 - "$1" "$2" <<'PY'
import struct, sys, zlib
def load(path):
    data = open(path, "rb").read()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "8-bit RGB(A) PNGs only"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev, i = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp), 0
    for y in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])
w, h, cb = load(sys.argv[1])
w2, h2, plain = load(sys.argv[2])
assert (w, h) == (w2, h2), "the two frames differ in size"
colourful = lambda p: max(p) - min(p) > 60
# The bar: the rightmost run of columns that are colourful over the middle rows.
rows = range(int(h * 0.3), int(h * 0.7))
bar = [x for x in range(w // 2, w) if sum(colourful(cb(x, y)) for y in rows) > 0.8 * len(rows)]
if not bar:
    print("no colour bar found"); sys.exit(1)
left = bar[-1]
while left - 1 in bar: left -= 1
dark = lambda p: max(p) < 100 and max(p) - min(p) < 30
luma = lambda p: 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]
words = sum(1 for x in range(max(0, left - w // 4), left - 2) for y in range(int(h * 0.1), int(h * 0.9))
            if dark(cb(x, y)) and luma(plain(x, y)) > 120)
print("bar from x=%d, %d dark text pixels beside it" % (left, words))
sys.exit(0 if words >= 40 else 1)
PY
}
"$twin" render "$src/scenes/office.twin.json" --out "$work/legend.png" --width 480 --height 270 \
    --colorby Thermal.temperature --range 0,1 >"$work/legend.out" 2>"$work/legend.err"
expect_rc render_legend_exit 0 $?
"$twin" render "$src/scenes/office.twin.json" --out "$work/legend-plain.png" --width 480 --height 270 \
    >/dev/null 2>&1
# check_legend_words NAME PNG: PNG's bar is labelled (against legend-plain.png);
# skipped where the build has no cairo, which twin render's "labelled" line tells.
check_legend_words() {
    if ! grep -q "labelled" "$work/legend.out"; then
        echo "skip $1: this build has no cairo (no labels)"
    elif legend_words "$2" "$work/legend-plain.png" >"$work/$1.check" 2>&1; then
        ok "$1 ($(cat "$work/$1.check"))"
    else
        bad "$1 ($(cat "$work/$1.check"))"
    fi
}
check_legend_words render_legend_words "$work/legend.png"
grep -q "Thermal.temperature from 0 to 1 °C" "$work/legend.out" && ok render_legend_range_printed \
    || bad render_legend_range_printed

# The frames of a run, coloured by a field, label their bar the same way.
"$twin" run "$src/scenes/office.twin.json" --duration 60 --frames-every 60 --width 480 --height 270 \
    --colorby Thermal.temperature --range 0,1 --out "$work/runcb" >"$work/runcb.out" 2>"$work/runcb.err"
expect_rc run_frames_colorby_exit 0 $?
no_validation "$work/runcb.err" run_frames_colorby_clean
check_legend_words run_frames_legend_words "$work/runcb/frames/frame-000000.png"
"$twin" run "$src/scenes/office.twin.json" --duration 60 --frames-every 60 --colorby Thermal.temprature \
    --out "$work/runbad" >/dev/null 2>"$work/runbad.err"
expect_rc run_frames_bad_colorby 2 $?
grep -q "temperature" "$work/runbad.err" && ok run_frames_bad_colorby_suggests || bad run_frames_bad_colorby_suggests
"$twin" run "$src/scenes/office.twin.json" --duration 10 --colorby Thermal.temperature --out "$work/run4" \
    >/dev/null 2>&1
expect_rc run_colorby_without_frames 2 $?

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

finish
