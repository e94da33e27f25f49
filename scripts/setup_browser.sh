#!/usr/bin/env bash
# Installs what the page's browser tests need, idempotently: sourced by ./test, not by ./run.
set -euo pipefail
# The page's browser tests drive Debian's Chromium (never a browser downloaded by a tool); an
# emoji font makes their screenshots show what a person sees.
if [ ! -x /usr/bin/chromium ] || [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
  if command -v apt-get > /dev/null; then
    echo "setup: installing chromium and an emoji font with apt-get" >&2
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache show chromium > /dev/null 2>&1; then
      $sudo_cmd apt-get update -q > /dev/null
    fi
    $sudo_cmd apt-get install -y -q --no-install-recommends chromium fonts-noto-color-emoji > /dev/null
  else
    echo "setup: no apt-get here: install Chromium as /usr/bin/chromium for the page's tests" >&2
  fi
fi
