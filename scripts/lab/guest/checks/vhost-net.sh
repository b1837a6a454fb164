#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The lab is ready for path 1 (vhost): /dev/vhost-net and /dev/net/tun exist
# and a tap device can be created and brought up.
fail() { echo "FAIL: $*"; exit 1; }
[ -c /dev/vhost-net ] || fail "/dev/vhost-net is missing"
[ -c /dev/net/tun ] || fail "/dev/net/tun is missing"
tunctl -t irqtap0 >/dev/null || fail "cannot create a tap device"
ip link set irqtap0 up || fail "cannot bring irqtap0 up"
echo "vhost-net and tap ready: $(cat /sys/class/net/irqtap0/address)"
tunctl -d irqtap0 >/dev/null
