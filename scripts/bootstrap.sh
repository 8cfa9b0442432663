#!/usr/bin/env bash
# Install everything finsent needs, from scratch, idempotently.
#
# - System packages (Java 17, Maven, PostgreSQL server, Chromium for browser
#   tests) from Debian when missing and we are root.
# - Every package of requirements.lock as a wheel in $FINSENT_CACHE_DIR/wheels
#   (sdists built into wheels offline, from pinned build requirements).
# - A Python 3.11 virtual environment installed from those wheels alone, kept
#   OUTSIDE the clone in $FINSENT_CACHE_DIR/venvs/ and stamped with the lock's
#   hash (or, with FINSENT_FRESH_ENV=1, built afresh in .venv-deps every run).
# - The project itself, installed editable into the clone's own small .venv.
# - With FINSENT_DEV=1 (`make lint`, CI): the linters of requirements-dev.lock in that .venv too.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${FINSENT_CACHE_DIR:-$HOME/.cache/finsent}"
mkdir -p "$cache"

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
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

# 1. The wheel cache: every package of the lock as a wheel in $cache/wheels. Filled once per
#    lock from the package index; sdists (seqeval) are then built into wheels OFFLINE, from
#    the cache alone (their build requirements are pinned in requirements-build.lock), so a
#    missing build dependency fails here, on the machine that filled the cache, not later.
#    A stamp with the locks' hash marks a complete cache; with it nothing is fetched.
wheels="$cache/wheels"
mkdir -p "$wheels"
locks_hash="$(cat requirements.lock requirements-build.lock | sha256sum | cut -c1-16)"
if [ ! -f "$wheels/.complete-$locks_hash" ]; then
  echo "bootstrap: filling the wheel cache $wheels from the package index (the first time fetches torch, several GB)"
  if ! "$python" -m pip download -q --progress-bar off -d "$wheels" -r requirements.lock -r requirements-build.lock; then
    echo "bootstrap: could not download the packages of requirements.lock into $wheels." >&2
    echo "  The package index must be reachable once to fill the cache (or copy a filled cache into FINSENT_CACHE_DIR);" >&2
    echo "  the cache takes about 3.5 GB ($(df -Ph "$wheels" | awk 'NR == 2 { print $4 }') free under $wheels now)." >&2
    exit 1
  fi
  for sdist in "$wheels"/*.tar.gz "$wheels"/*.zip; do
    [ -e "$sdist" ] || continue
    echo "bootstrap: building a wheel from $(basename "$sdist") (offline, build requirements from the cache)"
    if ! PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels" "$python" -m pip wheel -q --no-deps --no-index \
         --find-links "$wheels" -w "$wheels" "$sdist" >"$cache/wheel-build.log" 2>&1; then
      tail -20 "$cache/wheel-build.log" >&2
      echo "bootstrap: cannot build a wheel from $(basename "$sdist") with the cached build requirements;" >&2
      echo "  add what it needs to requirements-build.lock (log: $cache/wheel-build.log)" >&2
      exit 1
    fi
  done
  touch "$wheels/.complete-$locks_hash"
fi

# 2. The environment, installed from wheels only (--no-index --only-binary: nothing is
#    fetched or built here, so a cache that lacks a wheel fails loudly, naming it). One per
#    Python minor version, stamped with the lock's hash and reused by later clones; with
#    FINSENT_FRESH_ENV=1 (CI) it is built into a fresh directory every time instead, which
#    proves the cold path on every run.
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
lock_hash="$(sha256sum requirements.lock | cut -c1-16)"
if [ "${FINSENT_FRESH_ENV:-0}" = 1 ]; then
  venv="$root/.venv-deps"
  rm -rf "$venv"
else
  venv="$cache/venvs/py$pyver"
fi
# The disk must hold the unpacked wheels (torch's CUDA build: several GB) before pip starts:
# a disk that fills half-way leaves a broken environment. Short of space, a fresh build
# (CI) falls back to the environment already built from this same lock, and says so. An
# environment of an older lock is upgraded in place, package by package, and is not checked.
gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 2^30 }'; }
if [ ! -d "$venv" ]; then
  mkdir -p "$(dirname "$venv")"
  need=$(( $("$python" scripts/env_space.py requirements.lock "$wheels") * 11 / 10 + 2**29 ))
  free=$(df -PB1 "$(dirname "$venv")" | awk 'NR == 2 { print $4 }')
  if [ "$free" -lt "$need" ]; then
    shared="$cache/venvs/py$pyver"
    if [ "${FINSENT_FRESH_ENV:-0}" = 1 ] && [ "$(cat "$shared/.lock-hash" 2>/dev/null)" = "$lock_hash" ]; then
      echo "bootstrap: $(gib "$free") free under $(dirname "$venv"), a fresh environment needs $(gib "$need");" \
           "using $shared, built earlier from this same lock and wheel cache, instead" >&2
      rm -rf "$venv"; venv="$shared"
    else
      echo "bootstrap: $(gib "$free") free under $(dirname "$venv"), the Python environment needs $(gib "$need")" \
           "(torch's wheels unpack to several GB); free some space, or point FINSENT_CACHE_DIR at a larger disk" >&2
      exit 1
    fi
  fi
fi
if [ "$(cat "$venv/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
  if [ "${FINSENT_FRESH_ENV:-0}" = 1 ]; then
    echo "bootstrap: building a fresh Python environment in $venv from the wheel cache (FINSENT_FRESH_ENV=1, nothing reused)"
  else
    echo "bootstrap: installing requirements.lock into $venv from the wheel cache"
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  started=$SECONDS
  log="$cache/pip-install.log"
  if ! "$venv/bin/pip" install -q --progress-bar off --no-index --only-binary=:all: \
       --find-links "$wheels" -r requirements.lock >"$log" 2>&1; then
    tail -20 "$log" >&2
    if grep -q "No space left on device" "$log"; then
      echo "bootstrap: the disk under $venv filled up during the install ($(gib "$(df -PB1 "$venv" | awk 'NR == 2 { print $4 }')") free now);" >&2
      echo "  free some space, or point FINSENT_CACHE_DIR at a larger disk (log: $log)" >&2
    else
      echo "bootstrap: pip could not install requirements.lock from the wheel cache $wheels (log: $log);" >&2
      echo "  if it names a missing package, remove $wheels/.complete-* to refill the cache from the package index" >&2
    fi
    rm -rf "$venv"
    exit 1
  fi
  "$venv/bin/pip" check
  echo "$lock_hash" > "$venv/.lock-hash"
  echo "bootstrap: environment ready in $((SECONDS - started)) s"
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

# 4. The linters, only with FINSENT_DEV=1 (`make lint`, CI): ruff, mypy and the stubs mypy reads, pinned
#    with hashes in requirements-dev.lock, into this clone's .venv on top of requirements.lock (--no-deps:
#    their other requirements are pinned there). Their wheels join the wheel cache, fetched once with the
#    hashes checked, and are installed from the cache alone, hashes checked again; `pip check` then covers
#    the whole environment. Redone when either lock changes; `make run` and `make test` skip all of this.
if [ "${FINSENT_DEV:-0}" = 1 ]; then
  dev_lock_hash="$(sha256sum requirements-dev.lock | cut -c1-16)"
  if [ ! -f "$wheels/.complete-dev-$dev_lock_hash" ]; then
    echo "bootstrap: adding the wheels of requirements-dev.lock (ruff, mypy) to the wheel cache $wheels"
    if ! "$python" -m pip download -q --progress-bar off --no-deps --only-binary=:all: --require-hashes \
         -d "$wheels" -r requirements-dev.lock; then
      echo "bootstrap: could not download the packages of requirements-dev.lock into $wheels;" >&2
      echo "  the package index must be reachable once to add them (a hash mismatch is named above)" >&2
      exit 1
    fi
    touch "$wheels/.complete-dev-$dev_lock_hash"
  fi
  dev_hash="$(cat requirements.lock requirements-dev.lock | sha256sum | cut -c1-16)"
  if [ "$(cat .venv/.dev-lock-hash 2>/dev/null)" != "$dev_hash" ]; then
    log="$cache/pip-install-dev.log"
    if ! "$venv/bin/python" -m pip --python .venv/bin/python install -q --progress-bar off --no-index \
         --only-binary=:all: --no-deps --require-hashes --find-links "$wheels" \
         -r requirements-dev.lock >"$log" 2>&1; then
      tail -20 "$log" >&2
      echo "bootstrap: pip could not install requirements-dev.lock from the wheel cache $wheels (log: $log);" >&2
      echo "  if it names a missing package, remove $wheels/.complete-dev-* to fetch its wheels again" >&2
      exit 1
    fi
    "$venv/bin/python" -m pip --python .venv/bin/python check
    echo "$dev_hash" > .venv/.dev-lock-hash
    echo "bootstrap: linters ready in .venv (requirements-dev.lock)"
  fi
fi
echo "bootstrap: ready (.venv on $venv)"
