#!/usr/bin/env bash
# One command for a new user: installs what is missing, builds twin (Release)
# and simulates the bundled office for one day, headless.
#   tools/run-demo.sh [SCENE] [extra `twin run` options]
# Output goes to out/demo/ (kpis.csv, events.csv, summary.json).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTWIN_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)"

scene="${1:-scenes/office.twin.json}"
[[ $# -gt 0 ]] && shift
out=out/demo
echo "twin: simulating $scene for one day (headless)..."
build/release/twin run "$scene" --out "$out" "$@"
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
PY
fi
