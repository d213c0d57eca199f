#!/usr/bin/env bash
# Installs the voice changer's packages on the lent GPU machine, which cannot download: the
# wheels travel in var/wheels (fetched beforehand on the dev machine for CPython 3.12 with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 ...
# see bench/vc_speed.py). Only modules the machine lacks are installed, without dependencies.
set -euo pipefail
missing=()
for pair in pyworld:pyworld_prebuilt resemblyzer:Resemblyzer webrtcvad:webrtcvad_wheels librosa:librosa \
  audioread:audioread decorator:decorator joblib:joblib lazy_loader:lazy_loader msgpack:msgpack pooch:pooch \
  platformdirs:platformdirs packaging:packaging requests:requests urllib3:urllib3 idna:idna certifi:certifi \
  charset_normalizer:charset_normalizer soxr:soxr soundfile:soundfile cffi:cffi pycparser:pycparser \
  typing_extensions:typing_extensions sklearn:scikit_learn threadpoolctl:threadpoolctl \
  pydantic:pydantic pydantic_core:pydantic_core pydantic_settings:pydantic_settings dotenv:python_dotenv \
  typing_inspection:typing_inspection annotated_types:annotated_types; do
  module=${pair%%:*} wheel=${pair#*:}
  python -c "import $module" 2>/dev/null || missing+=(var/wheels/${wheel}-*.whl)
done
if [ ${#missing[@]} -gt 0 ]; then
  python -m pip install --quiet --root-user-action=ignore --no-index --no-deps "${missing[@]}"
fi
python -c "import pyworld, resemblyzer, pydantic_settings; print('vc packages ready')"
