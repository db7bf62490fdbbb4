#!/bin/bash
# The systemd VM tier's checks, inside the guest: Debian 12 booted with
# systemd as PID 1 (tests/vm/debian-systemd-image), run at every boot by
# xconnect-vm-test.service from the host's exchange directory:
#   /mnt/exchange/debs/{v1,v2}/   the packages built from the tree, v2 with
#                                 another XDP program stamp (the upgrade)
#   /mnt/exchange/bin/xconnect-loss-meter
#   /mnt/exchange/output/         what this writes: log, journals, status
# Boot 1 installs and exercises the package, asks the host (over the
# virtio-serial port xconnect.ctl) to drive Cockpit through a real login,
# and reboots; boot 2 checks what came back by itself, then removes and
# purges. Every step prints "== step" and every failure "FAIL: why"; the
# last line of output/status is "pass" or "fail".
set -uo pipefail
exchange=/mnt/exchange
out=$exchange/output
mkdir -p "$out"
exec >>"$out/guest.log" 2>&1
state=/var/lib/xconnect-vm-test
mkdir -p "$state"
boot=$(($(cat "$state/boots" 2>/dev/null || echo 0) + 1))
echo "$boot" >"$state/boots"
control=/dev/virtio-ports/xconnect.ctl
manager=(org.xconnect /org/xconnect org.xconnect.Manager)

step() { printf '== boot %s: %s\n' "$boot" "$*"; }
collect() {
  journalctl -b --no-pager -o short-monotonic >"$out/journal-boot$boot.txt" 2>&1
  systemctl list-units --all --no-pager >"$out/units-boot$boot.txt" 2>&1
}
finish() {
  echo "$1" >"$out/status"
  collect
  sync
  systemctl poweroff
  exit 0
}
fail() {
  echo "FAIL: $*"
  finish fail
}
# The host's answer to a request line (over the virtio-serial port), or
# "fail: ..." when there is none within 10 minutes.
ask_host() {
  local answer
  exec 5<>"$control" || { echo "fail: no virtio-serial port $control"; return; }
  echo "$1" >&5
  IFS= read -r -t 600 answer <&5 || answer="fail: no answer from the host to: $1"
  exec 5>&-
  echo "$answer"
}

# --- the machine as booted -----------------------------------------------------
system_is_running() {
  local running
  running=$(systemctl is-system-running --wait)
  [[ $running == running ]] ||
    fail "system is $running after boot $boot; failed units: $(systemctl --failed --no-legend --plain | tr '\n' ' ')"
  echo "system: running, no failed units"
}

# --- frames across a pair ------------------------------------------------------
# loss_across SENDER_PEER RECEIVER_PEER WHAT COMMAND...: numbered frames at
# 5 000/s from SENDER_PEER's namespace to RECEIVER_PEER's while COMMAND runs,
# then 2 s more; fails unless every frame arrived.
loss_across() {
  local from=$1 to=$2 what=$3 report="" flowing="" status
  shift 3
  coproc meter { "$exchange/bin/xconnect-loss-meter" "$from" "$to" 5000 2>"$out/loss-meter.err"; }
  # bash unsets these once the coprocess has ended: keep copies.
  local pid=$meter_PID from_meter=${meter[0]} to_meter=${meter[1]}
  IFS= read -r -t 60 flowing <&"$from_meter"
  [[ $flowing == flowing ]] || fail "$what: the loss meter did not start: $flowing $(cat "$out/loss-meter.err")"
  "$@" || fail "$what: $* failed"
  sleep 2  # frames keep flowing after the event, through what it left behind
  echo stop >&"$to_meter"
  IFS= read -r -t 60 report <&"$from_meter"
  wait "$pid"
  status=$?
  echo "$what: $report"
  ((status == 0)) || fail "$what: frames lost: $report $(cat "$out/loss-meter.err")"
}

pair_state() {
  busctl get-property org.xconnect "$1" org.xconnect.Pair State 2>&1
}
main_pid() { systemctl show -P MainPID xconnectd.service; }
attached_program() { ip -d link show "$1" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n1; }

# --- boot 1: install and exercise -----------------------------------------------
boot_one() {
  step "the system as booted"
  system_is_running

  step "apt install the packages (v1)"
  local since
  since=$(date +%s)
  apt-get install -y --no-install-recommends "$exchange"/debs/v1/xconnect_*.deb \
    "$exchange"/debs/v1/xconnect-cockpit_*.deb >"$out/apt-install.log" 2>&1 ||
    { tail -n 30 "$out/apt-install.log"; fail "apt-get install"; }
  if journalctl --since "@$since" --no-pager -o cat | grep -i "unknown username"; then
    fail "a service named an unknown user while the package installed (above)"
  fi
  installed_files
  [[ $(systemctl is-enabled xconnectd.service) == enabled ]] || fail "xconnectd.service is not enabled"
  [[ $(systemctl is-active xconnectd.service) == inactive ]] || fail "xconnectd.service was started by the install"
  system_is_running
  [[ $(stat -c %U:%a /sys/fs/bpf/xconnect) == xconnect:700 ]] ||
    fail "/sys/fs/bpf/xconnect is not xconnect's (0700): $(stat -c %U:%a /sys/fs/bpf/xconnect 2>&1)"
  echo "enabled, not started; /sys/fs/bpf/xconnect made by tmpfiles.d"

  step "the first busctl call activates the daemon through systemd"
  for side in xa xb; do
    ip link add "$side" type veth peer name "$side-p" && ip link set "$side" up && ip link set "$side-p" up ||
      fail "veth $side"
  done
  local reply pair
  reply=$(busctl call "${manager[@]}" AddPair ss xa xb 2>&1) || fail "busctl call AddPair xa xb: $reply"
  pair=$(sed -n 's/^o "\(.*\)"$/\1/p' <<<"$reply")
  echo "AddPair: $reply"
  journalctl -u dbus --since "@$since" --no-pager -o cat |
    grep "Activating via systemd: service name='org.xconnect' unit='xconnectd.service'" ||
    fail "the bus did not activate org.xconnect through systemd"
  local pid status
  pid=$(main_pid)
  status=$(cat "/proc/$pid/status")
  [[ $(ps -o user= -p "$pid") == xconnect ]] || fail "the daemon (pid $pid) does not run as xconnect"
  for field in CapEff CapPrm CapBnd; do
    grep -qx "$field:	000000c000001000" <<<"$status" ||
      fail "$field of the daemon is not exactly cap_net_admin cap_perfmon cap_bpf: $(grep "^$field" <<<"$status")"
  done
  echo "daemon $pid: user xconnect, CapEff/CapPrm/CapBnd 000000c000001000 (cap_net_admin cap_perfmon cap_bpf)"
  ip -d link show xconnect-warm0 | grep -q 'prog/xdp' || fail "no warm tap with the program: $(ip -d link show xconnect-warm0 2>&1)"
  echo "warm tap xconnect-warm0 holds the program"
  # CAP_PERFMON from the unit: the drop-accounting programs load under systemd too.
  if journalctl -u xconnectd --since "@$since" --no-pager -o cat | grep "drop accounting:"; then
    fail "drop accounting did not start under the unit (above)"
  fi
  counting=$(journalctl -u xconnectd --since "@$since" --no-pager -o cat | grep "counting dropped frames:" | tail -1)
  [[ -n $counting ]] || fail "the daemon did not say what it counts of dropped frames"
  # Before 6.3 a native target that cannot take a redirect refuses the batch
  # only when the driver transmits: only xdp:xdp_devmap_xmit sees it.
  IFS=. read -r major minor _ <<<"$(uname -r)"
  if ((major < 6 || (major == 6 && minor < 3))); then
    grep -q "xdp:xdp_devmap_xmit" <<<"$counting" || fail "Linux $(uname -r) needs xdp:xdp_devmap_xmit traced: $counting"
  else
    grep -q "xdp:xdp_devmap_xmit" <<<"$counting" && fail "Linux $(uname -r) checks targets at enqueue, yet: $counting"
  fi
  echo "drop accounting runs (no warning about it in the journal): $counting"
  [[ $(pair_state "$pair") == 's "active"' ]] || fail "pair $pair is $(pair_state "$pair")"

  step "numbered frames across xa<->xb, 0 lost, across every way the daemon stops and starts"
  loss_across xa-p xb-p "systemctl restart" systemctl restart xconnectd.service
  reactivate() {
    systemctl stop xconnectd.service &&
      [[ $(systemctl is-active xconnectd.service) == inactive ]] &&
      busctl call "${manager[@]}" ListPairs >/dev/null &&
      [[ $(systemctl is-active xconnectd.service) == active ]]
  }
  loss_across xa-p xb-p "systemctl stop, then activation by a call" reactivate
  kill_and_return() {
    local old
    old=$(main_pid)
    kill -9 "$old" || return 1
    # Restart=on-failure: the call waits for the restarted daemon's name.
    busctl call "${manager[@]}" ListPairs >/dev/null || return 1
    [[ $(main_pid) != "$old" && $(systemctl show -P NRestarts xconnectd.service) -ge 1 ]]
  }
  loss_across xa-p xb-p "kill -9 of MainPID (Restart=on-failure)" kill_and_return
  local before after
  before=$(attached_program xa)
  upgrade() {
    apt-get install -y --no-install-recommends "$exchange"/debs/v2/xconnect_*.deb \
      >"$out/apt-upgrade.log" 2>&1 || { tail -n 30 "$out/apt-upgrade.log"; return 1; }
    [[ $(systemctl is-active xconnectd.service) == active ]]
  }
  loss_across xa-p xb-p "apt install of a newer build with another XDP program" upgrade
  after=$(attached_program xa)
  [[ -n $before && -n $after && $before != "$after" ]] ||
    fail "the upgrade did not swap the program on xa (id $before before, $after after)"
  echo "upgrade: $(dpkg-query -W -f='${Version}' xconnect), program on xa $before -> $after"
  loss_across xa-p xb-p "systemctl reload (SIGHUP)" systemctl reload xconnectd.service
  journalctl -u xconnectd --since "@$since" --no-pager -o cat | grep -q "applied (SIGHUP)" ||
    fail "the daemon did not log its reload"

  step "polkit: the package's actions and its example rules file"
  install -m 0644 /usr/share/doc/xconnect/examples/50-xconnect-netadmin.rules.example \
    /etc/polkit-1/rules.d/50-xconnect-netadmin.rules
  groupadd -f netadmin
  useradd -m -G netadmin alice && useradd -m bob && useradd -m -G sudo carol || fail "useradd"
  printf 'alice:alice-pw-1\nbob:bob-pw-1\ncarol:carol-pw-1\n' | chpasswd || fail chpasswd
  reply=$(runuser -u alice -- busctl call "${manager[@]}" AddPair ss xc xd 2>&1) ||
    fail "alice (netadmin) may not add a pair: $reply"
  echo "alice (netadmin): AddPair xc xd: $reply"
  # dbus-send: no interactive authorization, and it prints the error's name.
  reply=$(runuser -u bob -- dbus-send --system --print-reply --dest=org.xconnect /org/xconnect \
    org.xconnect.Manager.AddPair string:xe string:xf 2>&1) && fail "bob (no group) added a pair: $reply"
  grep -q "^Error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: " <<<"$reply" ||
    fail "bob was refused, but not for want of authentication: $reply"
  echo "bob (no group): $reply"

  step "the journal: the daemon's lines under the unit, with their priorities"
  ip link set xb mtu 1400
  busctl call "${manager[@]}" ListPairs >/dev/null
  journalctl -u xconnectd --no-pager -p warning..warning -o cat | grep -q "MTU 1400" ||
    fail "no warning-priority line about xb's MTU in the journal"
  ip link set xb mtu 1500
  journalctl -u xconnectd --no-pager -o json >"$out/xconnectd-journal.json"
  python3 - "$out/xconnectd-journal.json" <<'PY' || fail "the journal's xconnectd lines (above)"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
ours = [l for l in lines if l.get("_COMM") == "xconnectd"]
assert ours, "no line from xconnectd"
raw = [l["MESSAGE"] for l in ours if str(l.get("MESSAGE", "")).startswith("<")]
assert not raw, f"raw priority prefixes reached the journal: {raw[:3]}"
levels = {l.get("PRIORITY") for l in ours}
assert {"4", "6"} <= levels, f"priorities seen: {sorted(levels)}"
assert all(l.get("_SYSTEMD_UNIT") == "xconnectd.service" for l in ours)
print(f"journal: {len(ours)} xconnectd lines under xconnectd.service, priorities {sorted(levels)}")
PY

  step "systemd-analyze security"
  systemd-analyze security --no-pager xconnectd.service >"$out/security.txt" 2>&1
  local exposure
  exposure=$(sed -n 's/.*Overall exposure level for xconnectd.service: \([0-9.]*\).*/\1/p' "$out/security.txt")
  echo "exposure: $exposure"
  awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' ||
    fail "systemd-analyze security: exposure ${exposure:-unknown} > 2.0"

  step "Cockpit through a real login (the host drives Chromium)"
  [[ $(systemctl is-active cockpit.socket) == active ]] || fail "cockpit.socket is not active"
  reply=$(ask_host "cockpit")
  echo "host: $reply"
  [[ $reply == ok* ]] || fail "the Cockpit checks: $reply"
  busctl call "${manager[@]}" ListPairs | grep -q '"xg" "xh"' ||
    fail "busctl does not list the pair alice added in Cockpit: $(busctl call "${manager[@]}" ListPairs)"
  echo "busctl lists xg<->xh, added in the page"

  step "a pair for interfaces systemd-networkd makes at boot, then reboot"
  for side in xr xs; do
    printf '[NetDev]\nName=%s\nKind=veth\n\n[Peer]\nName=%s-p\n' "$side" "$side" \
      >"/etc/systemd/network/60-$side.netdev"
  done
  printf '[Match]\nName=xr xr-p xs xs-p\n\n[Link]\nRequiredForOnline=no\n\n[Network]\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n' \
    >/etc/systemd/network/60-xrs.network
  reply=$(busctl call "${manager[@]}" AddPair ss xr xs 2>&1) || fail "AddPair xr xs: $reply"
  grep -q "xr: xs" /etc/xconnect/xconnect.yaml || fail "xr: xs is not in /etc/xconnect/xconnect.yaml"
  collect
  systemctl reboot
  exit 0
}

# --- boot 2: what came back by itself; remove and purge -------------------------
boot_two() {
  step "the system as rebooted"
  system_is_running
  [[ $(systemctl is-active xconnectd.service) == active ]] || fail "xconnectd.service did not start at boot"
  # Before this script's unit started: at boot, not by anything here.
  local entered test_started
  entered=$(systemctl show -P ActiveEnterTimestampMonotonic xconnectd.service)
  test_started=$(systemctl show -P ExecMainStartTimestampMonotonic xconnect-vm-test.service)
  ((entered > 0 && entered < test_started)) ||
    fail "xconnectd.service became active at ${entered} µs, not before the checks' unit (${test_started} µs)"
  [[ $(systemctl show -P NRestarts xconnectd.service) == 0 ]] || fail "xconnectd.service restarted during boot"
  local started
  started=$(journalctl -b -u xconnectd --no-pager -o cat)
  grep -i "namespac" <<<"$started" && fail "namespace trouble at boot (above)"
  # bpffs is memory: after a reboot the daemon finds nothing pinned, and
  # pins its program anew (no "kept", no "an earlier xconnectd left").
  grep -q "pinned in /sys/fs/bpf/xconnect/" <<<"$started" || fail "the daemon pinned nothing at boot"
  grep -E "kept XDP program id|an earlier xconnectd left" <<<"$started" &&
    fail "the daemon found pins from before the reboot (above)"
  echo "xconnectd.service started at boot (enabled, multi-user.target) into an empty bpffs"

  step "the pairs of /etc/xconnect/xconnect.yaml come back active"
  local pair waited=0
  pair=$(busctl call "${manager[@]}" GetPair s xr | sed -n 's/^o "\(.*\)"$/\1/p')
  until [[ $(pair_state "$pair") == 's "active"' ]]; do
    ((waited++ < 100)) || fail "xr<->xs is $(pair_state "$pair") after boot"
    sleep 0.1
  done
  echo "xr<->xs: active"
  loss_across xr-p xs-p "after the reboot" true

  step "apt remove: the config stays, nothing stays attached or running"
  apt-get remove -y xconnect xconnect-cockpit >"$out/apt-remove.log" 2>&1 ||
    { tail -n 30 "$out/apt-remove.log"; fail "apt-get remove"; }
  grep -q "xr: xs" /etc/xconnect/xconnect.yaml || fail "apt remove took /etc/xconnect/xconnect.yaml"
  no_trace "apt remove"

  step "apt purge: nothing is left"
  # xconnect-cockpit has no conffiles: apt remove left nothing of it to purge.
  apt-get purge -y xconnect >"$out/apt-purge.log" 2>&1 ||
    { tail -n 30 "$out/apt-purge.log"; fail "apt-get purge"; }
  [[ ! -e /etc/xconnect ]] || fail "/etc/xconnect is left after the purge"
  local f
  while read -r f; do
    [[ -d $f ]] && continue  # directories others share (/usr, /lib/systemd)
    [[ -e $f || -L $f ]] && fail "$f is left after the purge"
  done <"$state/files.list"
  getent passwd xconnect >/dev/null || fail "the purge removed user xconnect (Debian keeps system users)"
  if grep -n '<[0-7]>' "$out/apt-remove.log" "$out/apt-purge.log"; then
    fail "raw sd-daemon prefixes in apt's output (above)"
  fi
  no_trace "apt purge"
  finish pass
}

# Every file where it belongs, in the package it belongs to; the user, and
# /etc/xconnect as tmpfiles.d makes it. The list is kept for the purge.
installed_files() {
  local f
  dpkg-query -L xconnect xconnect-cockpit >"$state/files.list"
  for f in /usr/sbin/xconnectd /usr/bin/xconnectctl /lib/systemd/system/xconnectd.service \
    /usr/share/dbus-1/system.d/org.xconnect.conf /usr/share/dbus-1/system-services/org.xconnect.service \
    /usr/share/polkit-1/actions/org.xconnect.policy /usr/lib/sysusers.d/xconnect.conf \
    /usr/lib/tmpfiles.d/xconnect.conf /usr/share/bash-completion/completions/xconnectctl \
    /usr/share/man/man1/xconnectctl.1.gz /usr/share/man/man5/xconnect.yaml.5.gz \
    /usr/share/man/man8/xconnectd.8.gz /usr/share/doc/xconnect/README.md /usr/share/doc/xconnect/copyright; do
    grep -qx "$f" <(dpkg-query -L xconnect) && [[ -f $f ]] || fail "$f is not installed by package xconnect"
  done
  for f in manifest.json index.html xconnect.js xconnect.css; do
    grep -qx "/usr/share/cockpit/xconnect/$f" <(dpkg-query -L xconnect-cockpit) ||
      fail "/usr/share/cockpit/xconnect/$f is not in package xconnect-cockpit"
  done
  [[ ! -e /var/lib/dpkg/info/xconnect.conffiles ]] || fail "xconnect has conffiles: $(cat /var/lib/dpkg/info/xconnect.conffiles)"
  getent passwd xconnect >/dev/null || fail "no user xconnect"
  [[ $(stat -c %U:%G /etc/xconnect /etc/xconnect/xconnect.yaml | sort -u) == xconnect:xconnect ]] ||
    fail "/etc/xconnect is not xconnect's: $(ls -la /etc/xconnect)"
  [[ $(cat /etc/xconnect/xconnect.yaml) == 'links: {}' ]] || fail "/etc/xconnect/xconnect.yaml: $(cat /etc/xconnect/xconnect.yaml)"
  echo "files, user xconnect and /etc/xconnect (links: {}) in place; $(xconnectd --version)"
}

# Nothing attached, pinned or running after `what`.
no_trace() {
  local what=$1 attached pins
  pgrep -x xconnectd && fail "$what: xconnectd still runs"
  attached=$(ip -d link show | grep -B1 'prog/xdp' || true)
  [[ -z $attached ]] || fail "$what: XDP still attached: $attached"
  pins=$(find /sys/fs/bpf -mindepth 1 2>/dev/null)
  [[ -z $pins ]] || fail "$what: left in bpffs: $pins"
  echo "$what: nothing attached, pinned or running"
}

case $boot in
  1) boot_one ;;
  2) boot_two ;;
  *) fail "boot $boot: the checks were done after boot 2" ;;
esac
