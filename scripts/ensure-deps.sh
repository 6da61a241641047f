#!/usr/bin/env bash
# Makes a fresh clone runnable: installs npm packages when node_modules is missing or older
# than package-lock.json. The Debian packages the tests need:
#   --check-system  says which are missing and how to get them (never installs; `npm test`)
#   --system        installs them with apt-get as root, else prints the sudo command and fails
#                   (`npm run setup:system`, .ci/run)
# Used by `npm start` / `npm test` (pre-hooks) and by .ci/run. Only --system acts as root.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.gryphgen-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "gryphgen: installing npm packages (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--system" ] || [ "${1:-}" = "--check-system" ]; then
  # bubblewrap: the sandbox; tini: runs as pid 1 inside each sandbox (reaps its zombies);
  # python3-pytest: sandboxed test runs of generated Python code; chromium: the dashboard's
  # browser tests (driven by playwright-core, which downloads no browser of its own).
  missing=()
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  command -v tini >/dev/null 2>&1 || missing+=(tini)
  # The sandbox runs Debian's own python3 (not a pyenv one on PATH): check that one.
  /usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)
  # promtool (Debian's prometheus package): the metrics tests check /metrics with it.
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # systemd-analyze (Debian's systemd package): the service test verifies the unit it writes.
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  # zsh and fish: the completion test loads `gryphgen completion zsh|fish` into each shell.
  command -v zsh >/dev/null 2>&1 || missing+=(zsh)
  command -v fish >/dev/null 2>&1 || missing+=(fish)
  if [ ${#missing[@]} -gt 0 ] && [ "$1" = "--check-system" ]; then
    echo "gryphgen: missing system packages: ${missing[*]}; the tests that need them will fail." >&2
    echo "gryphgen: install them with: npm run setup:system (as root) or: sudo apt-get install -y ${missing[*]}" >&2
  elif [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "gryphgen: installing ${missing[*]} (apt-get)..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    else
      echo "gryphgen: the tests need: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
fi
