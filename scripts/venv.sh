#!/usr/bin/env bash
# Sourced by serve.sh and test.sh: create (once) and use the checkout's own virtual
# environment, .venv, so nothing is installed into the system's or the user's Python
# (which PEP 668 forbids on Debian and Ubuntu anyway).  Sets VENV_PYTHON.
# PYTHON picks the interpreter that creates it (default python3).
PYTHON=${PYTHON:-python3}
VENV_DIR=${VENV_DIR:-.venv}
if [ ! -x "$VENV_DIR/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV_DIR" >/dev/null 2>&1; then
        # Debian and Ubuntu ship venv separately (python3-venv).
        rm -rf "$VENV_DIR"
        if command -v apt-get >/dev/null 2>&1; then
            sudo_cmd=()
            [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
            "${sudo_cmd[@]}" apt-get update -qq
            "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        fi
        "$PYTHON" -m venv "$VENV_DIR"
    fi
fi
VENV_PYTHON="$VENV_DIR/bin/python"
"$VENV_PYTHON" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
