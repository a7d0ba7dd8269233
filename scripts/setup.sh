#!/usr/bin/env bash
# One-command, idempotent set-up of the rsu_isac workspace on a fresh machine
# (Debian 12, Python 3.11, no ROS): venv, pinned wheels, CMake path fix, colcon build,
# editable install of the `rsu-isac` command. Each step leaves a stamp and is skipped
# when its inputs have not changed, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$VENV/.rsu_isac_stamps"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
# pip prints one warning per missing local index folder; keep the log readable.
pip_q() { "$VENV/bin/pip" install --disable-pip-version-check -q "$@" 2> >(grep -v '^WARNING: Location' >&2); }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; }

# 1. virtual environment
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (the ROS 2 Kilted wheels are cp311)"'
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# 2. torch CPU build first, so that nothing later pulls a CUDA build
if ! stamp_ok torch 2.13.0; then
  log "installing torch==2.13.0 (CPU build)"
  pip_q torch==2.13.0
  "$VENV/bin/python" -W ignore -c 'import torch, sys; sys.exit(torch.version.cuda is not None)' \
    || { echo "torch is a CUDA build; expected the CPU wheel" >&2; exit 1; }
  stamp torch 2.13.0
fi

# 3. pinned requirements, then the CMake export path fix of docs/architecture.md
REQ_DIGEST="$(digest requirements.txt)"
if ! stamp_ok requirements "$REQ_DIGEST"; then
  log "installing pinned requirements (ROS 2 Kilted wheels, numerics, solvers, SUMO)"
  pip_q -r requirements.txt
  PY_INC="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  NP_INC="$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')"
  log "rewriting the wheels' CMake export paths"
  sed -i -e "s|/opt/python/cp311-cp311/include/python3.11|$PY_INC|g" \
         -e "s|/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include|$NP_INC|g" \
         "$VENV"/share/*/cmake/export_*__rosidl_generator_pyExport.cmake
  stamp requirements "$REQ_DIGEST"
fi

# 4. colcon build of both packages (rsu_isac_interfaces: ament_cmake; rsu_isac: ament_python)
SRC_DIGEST="$(find src launch config -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if ! stamp_ok colcon "$SRC_DIGEST" || [ ! -f install/rsu_isac_interfaces/share/rsu_isac_interfaces/package.xml ]; then
  log "colcon build (first build of the interfaces takes about a minute)"
  mkdir -p log
  (
    export VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" AMENT_PREFIX_PATH="$VENV"
    colcon --log-base log build --base-paths src --event-handlers console_cohesion- status- \
      > log/colcon_build.txt 2>&1 || { tail -n 40 log/colcon_build.txt >&2; exit 1; }
  )
  stamp colcon "$SRC_DIGEST"
fi

# 5. the rsu-isac command (editable: the venv runs the source tree). --use-pep517 makes pip
#    build an editable wheel, whose console scripts go to .venv/bin; the legacy develop path
#    would follow setup.cfg's ROS script_dir (lib/rsu_isac) instead.
PKG_DIGEST="$(digest src/rsu_isac/setup.py src/rsu_isac/setup.cfg)"
if ! stamp_ok editable "$PKG_DIGEST" || [ ! -x "$VENV/bin/rsu-isac" ]; then
  log "installing the rsu-isac command and node executables into $VENV/bin"
  pip_q --no-deps --no-build-isolation --use-pep517 -e src/rsu_isac
  stamp editable "$PKG_DIGEST"
fi

log "ready: $VENV/bin/rsu-isac"
