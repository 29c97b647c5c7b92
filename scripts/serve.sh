#!/usr/bin/env bash
# Install bastion from this checkout into .venv and serve: with no arguments, the built-in
# demo app on http://0.0.0.0:8080; otherwise the arguments go to the `bastion`
# command (waitress-serve's flags: `bash scripts/serve.sh --listen 127.0.0.1:8080 myapp:app`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV_PYTHON" -m pip install -q --disable-pip-version-check -e .
exec "$VENV_PYTHON" -m bastion "$@"
