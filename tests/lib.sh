# tests/lib.sh: the counters and checks the end-to-end shell tests share.
# Sourced, never run, by bash scripts and by POSIX sh ones (cli_render.sh runs
# under dash), so it keeps to POSIX sh:
#   . "$(dirname "$0")/../lib.sh"
# ... ok NAME / bad "NAME: why" / expect_rc NAME EXPECTED ACTUAL ...
#   finish            # last line: prints "N passed, N failed", fails if any failed

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
# expect_rc NAME EXPECTED ACTUAL: an exit code, reported as ok or FAIL.
expect_rc() { if [ "$3" = "$2" ]; then ok "$1"; else bad "$1 (exit $3, expected $2)"; fi; }
# hash_of SUMMARY_JSON: the run's state_hash (empty when the file is missing or unreadable).
hash_of() { python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["state_hash"])' "$1" 2>/dev/null; }
# The line CI and people read, and the script's exit status (the last command's).
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

# The headless-frame tests (Vulkan; validation on):
# png_size FILE: "WxH" from the PNG's IHDR chunk (bytes 16..23, big endian).
png_size() {
  od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
# no_validation STDERR_FILE NAME: ok unless the Vulkan validation layer said something.
no_validation() {
  if grep -q "validation:" "$1"; then bad "$2 (validation messages, see $1)"; else ok "$2"; fi
}
# skip_without_vulkan RC STDERR_FILE: after the first twin command that renders, skips the
# test (exit 77) when it failed (1) only because the machine has no Vulkan device at all.
skip_without_vulkan() {
  if [ "$1" -eq 1 ] && grep -q "no Vulkan device" "$2"; then
    echo "SKIP: no Vulkan device on this machine"
    exit 77
  fi
}
