#!/usr/bin/env bash
# Prints the path of a Prometheus server binary, for the tests of metric
# sources, which start one on loopback. When none is on PATH it installs
# Debian's prometheus package with apt-get (as root). Everything but the
# path goes to stderr.
set -euo pipefail

say() { echo "ensure-prometheus: $*" >&2; }

if [ -n "${PES_PROMETHEUS:-}" ] && [ -x "$PES_PROMETHEUS" ]; then
  echo "$PES_PROMETHEUS"
  exit 0
fi
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "no prometheus on PATH: installing Debian's prometheus with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2; }
  else
    say "no prometheus on PATH: install Debian's prometheus package (apt-get install prometheus) or set PES_PROMETHEUS"
    exit 1
  fi
fi
command -v prometheus
