#!/usr/bin/env bash
# Installs the Debian packages twin needs, when they are missing.
#   tools/setup-deps.sh            build and run dependencies
#   tools/setup-deps.sh --tests    plus what the tests use
# As root it runs apt-get; otherwise it prints the command to run.
set -euo pipefail

build_pkgs=(cmake ninja-build pkg-config gcc libc6-dev
            libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core libvulkan-dev libcglm-dev libchipmunk-dev libcjson-dev
            glslc libpng-dev libcairo2-dev libmosquitto-dev libassimp-dev)
test_pkgs=(clang python3 mesa-vulkan-drivers vulkan-validationlayers mosquitto mosquitto-clients openssl xvfb xauth)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--tests" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "twin: installing missing packages: ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "twin: these Debian packages are missing and I am not root. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
