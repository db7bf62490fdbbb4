#!/usr/bin/env bash
# Install test of the Debian packages (as root): installs the built .debs with
# apt-get into a pristine Debian 12 minbase root (a cached debootstrap, under
# a throwaway overlay), checks the files, the user and /etc/xconnect, runs
# the D-Bus part of scripts/demo against the installed daemon (activated by a
# private system bus, as user xconnect with CAP_BPF and CAP_NET_ADMIN, in a
# network namespace of veth pairs), then purges the packages and checks that
# nothing of them is left: no file, no /etc/xconnect, no XDP program, no pin.
# Every mount lives in a private mount namespace and dies with the test.
# usage: tests/package/install-test.sh DEBDIR   (DEBDIR holds xconnect_*.deb)
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DEBDIR" >&2; exit 2; }
script=$(realpath "$0")
debdir=$(cd "$1" && pwd)
cd "$(dirname "$script")/../.."

# Everything mounted below (overlay, proc, sys, bpffs, dev) dies with this namespace.
if [[ -z ${XCONNECT_INSTALL_TEST_UNSHARED:-} ]]; then
  exec env XCONNECT_INSTALL_TEST_UNSHARED=1 unshare --mount --propagation private -- bash "$script" "$debdir"
fi

deb=$(ls "$debdir"/xconnect_*_amd64.deb 2>/dev/null | head -n1)
cockpit_deb=$(ls "$debdir"/xconnect-cockpit_*_all.deb 2>/dev/null | head -n1)
[[ -n $deb && -n $cockpit_deb ]] ||
  { echo "install-test: no xconnect_*_amd64.deb and xconnect-cockpit_*_all.deb in $debdir" >&2; exit 1; }

fail() { echo "install-test: FAIL: $*" >&2; exit 1; }
step() { printf '== %s\n' "$*"; }
start=$SECONDS

# --- the pristine root: debootstrap --variant=minbase bookworm, cached -------
# Rebuilt when missing or older than 30 days (the stamp is written once
# debootstrap succeeded; the root itself is never written to afterwards).
cache=${XCONNECT_BOOKWORM_CACHE:-/var/cache/xconnect-ci/bookworm-minbase}
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if [[ ! -f $cache.stamp || -n $(find "$cache.stamp" -mtime +30) || ! -x $cache/bin/sh ]]; then
  step "debootstrap --variant=minbase bookworm into $cache (cache missing or stale)"
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (scripts/install-deps)"
  rm -rf "$cache.new" && rm -f "$cache.stamp"
  debootstrap --variant=minbase bookworm "$cache.new" http://deb.debian.org/debian >"$cache.log" 2>&1 ||
    { tail -n 20 "$cache.log" >&2; fail "debootstrap failed (log: $cache.log)"; }
  rm -rf "$cache" && mv "$cache.new" "$cache" && touch "$cache.stamp"
fi
flock -u 9

# --- the overlay, and what the test leaves nowhere else ----------------------
work=$(mktemp -d /tmp/xconnect-install-test-XXXXXX)
root=$work/root
p=xi$$  # netns and interface names of this run (interface names <= 15 chars)
bus_pid=
cleanup() {
  local status=$?
  set +e
  [[ -n $bus_pid ]] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
  # Every process whose root is the overlay: the bus, the daemon it activated.
  if [[ -d $root/proc ]]; then
    for proc in /proc/[0-9]*; do
      [[ $(readlink "$proc/root" 2>/dev/null) == "$root" ]] && kill -9 "${proc#/proc/}" 2>/dev/null
    done
  fi
  for ns in "$p-h" "$p-n1" "$p-n2" "$p-n3"; do ip netns del "$ns" 2>/dev/null; done
  umount -R "$root" 2>/dev/null
  rm -rf "$work"
  ((status)) && echo "install-test: failed after $((SECONDS - start)) s" >&2
  exit "$status"
}
trap cleanup EXIT
mkdir -p "$work/upper" "$work/overlay-work" "$root"
mount -t overlay overlay -o "lowerdir=$cache,upperdir=$work/upper,workdir=$work/overlay-work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
# A bpffs instance of the test's own: every pin the daemon makes is here.
mount -t bpf -o mode=0700 bpf "$root/sys/fs/bpf"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/tmp/xcit/debs" "$root/tmp/xcit/bus/services"
cp "$deb" "$cockpit_deb" "$root/tmp/xcit/debs/"
cp tests/support/unit-sandbox.sh "$root/tmp/xcit/unit-sandbox.sh"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
  DEBIAN_FRONTEND=noninteractive /bin/sh -ec "$1"; }

# --- install -----------------------------------------------------------------
step "sources of the root: deb.debian.org bookworm only"
sources=$(cat "$root/etc/apt/sources.list")
[[ $sources == "deb http://deb.debian.org/debian bookworm main" ]] ||
  fail "$cache/etc/apt/sources.list is not just Debian bookworm: $sources"
[[ -z $(ls -A "$root/etc/apt/sources.list.d") ]] || fail "$cache/etc/apt/sources.list.d is not empty"

step "apt-get install ./$(basename "$deb") ./$(basename "$cockpit_deb") (and dbus, for the bus test)"
# No Recommends (dbus, polkitd) but dbus: the test calls as root, which needs
# no polkit. Every dependency must come from Debian: the only source.
in_root "apt-get update -qq && cd /tmp/xcit/debs &&
  apt-get install -y -q --no-install-recommends ./$(basename "$deb") ./$(basename "$cockpit_deb") dbus" \
  >"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; fail "apt-get install in the bookworm root"; }
grep -E "^(Creating user|Setting up xconnect)" "$work/apt.log" || true

step "the installed files"
expected_files="/usr/sbin/xconnectd /usr/bin/xconnectctl
/lib/systemd/system/xconnectd.service
/usr/share/dbus-1/system.d/org.xconnect.conf
/usr/share/dbus-1/system-services/org.xconnect.service
/usr/share/polkit-1/actions/org.xconnect.policy
/usr/lib/sysusers.d/xconnect.conf /usr/lib/tmpfiles.d/xconnect.conf
/usr/share/bash-completion/completions/xconnectctl
/usr/share/man/man1/xconnectctl.1.gz /usr/share/man/man5/xconnect.yaml.5.gz
/usr/share/man/man8/xconnectd.8.gz /usr/share/doc/xconnect/README.md
/usr/share/doc/xconnect/copyright"
expected_cockpit="/usr/share/cockpit/xconnect/manifest.json /usr/share/cockpit/xconnect/index.html
/usr/share/cockpit/xconnect/xconnect.js /usr/share/cockpit/xconnect/xconnect.css"
in_root "dpkg-query -L xconnect xconnect-cockpit" >"$work/files.list"
for f in $expected_files $expected_cockpit; do
  grep -qx "$f" "$work/files.list" || fail "$f is not in dpkg -L xconnect xconnect-cockpit"
  [[ -f $root$f ]] || fail "$f is not installed"
done
in_root "dpkg-query -L xconnect-cockpit" | grep -qx /usr/share/cockpit/xconnect/manifest.json ||
  fail "the Cockpit page is not in package xconnect-cockpit"
in_root "dpkg-query -W -f='\${Depends}' xconnect-cockpit" | grep -q cockpit-bridge ||
  fail "xconnect-cockpit does not depend on cockpit-bridge"
# Enabled (the unit and its D-Bus alias), not started (no systemd runs here anyway).
[[ $(readlink "$root/etc/systemd/system/multi-user.target.wants/xconnectd.service") == \
  /lib/systemd/system/xconnectd.service ]] || fail "xconnectd.service is not enabled (multi-user.target.wants)"
[[ $(readlink "$root/etc/systemd/system/dbus-org.xconnect.service") == /lib/systemd/system/xconnectd.service ]] ||
  fail "/etc/systemd/system/dbus-org.xconnect.service is not the unit's alias"
activation=$root/usr/share/dbus-1/system-services/org.xconnect.service
grep -qx 'User=xconnect' "$activation" || fail "the installed activation file does not say User=xconnect"
grep -qx 'SystemdService=xconnectd.service' "$activation" ||
  fail "the installed activation file does not say SystemdService=xconnectd.service"
grep -qx 'User=xconnect' "$root/lib/systemd/system/xconnectd.service" || fail "the unit does not say User=xconnect"
grep -qx 'Alias=dbus-org.xconnect.service' "$root/lib/systemd/system/xconnectd.service" ||
  fail "the unit has no Alias=dbus-org.xconnect.service"
[[ ! -e $root/var/lib/dpkg/info/xconnect.conffiles ]] || fail "xconnect has conffiles: $(cat "$root/var/lib/dpkg/info/xconnect.conffiles")"

step "user xconnect, /etc/xconnect, xconnectd --version"
in_root "getent passwd xconnect" || fail "no user xconnect after install"
[[ $(in_root "stat -c %U:%G /etc/xconnect /etc/xconnect/xconnect.yaml" | sort -u) == xconnect:xconnect ]] ||
  fail "/etc/xconnect is not owned by xconnect: $(in_root 'ls -la /etc/xconnect')"
[[ $(cat "$root/etc/xconnect/xconnect.yaml") == 'links: {}' ]] ||
  fail "/etc/xconnect/xconnect.yaml does not hold 'links: {}': $(cat "$root/etc/xconnect/xconnect.yaml")"
version=$(in_root "xconnectd --version") || fail "xconnectd --version in the bookworm root"
echo "xconnectd --version: $version"

# --- the D-Bus demo ----------------------------------------------------------
step "topology: $p-h1..3 in namespace $p-h, their peers $p-n1..3 in $p-n1..3 at 169.254.1.N0/24"
ip netns add "$p-h"
ip -n "$p-h" link set lo up
for n in 1 2 3; do
  ip netns add "$p-n$n"
  ip -n "$p-h" link add name "$p-h$n" type veth peer name "$p-n$n" netns "$p-n$n"
  ip -n "$p-h" link set "$p-h$n" up
  ip -n "$p-n$n" addr add "169.254.1.${n}0/24" dev "$p-n$n"
  ip -n "$p-n$n" link set "$p-n$n" up
done
# The root sees the namespaces' names, as the host does: the prerm's
# `xconnectd --flush --all-namespaces` finds namespace $p-h by its /run/netns entry.
mkdir -p "$root/run/netns"
mount --rbind /run/netns "$root/run/netns"
pings() { ip netns exec "$p-n1" ping -c 2 -i 0.2 -W 1 "$1" >/dev/null 2>&1; }
# Pins: anything but directories in the test's bpffs, less the two files
# every bpffs instance has.
pins() { find "$root/sys/fs/bpf" ! -type d ! -path "$root/sys/fs/bpf/maps.debug" \
  ! -path "$root/sys/fs/bpf/progs.debug"; }
xdp_attached() { ip -n "$p-h" link show | grep -c ' xdp' || true; }

step "private system bus with the installed policy, activating the installed Exec= as user xconnect"
sed -e "s|@DIR@|/tmp/xcit/bus|g" \
  -e "s|@SOURCE@/dbus/org.xconnect.conf|/usr/share/dbus-1/system.d/org.xconnect.conf|" \
  scripts/private-system-bus.conf.in >"$root/tmp/xcit/bus/bus.conf"
grep -q '<include>/usr/share/dbus-1/system.d/org.xconnect.conf</include>' "$root/tmp/xcit/bus/bus.conf" ||
  fail "scripts/private-system-bus.conf.in no longer includes @SOURCE@/dbus/org.xconnect.conf"
# A private dbus-daemon does not apply User= (only the system bus's setuid
# launch helper does): the installed Exec= runs through unit-sandbox.sh as
# the unit runs it, as user xconnect with CAP_BPF and CAP_NET_ADMIN.
exec_line=$(sed -n 's/^Exec=//p' "$activation")
[[ $exec_line == /usr/sbin/xconnectd* ]] || fail "unexpected Exec= in the installed activation file: $exec_line"
printf '[D-BUS Service]\nName=org.xconnect\nExec=/bin/sh /tmp/xcit/unit-sandbox.sh xconnect +bpf,+net_admin %s\n' \
  "$exec_line" >"$root/tmp/xcit/bus/services/org.xconnect.service"
mkfifo "$root/tmp/xcit/bus/ready"
# In namespace $p-h: the daemon the bus activates runs there too.
nsenter --net="/run/netns/$p-h" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  dbus-daemon --config-file=/tmp/xcit/bus/bus.conf --nofork --nopidfile --print-address=3 \
  3>"$root/tmp/xcit/bus/ready" 2>"$work/bus.log" &
bus_pid=$!
read -r _address <"$root/tmp/xcit/bus/ready" || fail "the private bus did not start: $(cat "$work/bus.log")"
on_bus() { in_root "export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/tmp/xcit/bus/socket; $1"; }
daemon_log() { echo "--- bus and daemon log:" >&2; cat "$work/bus.log" >&2; }

out=$(on_bus "busctl call org.xconnect /org/xconnect org.xconnect.Manager AddPair ss $p-h1 $p-h2") ||
  { daemon_log; fail "busctl call AddPair $p-h1 $p-h2"; }
echo "AddPair: $out"
pair=$(sed -n 's/^o "\(.*\)"$/\1/p' <<<"$out")
[[ $pair == /org/xconnect/pair/* ]] || fail "AddPair returned no pair object: $out"
# (busctl status cannot read the credentials of a process in another mount namespace.)
owner() { on_bus "busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus $1 s org.xconnect" |
  sed -n 's/^u //p'; }
[[ $(owner GetConnectionUnixUser) == "$(in_root 'id -u xconnect')" ]] ||
  fail "the activated daemon does not run as user xconnect (uid $(owner GetConnectionUnixUser))"
on_bus "xconnectctl add $p-h3 $p-h4" || fail "xconnectctl add $p-h3 $p-h4 (an absent interface: pending)"
pings 169.254.1.20 || { daemon_log; fail "no ping reply across $p-h1<->$p-h2"; }
echo "ping 169.254.1.10 -> 169.254.1.20 across $p-h1<->$p-h2: replies"
list=$(on_bus "xconnectctl") || fail "xconnectctl (list)"
echo "$list"
grep -q "$p-h1" <<<"$list" && grep -q "$p-h3" <<<"$list" || fail "xconnectctl does not list both pairs"
on_bus "xconnectctl status --no-pager $p-h1" || fail "xconnectctl status $p-h1"
props=$(on_bus "busctl get-property org.xconnect $pair org.xconnect.Pair Left Right State Mode LeftToRightPackets") ||
  fail "busctl get-property $pair"
echo "$props"
mapfile -t prop <<<"$props"
[[ ${prop[0]} == "s \"$p-h1\"" && ${prop[1]} == "s \"$p-h2\"" && ${prop[2]} == 's "active"' ]] ||
  fail "pair $pair: Left, Right, State are not $p-h1, $p-h2, active"
[[ ${prop[3]} == 's "native"' || ${prop[3]} == 's "generic"' ]] || fail "pair $pair is not attached: Mode ${prop[3]}"
[[ ${prop[4]} =~ ^t\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] > 0)) || fail "pair $pair forwarded nothing: ${prop[4]}"
grep -q "$p-h1" "$root/etc/xconnect/xconnect.yaml" || fail "the daemon did not write $p-h1 to /etc/xconnect/xconnect.yaml"
if on_bus "xconnectctl add $p-h2 $p-h3" 2>/dev/null; then fail "xconnectctl add $p-h2 $p-h3 succeeded: $p-h2 is taken"; fi
on_bus "xconnectctl remove $p-h2" || fail "xconnectctl remove $p-h2"
on_bus "busctl call org.xconnect /org/xconnect org.xconnect.Manager RemovePair s $p-h4" || fail "busctl call RemovePair $p-h4"
on_bus "xconnectctl --json list" |
  python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["pairs"] != [])' ||
  fail "pairs left after RemovePair: $(on_bus 'xconnectctl --json list')"
if pings 169.254.1.20; then fail "ping across $p-h1<->$p-h2 still replies after RemovePair"; fi

step "a pair left forwarding when the daemon stops (--keep-dataplane): the purge must take it down"
on_bus "xconnectctl add $p-h1 $p-h3" || fail "xconnectctl add $p-h1 $p-h3"
pings 169.254.1.30 || fail "no ping reply across $p-h1<->$p-h3"
daemon=$(owner GetConnectionUnixProcessID)
[[ -n $daemon ]] || fail "no PID for org.xconnect"
kill -TERM "$daemon" && tail --pid="$daemon" -f /dev/null
kill "$bus_pid" && wait "$bus_pid" 2>/dev/null || true
bus_pid=
(($(xdp_attached) == 2)) || fail "after a stop with --keep-dataplane, $(xdp_attached) interfaces carry XDP, not 2"
pings 169.254.1.30 || fail "the kept dataplane does not forward after the daemon stopped"
[[ -n $(pins) ]] || fail "no pin under the bpffs after the stop with --keep-dataplane"

# --- purge -------------------------------------------------------------------
step "apt-get purge xconnect xconnect-cockpit"
in_root "apt-get purge -y -q xconnect xconnect-cockpit" >"$work/purge.log" 2>&1 ||
  { tail -n 30 "$work/purge.log" >&2; fail "apt-get purge"; }
grep -i xconnectd "$work/purge.log" || true
while read -r f; do
  [[ -d $root$f ]] && continue  # directories others share (/usr, /lib/systemd)
  [[ -e $root$f || -L $root$f ]] && fail "$f is left after the purge"
done <"$work/files.list"
for d in /usr/share/doc/xconnect /usr/share/doc/xconnect-cockpit /usr/share/cockpit/xconnect /etc/xconnect; do
  [[ ! -e $root$d ]] || fail "$d is left after the purge"
done
for l in multi-user.target.wants/xconnectd.service dbus-org.xconnect.service; do
  [[ ! -e $root/etc/systemd/system/$l && ! -L $root/etc/systemd/system/$l ]] ||
    fail "/etc/systemd/system/$l is left after the purge"
done
(($(xdp_attached) == 0)) || fail "XDP still attached after the purge: $(ip -n "$p-h" link show | grep ' xdp')"
[[ -z $(pins) ]] || fail "pins left under the bpffs after the purge: $(pins)"
in_root "getent passwd xconnect" >/dev/null || fail "user xconnect was removed by the purge (it should stay)"
if pings 169.254.1.30; then fail "ping across $p-h1<->$p-h3 still replies after the purge"; fi

echo "install-test: PASS in $((SECONDS - start)) s"
