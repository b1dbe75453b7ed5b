#!/usr/bin/env bash
# Installs the Debian packages wasmgate needs, and nothing else.
# The lists are scripts/packages/*.list (one package a line, '#' comments), one
# list per part of the project. Idempotent and fast when everything is present:
# dpkg-query decides, and apt-get runs only for what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

want=$(sed -e 's/#.*//' "$here"/packages/*.list | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
  # Tools that may come from outside Debian on a developer machine are fine as they are.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
  esac
  missing+=("$p")
done
npm_install() {
  # npm packages (scripts/npm/package.json, pinned by its package-lock.json) go into
  # scripts/npm/node_modules; npm ci runs only when the lock file changed since the last install.
  local dir="$here/npm"
  [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  echo "deps.sh: npm ci in scripts/npm" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$dir/node_modules/.package-lock.json"
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_install
  exit 0
fi

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
npm_install
