#!/usr/bin/env bash
# Installs what the tests and benchmarks use, only when it is missing:
# Knot DNS (primary and reference), BIND (a second primary), kdig, dig,
# the zone signers, Unbound and delv (validating clients),
# NSD and dnsperf from Debian, and cargo-fuzz from crates.io. Idempotent;
# needs root for apt-get.
set -euo pipefail

need_apt=()
command -v knotd   >/dev/null 2>&1 || need_apt+=(knot)
command -v kdig    >/dev/null 2>&1 || need_apt+=(knot-dnsutils)
command -v dig     >/dev/null 2>&1 || need_apt+=(bind9-dnsutils)
command -v named   >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need_apt+=(bind9)
# Signed-zone tests: signers (BIND's dnssec-signzone, ldns-signzone) and a
# validating resolver (Unbound) as the client.
command -v dnssec-signzone >/dev/null 2>&1 || need_apt+=(bind9-utils)
command -v ldns-signzone   >/dev/null 2>&1 || need_apt+=(ldnsutils)
command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] || need_apt+=(unbound)
# delv, a second validator, comes with dig; asked for on its own in case
# only dig is there.
command -v delv    >/dev/null 2>&1 || need_apt+=(bind9-dnsutils)
# The systemd unit in tools/systemd is checked by systemd-analyze verify.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
# promtool (Prometheus) checks the metrics page's text format.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# The anycast examples run against BIRD and ExaBGP's healthcheck.
command -v bird >/dev/null 2>&1 || [ -x /usr/sbin/bird ] || need_apt+=(bird2)
[ -d /usr/lib/python3/dist-packages/exabgp ] || need_apt+=(exabgp)
# The XDP tests make their own hosts: network namespaces and veth pairs.
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need_apt+=(iproute2)
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
  for pidfile in /run/knot/knot.pid /run/nsd/nsd.pid /run/named/named.pid /run/unbound.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  # Where systemd runs, these packages start their daemons; the tests
  # need only promtool, and run their own BIRD.
  for unit in prometheus bird exabgp; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl stop "$unit" || true
    fi
  done
fi

# cargo-fuzz 0.13.2 works on the stable toolchain with `-s none` (see
# tools/fuzz).
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "install-deps: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --version 0.13.2 --locked --quiet
fi
