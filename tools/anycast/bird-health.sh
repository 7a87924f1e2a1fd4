#!/bin/sh
# Anycast route withdrawal with BIRD: run every few seconds (a systemd
# timer, or `while sleep 2; do ...; done`). While `zonecast ctl health`
# exits 0 the BIRD protocol announcing the service address is enabled;
# when it exits 1 (or zonecast does not answer) it is disabled, and the
# route withdrawn. The check reads local state only.
#
# In bird.conf, the address on a dummy interface, announced by:
#   protocol static zonecast_anycast {
#       ipv4;
#       route 192.0.2.53/32 via "anycast0";
#   }
#
# With [server] metrics set, `curl -fsS http://127.0.0.1:9153/health`
# fails and succeeds the same way as `zonecast ctl health`.
set -u
CONFIG=${ZONECAST_CONFIG:-/etc/zonecast/zonecast.toml}
ZONECAST=${ZONECAST:-zonecast}
PROTOCOL=${BIRD_PROTOCOL:-zonecast_anycast}
SOCKET=${BIRD_SOCKET:-/run/bird/bird.ctl}
if timeout 5 "$ZONECAST" ctl -c "$CONFIG" health >/dev/null 2>&1; then
    birdc -s "$SOCKET" enable "$PROTOCOL" >/dev/null
else
    birdc -s "$SOCKET" disable "$PROTOCOL" >/dev/null
fi
