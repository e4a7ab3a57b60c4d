#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium, for the web console's
# browser tests (reconciler/console). When none is on PATH it installs
# Debian's chromium package with apt-get (as root), as ensure-kube.sh does
# for etcd. Everything but the path goes to stderr.
set -euo pipefail

say() { echo "ensure-chromium: $*" >&2; }

find_chromium() {
  local c
  for c in "${PES_CHROMIUM:-}" chromium chromium-browser /usr/bin/chromium; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

if path=$(find_chromium); then
  echo "$path"
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "no chromium on PATH: installing Debian's chromium with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2; }
  find_chromium && exit 0
fi
say "no chromium on PATH and cannot install it: install Debian's chromium (apt-get install chromium) or set PES_CHROMIUM"
exit 1
