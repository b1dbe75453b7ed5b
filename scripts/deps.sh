#!/usr/bin/env bash
# Installs the Debian packages wasmgate needs to build and test, and nothing else.
# Idempotent and fast when everything is present: dpkg-query decides, apt-get runs
# only for what is missing. Usage: scripts/deps.sh [group...]; groups: build, test.
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libjansson-dev                        # JSON (spec driver, sidecar)
  clang-19 lld-19 libclang-rt-19-dev    # clang for sanitizers and libFuzzer
  wasi-libc libclang-rt-19-dev-wasm32   # C guests: clang-19 --target=wasm32-wasi
  wabt                                  # wat2wasm, wast2json for .wat fixtures and the spec suite
  binaryen                              # wasm-opt; random module generation for fuzz seeds
)
test_pkgs=(
  python3 nodejs                        # spec suite conversion (convert.py) and the V8 reference runner
)

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build test)
want=()
for g in "${groups[@]}"; do
  case "$g" in
    build) want+=("${build_pkgs[@]}") ;;
    test)  want+=("${test_pkgs[@]}") ;;
    *) echo "deps.sh: unknown group '$g' (build, test)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # node may come from outside Debian (e.g. a preinstalled /usr/bin/node); accept a working binary.
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    if [ "$p" = python3 ] && command -v python3 >/dev/null 2>&1; then continue; fi
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
