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
