#!/usr/bin/env bash
# Installs what the tests and benchmarks use, only when it is missing:
# Knot DNS (primary and reference), BIND (a second primary), kdig, dig,
# NSD and dnsperf from Debian, and cargo-fuzz from crates.io. Idempotent;
# needs root for apt-get.
set -euo pipefail

need_apt=()
command -v knotd   >/dev/null 2>&1 || need_apt+=(knot)
command -v kdig    >/dev/null 2>&1 || need_apt+=(knot-dnsutils)
command -v dig     >/dev/null 2>&1 || need_apt+=(bind9-dnsutils)
command -v named   >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need_apt+=(bind9)
if [ "${ZONECAST_BENCH_DEPS:-0}" = 1 ]; then
  command -v nsd     >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || need_apt+=(nsd)
  command -v dnsperf >/dev/null 2>&1 || need_apt+=(dnsperf)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Packages may start system services on port 53; the tests use their own
  # instances on other ports, so stop them (pid files, not names).
  for pidfile in /run/knot/knot.pid /run/nsd/nsd.pid /run/named/named.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
fi

# cargo-fuzz 0.13.2 works on the stable toolchain with `-s none` (see
# tools/fuzz).
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "install-deps: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --version 0.13.2 --locked --quiet
fi
