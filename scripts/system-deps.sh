#!/usr/bin/env bash
# Install the Debian packages WardWatch needs, once. A second run only checks.
#   scripts/system-deps.sh        what the service needs
#   scripts/system-deps.sh test   also Chromium and fonts for the browser tests
set -euo pipefail

packages=(postgresql-15 postgresql-15-postgis-3 postgresql-15-postgis-3-scripts)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if [[ ${1:-} == test ]]; then
    packages+=(chromium fonts-noto-core)
fi

python=${PYTHON:-python3.11}
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    packages+=(python3.11 python3.11-venv)
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "system-deps: installing ${missing[*]}" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
