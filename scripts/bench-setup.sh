#!/usr/bin/env bash
# Install what `python -m bench` needs: wrk and libev-dev (Debian), then the bench extra
# (waitress, cheroot, gunicorn, bjoern).  If bjoern cannot be built, the other peers are
# installed without it and the benchmark shows bjoern as "not installed".  Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SUDO=()
[ "$(id -u)" = 0 ] || SUDO=(sudo)

missing=()
for pkg in wrk libev-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench-setup: apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pip_install() {
    "$PYTHON" -m pip install -q --disable-pip-version-check "$@"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if pip_install -e '.[bench]' >"$log" 2>&1; then
    echo "bench-setup: installed the bench extra (with bjoern)"
else
    echo "bench-setup: the bench extra did not install; last lines:"
    tail -n 15 "$log"
    echo "bench-setup: retrying without bjoern (it needs libev-dev and a C compiler)"
    # The same extra, read from pyproject.toml, less bjoern.
    mapfile -t peers < <("$PYTHON" - <<'PY'
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli comes with the test extra
    import tomli as tomllib

with open("pyproject.toml", "rb") as f:
    extra = tomllib.load(f)["project"]["optional-dependencies"]["bench"]
print("\n".join(req for req in extra if not req.startswith("bjoern")))
PY
    )
    pip_install -e . "${peers[@]}"
fi

"$PYTHON" - <<'PY'
from importlib import metadata

for dist in ("waitress", "cheroot", "gunicorn", "bjoern"):
    try:
        print(f"bench-setup: {dist} {metadata.version(dist)}")
    except metadata.PackageNotFoundError:
        print(f"bench-setup: {dist} not installed")
PY
echo "bench-setup: wrk $(command -v wrk)"
