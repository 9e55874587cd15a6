#!/usr/bin/env bash
# Regenerates the parts of the docs made from the components' reflection data
# (run after changing engine/sim/src/components.c; test_scene fails until you do):
#   tools/regen-docs.sh [BUILD_DIR]     (default build/test)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/test}"
bin="$build/tests/scene/test_scene"
[[ -x "$bin" ]] || { echo "no $bin: build the tests first (tools/run-tests.sh)" >&2; exit 1; }
"$bin" --print-schema > docs/twin-scene.schema.json
table=$("$bin" --print-table)
python3 - "$table" <<'PY'
import sys, re
doc = open("docs/scene-format.md").read()
begin = doc.index("<!-- components:begin")
end = doc.index("<!-- components:end -->\n") + len("<!-- components:end -->\n")
open("docs/scene-format.md", "w").write(doc[:begin] + sys.argv[1] + ("" if sys.argv[1].endswith("\n") else "\n") + doc[end:])
PY
echo "regenerated docs/scene-format.md (component table) and docs/twin-scene.schema.json"
