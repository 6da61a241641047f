#!/usr/bin/env bash
# Makes the benchmarks' system baselines runnable: installs Debian's redis-server (for the
# BullMQ + Redis baseline) when it is not on PATH. As root it installs with apt-get (running
# `apt-get update` only if the first try fails); otherwise it prints the command and exits 1.
#
# The package's maintainer scripts may start a system redis on 6379 where a service manager
# lets them. The benchmark starts its own redis on a free port, so any redis-server that the
# install itself started is stopped again here, by its PID.
set -euo pipefail

command -v redis-server >/dev/null 2>&1 && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "gryphgen: the benchmark baseline needs redis-server. Install it with: sudo apt-get install -y --no-install-recommends redis-server" >&2
  exit 1
fi

before=" $( (pgrep -x redis-server || true) | tr '\n' ' ') "
export DEBIAN_FRONTEND=noninteractive
echo "gryphgen: installing redis-server (apt-get)..." >&2
if ! apt-get install -y -qq --no-install-recommends redis-server >&2; then
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
fi

# A redis-server that was not running before the install and is the package's service (its
# pid file, or the default port 6379 in its title) was started by the install: stop it.
service_pid=$(cat /run/redis/redis-server.pid 2>/dev/null || true)
for pid in $(pgrep -x redis-server || true); do
  case "$before" in *" $pid "*) continue ;; esac
  title=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
  if [ "$pid" = "$service_pid" ] || [[ "$title" == *:6379* ]]; then
    echo "gryphgen: stopping the redis-server (pid $pid) that the package started" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
done

command -v redis-server >/dev/null 2>&1 || { echo "gryphgen: redis-server is still not on PATH after the install" >&2; exit 1; }
