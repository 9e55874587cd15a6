#!/usr/bin/env bash
# One command for a new user: installs what is missing, builds twin (Release)
# and runs the bundled office for one day, headless, driven by its recorded
# day of telemetry (assets/telemetry/office-day.csv, synthetic: see the
# README there): room temperatures, CO2, occupancy and the main meter.
#   tools/run-demo.sh                         the office day with its telemetry
#   tools/run-demo.sh SCENE [twin run options]  another scene (add --telemetry FILE yourself)
# Output goes to out/demo/ (kpis.csv, events.csv, summary.json).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTWIN_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)"

out=out/demo
if [[ $# -gt 0 ]]; then
  scene="$1"; shift
  args=("$@")
  echo "twin: simulating $scene (headless)..."
else
  scene=scenes/office.twin.json
  # The bindings (which sensor drives which field) are found next to the data:
  # assets/telemetry/office.bindings.json.
  args=(--telemetry assets/telemetry/office-day.csv)
  echo "twin: simulating $scene for one day, driven by assets/telemetry/office-day.csv (headless)..."
fi
build/release/twin run "$scene" --out "$out" "${args[@]}"
echo
echo "twin: output is in $(pwd)/$out:"
ls -l "$out"
if command -v python3 >/dev/null 2>&1; then
  # A few headline figures from summary.json (KPIs aggregated over the building).
  python3 - "$out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("\nheadline KPIs (final value over the run):")
for name, k in s["kpis"].items():
    if name.endswith(("_temp", "_co2")):
        continue  # one column per room: see kpis.csv
    v = k["final"]
    print(f"  {name:26s} {v:>12.6g} {k['unit']}" if isinstance(v, (int, float)) else f"  {name:26s} {'-':>12}")
t = s.get("telemetry")
if t:
    print("\ntelemetry (every sample is counted once; details under \"telemetry\" in summary.json):")
    for key in ("received", "applied", "rejected", "late", "duplicate", "unknown_sensor", "stale_fields"):
        print(f"  {key:26s} {t[key]:>12}")
    res = [b for b in t["bindings"] if b.get("residual_count") and b["field"] == "Thermal.temperature"]
    if res:
        rms = (sum(b["residual_rms"] ** 2 for b in res) / len(res)) ** 0.5
        print(f"  {'temperature residual rms':26s} {rms:>12.3g} K (measured - simulated, before each nudge)")
PY
fi
