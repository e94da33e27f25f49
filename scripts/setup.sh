#!/usr/bin/env bash
# Prepares .venv for the project, idempotently: fast when nothing changed.
# Sourced by ./run and ./test; installs only what the project declares.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${WACONNECT_PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating a virtual environment in .venv" >&2
  "$python" -m venv "$venv"
fi

stamp="$venv/.waconnect-installed"
want="$(cat "$root/pyproject.toml" "$root/scripts/setup.sh" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing waconnect and its extras into .venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[lambda,sandbox,dev,infra]"
  echo "$want" > "$stamp"
fi

# The speech tests and the transcription benchmark speak with espeak-ng (Debian's package).
if ! command -v espeak-ng > /dev/null; then
  if command -v apt-get > /dev/null; then
    echo "setup: installing espeak-ng with apt-get" >&2
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    if ! apt-cache show espeak-ng > /dev/null 2>&1; then
      $sudo_cmd apt-get update -q > /dev/null
    fi
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends \
      espeak-ng > /dev/null
  else
    echo "setup: no apt-get here: install espeak-ng for the speech tests" >&2
  fi
fi
