#!/usr/bin/env bash
# Install everything finsent needs, from scratch, idempotently.
#
# - System packages (Java 17, Maven, PostgreSQL server, Chromium for browser
#   tests) from Debian when missing and we are root.
# - A Python 3.11 virtual environment built from requirements.lock, kept
#   OUTSIDE the clone in $FINSENT_CACHE_DIR/venvs/ and stamped with the lock's
#   hash, so a fresh clone (CI) reuses it; .venv in the clone links to it.
# - The project itself, installed editable into the clone's own small .venv.
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
  log="$cache/apt-install.log"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need_apt[@]}"; } >"$log" 2>&1; then
    tail -30 "$log" >&2; echo "bootstrap: apt-get failed (log: $log)" >&2; exit 1
  fi
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

# One environment per Python minor version, stamped with the lock's hash. A
# changed lock is applied incrementally (only changed packages are fetched);
# wheels are kept in $cache/wheels, so a rebuilt environment downloads nothing.
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
venv="$cache/venvs/py$pyver"
lock_hash="$(sha256sum requirements.lock | cut -c1-16)"
if [ "$(cat "$venv/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
  echo "bootstrap: installing requirements.lock into $venv (the first time fetches torch, several GB)"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  mkdir -p "$cache/wheels"
  "$venv/bin/pip" download -q --progress-bar off -d "$cache/wheels" -r requirements.lock
  "$venv/bin/pip" install -q --progress-bar off --no-index --find-links "$cache/wheels" -r requirements.lock
  "$venv/bin/pip" check
  echo "$lock_hash" > "$venv/.lock-hash"
fi
# .venv in the clone is a small environment of its own, layered on the shared
# one through a .pth file, holding only this clone's editable install: several
# clones (a CI run beside a checkout) never point `finsent` at each other.
if [ -L .venv ] || [ ! -x .venv/bin/python ]; then
  rm -rf .venv
  "$python" -m venv --without-pip .venv
fi
site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
deps_site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "import site; site.addsitedir('$deps_site')" > "$site/finsent-deps.pth"
"$venv/bin/python" -m pip --python .venv/bin/python install -q --no-deps --no-build-isolation -e . >/dev/null
echo "bootstrap: ready (.venv on $venv)"
