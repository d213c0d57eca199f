#!/usr/bin/env bash
# Installs carried wheels on the GPU machine, which cannot download: every wheel in the given
# folders whose distribution is not installed yet, without dependencies (the folders hold the
# dependencies too). Wheels are fetched on the dev machine for CPython 3.12, e.g.
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 NAME==VER
# Used for bench/device/vc_worker_e2e.py: bench/device/install_wheels.sh var/stage var/wheels var/wheels_app
set -euo pipefail
installed=" $(python -c "import importlib.metadata as m; print(' '.join({(d.metadata['Name'] or '').lower().replace('-', '_') for d in m.distributions()}))") "
wheels=()
for dir in "$@"; do
  for whl in "$dir"/*.whl; do
    name=$(basename "$whl" | cut -d- -f1 | tr 'A-Z-' 'a-z_')
    [[ "$installed" == *" $name "* ]] || wheels+=("$whl")
  done
done
if [ ${#wheels[@]} -gt 0 ]; then
  python -m pip install --quiet --root-user-action=ignore --no-index --no-deps "${wheels[@]}"
fi
echo "installed ${#wheels[@]} wheels"
