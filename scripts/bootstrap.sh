#!/usr/bin/env bash
# Install everything finsent needs, from scratch, idempotently.
#
# - System packages (Java 17, Maven, PostgreSQL server, Chromium for browser
#   tests) from Debian when missing and we are root.
# - A Python 3.11 virtual environment built from requirements.lock, kept
#   OUTSIDE the clone in $FINSENT_CACHE_DIR/venvs/<hash of the lock>, so a fresh
#   clone (CI) reuses it; .venv in the clone is a symlink to it.
# - The project itself, installed editable into that environment.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${FINSENT_CACHE_DIR:-$HOME/.cache/finsent}"
mkdir -p "$cache"

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
if [ "${FINSENT_BROWSER_TESTS:-1}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: please install: ${need_apt[*]} (Debian packages)" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

python="${FINSENT_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
[ -n "$python" ] || { echo "bootstrap: Python 3.11 is required" >&2; exit 1; }

key="$( (cat requirements.lock; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
venv="$cache/venvs/$key"
if [ ! -f "$venv/.complete" ]; then
  echo "bootstrap: building the Python environment in $venv (torch is large; this happens once per lock file)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  PIP_CACHE_DIR="$cache/pip" "$venv/bin/pip" install -q --progress-bar off -r requirements.lock
  "$venv/bin/pip" check
  touch "$venv/.complete"
fi
ln -sfn "$venv" .venv
# The project itself, editable, pointing at this clone (fast: no dependencies).
"$venv/bin/pip" install -q --no-deps --no-build-isolation -e . >/dev/null
echo "bootstrap: ready ($venv)"
