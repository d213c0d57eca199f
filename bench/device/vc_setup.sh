#!/usr/bin/env bash
# Installs the voice changer's packages on the lent GPU machine, which cannot download: the
# cp312 wheels travel in var/wheels (pyworld-prebuilt, Resemblyzer, webrtcvad-wheels, librosa and
# its light dependencies, pydantic-settings; see install_wheels.sh for how they are fetched).
set -euo pipefail
bash "$(dirname "$0")/install_wheels.sh" "${@:-var/wheels}"
python -c "import pyworld, resemblyzer, pydantic_settings; print('vc packages ready')"
