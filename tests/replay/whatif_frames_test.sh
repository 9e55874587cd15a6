#!/bin/bash
# End-to-end test of `twin whatif --frames-at`: headless frames of both
# worlds of the shipped HVAC-fails what-if, and the side-by-side picture.
#   whatif_frames_test.sh TWIN FRAMES_CHECK SOURCE_DIR WORK_DIR
# Exits 77 (skip) only when the machine has no Vulkan device at all. With
# TWIN_VALIDATION=1 (as ctest sets it), any validation message fails.
twin=$1 check=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work/xdg}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
. "$(dirname "$0")/../lib.sh"
office=$src/scenes/office.twin.json
hvac=$src/scenes/whatif/office-hvac-fails.json

# The office recorded to 14:00; the plant trips at 13:00 (the fork). Floor 1
# seen from above, coloured by temperature (one scale for both worlds).
"$twin" run "$office" --duration 50400 --out "$work/run" --record "$work/office.twlog" --quiet >"$work/run.txt" 2>&1
expect_rc record_office 0 $?

"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 50400 --out "$work/wi" \
    --frames-at 46800,50400 --colorby Thermal.temperature --isolate hq/office/floor-1 --camera top \
    --width 320 --height 200 --quiet \
    >"$work/wi.out" 2>"$work/wi.err"
rc=$?
skip_without_vulkan $rc "$work/wi.err"
expect_rc whatif_frames_exit 0 $rc
no_validation "$work/wi.err" whatif_frames_clean
for t in 046800 050400; do
    for w in baseline scenario; do
        "$check" size "$work/wi/frames/$w-$t.png" 320 200 && ok "frame_${w}_$t" || bad "frame_${w}_$t"
    done
    # Side by side, under a caption bar: wider than both, taller than one.
    IFS=x read -r cw ch < <(png_size "$work/wi/frames/compare-$t.png" 2>/dev/null)
    if [ "${cw:-0}" -gt 640 ] && [ "${cw:-0}" -lt 700 ] && [ "${ch:-0}" -gt 200 ] && [ "${ch:-0}" -lt 260 ]; then
        ok "compare_$t (${cw}x$ch)"
    else
        bad "compare_$t (${cw}x$ch)"
    fi
    grep -q "\"compare\": \"frames/compare-$t.png\"" "$work/wi/compare.json" && ok "compare_json_lists_$t" \
        || bad "compare_json_lists_$t"
done
[ "$(ls "$work/wi/frames" | wc -l)" -eq 6 ] && ok frames_count || bad "frames_count: $(ls "$work/wi/frames")"
# An hour without HVAC: the rooms warm up, and the picture shows it.
"$check" differ "$work/wi/frames/baseline-050400.png" "$work/wi/frames/scenario-050400.png" \
    && ok worlds_differ_after_an_hour || bad worlds_differ_after_an_hour
# The shipped scenario's deltas point the right way: warmer rooms, less HVAC energy, charts written.
if python3 - "$work/wi/compare.csv" <<'PY'
import csv, sys
rows = {r["kpi"]: r for r in csv.DictReader(open(sys.argv[1]))}
def d(k): return float(rows[k]["scenario"]) - float(rows[k]["baseline"])
assert d("comfort_violation_hours") > 0.5, rows["comfort_violation_hours"]
assert d("energy") < 0, rows["energy"]
assert float(rows["hvac_power"]["scenario"]) == 0, rows["hvac_power"]
PY
then ok hvac_fails_deltas_point_the_right_way; else bad hvac_fails_deltas_point_the_right_way; fi
[ -s "$work/wi/charts/comfort_violation_hours.png" ] && [ -s "$work/wi/charts/energy.png" ] && ok hvac_fails_charts \
    || bad "hvac_fails_charts: $(ls "$work/wi/charts" 2>&1 | head -3)"
grep -q "Thermal.temperature from" "$work/wi.out" && ok colour_range_printed || bad colour_range_printed
# The frames change nothing in the comparison.
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 50400 --out "$work/plain" \
    --quiet >"$work/plain.out" 2>&1
expect_rc whatif_plain_exit 0 $?
cmp -s "$work/wi/compare.csv" "$work/plain/compare.csv" && ok frames_same_compare_csv || bad frames_same_compare_csv
[ ! -e "$work/plain/frames" ] && ok no_frames_without_frames_at || bad no_frames_without_frames_at
grep -q '"frames"' "$work/plain/compare.json" && bad no_frames_key_without_frames_at || ok no_frames_key_without_frames_at

# Times outside [from, to] are command-line errors, before anything is written.
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 50400 --out "$work/early" \
    --frames-at 40000 >/dev/null 2>"$work/early.err"
expect_rc frames_at_before_from 2 $?
grep -q "outside the run" "$work/early.err" && ok frames_at_before_from_says_why || bad frames_at_before_from_says_why
[ ! -e "$work/early" ] && ok frames_at_before_from_writes_nothing || bad frames_at_before_from_writes_nothing
# Without --to the run ends with the log (at 50400 s): 60000 is past it.
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --out "$work/late" \
    --frames-at 50000,60000 >/dev/null 2>"$work/late.err"
expect_rc frames_at_after_log_end 2 $?
grep -q "log's end" "$work/late.err" && ok frames_at_after_log_end_says_why || bad "frames_at_after_log_end_says_why: $(cat "$work/late.err")"
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --out "$work/x" --frames-at 1,x \
    >/dev/null 2>&1
expect_rc frames_at_not_a_number 2 $?
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --out "$work/x" --width 64 \
    >/dev/null 2>&1
expect_rc width_without_frames_at 2 $?
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 46810 --out "$work/cb" \
    --frames-at 46810 --colorby Thermal.temprature >/dev/null 2>"$work/cb.err"
expect_rc bad_colorby 2 $?
grep -q "temperature" "$work/cb.err" && ok bad_colorby_suggests || bad "bad_colorby_suggests: $(cat "$work/cb.err")"
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 46810 --out "$work/iso" \
    --frames-at 46810 --isolate hq/office/floor-9 >/dev/null 2>&1
expect_rc bad_isolate 2 $?

# No Vulkan at all (no driver the loader can find): a what-if without frames
# still runs; with frames it fails at once, saying why.
export VK_ICD_FILENAMES=$work/none.json VK_DRIVER_FILES=$work/none.json
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 46900 --out "$work/novk" \
    --quiet >/dev/null 2>&1
expect_rc no_vulkan_whatif_runs 0 $?
"$twin" whatif "$office" "$work/office.twlog" --scenario "$hvac" --from 46800 --to 46900 --out "$work/novk2" \
    --frames-at 46900 >/dev/null 2>"$work/novk2.err"
expect_rc no_vulkan_frames_fail 1 $?
grep -q "no Vulkan device" "$work/novk2.err" && ok no_vulkan_frames_say_why || bad "no_vulkan_frames_say_why: $(cat "$work/novk2.err")"

finish
