# tests/viewer/xvfb_lib.sh: a private Xvfb for the viewer's display tests, and
# their check helper. Sourced by viewer_test.sh and replay_test.sh (bash):
#   . "$(dirname "$0")/xvfb_lib.sh"
#   xvfb_start NAME WORK_DIR
# xvfb_start skips the test (exit 77) when Xvfb is not installed; otherwise it
# empties WORK_DIR and changes into it, makes a private XDG_RUNTIME_DIR, starts
# Xvfb on a display of its own choosing, exports DISPLAY and TWIN_VALIDATION=1,
# and stops Xvfb (and removes the runtime directory) when the script exits.

xvfb_pid=
xvfb_runtime=
xvfb_cleanup() {
  if [[ -n "$xvfb_pid" ]]; then kill "$xvfb_pid" 2>/dev/null; wait "$xvfb_pid" 2>/dev/null; fi
  if [[ -n "$xvfb_runtime" ]]; then rm -rf "$xvfb_runtime"; fi
}

xvfb_start() { # xvfb_start NAME WORK_DIR
  local name=$1 dir=$2
  if ! command -v Xvfb >/dev/null 2>&1; then
    echo "$name: Xvfb is not installed (Debian: xvfb; tools/setup-deps.sh --tests); skipping"
    exit 77
  fi
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
  xvfb_runtime=$(mktemp -d) && chmod 700 "$xvfb_runtime"
  export XDG_RUNTIME_DIR=$xvfb_runtime
  trap xvfb_cleanup EXIT
  # A free display number, chosen by Xvfb itself (-displayfd): no race with
  # other tests or other users' servers. Up to 30 s on a loaded machine.
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$dir/display" 2>"$dir/xvfb.log" &
  xvfb_pid=$!
  for _ in $(seq 300); do
    [[ -s "$dir/display" ]] && break
    if ! kill -0 "$xvfb_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [[ ! -s "$dir/display" ]]; then
    echo "$name: Xvfb did not start:"; cat "$dir/xvfb.log"
    exit 1
  fi
  export DISPLAY=":$(head -n1 "$dir/display")"
  export TWIN_VALIDATION=1
  echo "$name: Xvfb on $DISPLAY"
}

fail=0
check() { # check DESCRIPTION COMMAND...: runs COMMAND, prints ok or FAILED; a failure sets fail=1
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
