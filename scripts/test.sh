#!/usr/bin/env bash
# The whole test suite, set-up included: system packages the integration tests
# drive, the Python test dependencies (into .venv), lint, then pytest.  Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(nginx haproxy slowhttptest wrk openssl)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

# The Python side goes into the checkout's own .venv (scripts/venv.sh), never the system's.
source scripts/venv.sh
"$VENV_PYTHON" -m pip install -q --disable-pip-version-check -e '.[test]'
"$VENV_PYTHON" -m ruff check src tests bench
"$VENV_PYTHON" -m ruff format --check src tests bench
"$VENV_PYTHON" -m pytest "$@"
