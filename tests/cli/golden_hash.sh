#!/usr/bin/env bash
# Golden state-hash test: the shipped scenes, run for a fixed simulated time,
# must give exactly the hashes in tests/cli/golden_hashes.txt, twice in a row.
# After an intended model change, regenerate with:
#   tests/cli/golden_hash.sh build/test/twin . /tmp/golden --update
set -u
twin="$1"; src="$2"; work="$3"; update="${4:-}"
golden="$src/tests/cli/golden_hashes.txt"
rm -rf "$work"; mkdir -p "$work"
. "$(dirname "$0")/../lib.sh"
new=()
while read -r scene duration expected; do
  [[ -z "$scene" || "$scene" == \#* ]] && continue
  hashes=()
  for run in 1 2; do
    out="$work/$(basename "$scene" .twin.json)-$run"
    "$twin" run "$src/$scene" --duration "$duration" --out "$out" --quiet >/dev/null 2>"$out.err" || { echo "run failed: $(cat "$out.err")"; }
    hashes+=("$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["state_hash"])' "$out/summary.json" 2>/dev/null)")
  done
  new+=("$scene $duration ${hashes[0]}")
  if [[ -n "${hashes[0]}" && "${hashes[0]}" == "${hashes[1]}" ]]; then
    ok "repeat_${scene}"
  else
    bad "repeat_${scene}: ${hashes[*]}"
  fi
  if [[ "$update" == "--update" || "${hashes[0]}" == "$expected" ]]; then
    ok "golden_${scene}"
  else
    bad "golden_${scene}: got ${hashes[0]}, golden $expected"
  fi
done < "$golden"
if [[ "$update" == "--update" ]]; then
  { echo "# scene duration_s state_hash  (regenerate: tests/cli/golden_hash.sh TWIN SRC WORK --update)"; printf '%s\n' "${new[@]}"; } > "$golden"
  echo "updated $golden"
fi
finish
