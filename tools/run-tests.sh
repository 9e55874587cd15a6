#!/usr/bin/env bash
# Installs the test dependencies, builds with warnings as errors and runs
# every test with ctest. Exits non-zero on any failure.
#   tools/run-tests.sh                  the suite (plus fuzz targets when clang is present)
#   TWIN_SANITIZE=1 tools/run-tests.sh  the suite under ASan + UBSan
#   TWIN_FUZZ_SECONDS=N                 time per fuzz target (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup-deps.sh --tests
jobs=$(nproc)

if [[ "${TWIN_SANITIZE:-0}" == "1" ]]; then
  dir=build/asan
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTWIN_WERROR=ON -DTWIN_SANITIZE=ON >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build/test
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIN_WERROR=ON >/dev/null
fi
cmake --build "$dir" -j"$jobs"
(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)

# libFuzzer targets need clang; they run for a bounded time over their corpus.
if [[ "${TWIN_SANITIZE:-0}" != "1" ]] && command -v clang >/dev/null 2>&1; then
  fdir=build/fuzz
  CC=clang cmake -S . -B "$fdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIN_FUZZ=ON -DTWIN_WERROR=ON \
    -DTWIN_FUZZ_SECONDS="${TWIN_FUZZ_SECONDS:-20}" >/dev/null
  cmake --build "$fdir" -j"$jobs"
  (cd "$fdir" && ctest --output-on-failure -L fuzz)
fi
