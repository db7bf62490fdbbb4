#!/bin/sh
# Runs a program the way xconnectd.service runs xconnectd, where no systemd
# does: the fast tier (the D-Bus suite's as_xconnect.* pass on private test
# buses). The real unit under a real systemd is tested in the VM tier
# (tests/vm/); this imitation cannot show what only systemd does: the order
# in which it sets up the unit (namespace before ExecStartPre=), tmpfiles.d
# at boot, activation through systemd, Restart=, the journal.
#  - what systemd, tmpfiles.d/xconnect.conf and the unit's ExecStartPre=+
#    have done before the daemon starts: bpffs mounted at /sys/fs/bpf, and
#    /sys/fs/bpf/xconnect and all in it owned by USER;
#  - in a mount namespace of its own, TemporaryFileSystem=/sys/fs/bpf:mode=0755
#    and BindPaths=/sys/fs/bpf/xconnect: an empty tmpfs with the real
#    directory bound on top, so USER reaches it and pins land in the host's
#    bpffs;
#  - PrivateDevices=yes with BindPaths=-/dev/net/tun and DeviceAllow=: the
#    tun device (for the warm tap), with the mode 0666 Debian's udev gives it
#    (here a node of our own on a tmpfs, bound over /dev/net/tun in that
#    namespace only; the host's node keeps its mode);
#  - User=USER, NoNewPrivileges=yes and exactly the capabilities CAPS
#    (setpriv's spelling: +bpf,+net_admin,+perfmon) as AmbientCapabilities= and
#    CapabilityBoundingSet=.
# USER root keeps the host's view, as a unit without User= would.
# usage: unit-sandbox.sh USER CAPS PROGRAM [ARGUMENT...]
set -eu
[ $# -ge 3 ] || { echo "usage: $0 USER CAPS PROGRAM [ARGUMENT...]" >&2; exit 2; }
user=$1 caps=$2
shift 2
mountpoint -q /sys/fs/bpf || mount -t bpf -o mode=0700 bpf /sys/fs/bpf
if [ "$user" = root ]; then
  exec setpriv --no-new-privs --inh-caps="-all,$caps" --ambient-caps="-all,$caps" \
    --bounding-set="-all,$caps" -- "$@"
fi
mkdir -p /sys/fs/bpf/xconnect
chown -R "$user:" /sys/fs/bpf/xconnect
# The step inside the namespace: the directory is held by a bind mount while
# the tmpfs covers /sys/fs/bpf, then moved into place.
exec unshare --mount --propagation private -- /bin/sh -eu -c '
  user=$1 caps=$2
  shift 2
  held=$(mktemp -d)
  mount --bind /sys/fs/bpf/xconnect "$held"
  mount -t tmpfs -o mode=0755 tmpfs /sys/fs/bpf
  mkdir /sys/fs/bpf/xconnect
  mount --move "$held" /sys/fs/bpf/xconnect
  rmdir "$held"
  if [ -c /dev/net/tun ]; then
    devices=$(mktemp -d)
    mount -t tmpfs -o mode=0755 tmpfs "$devices"
    mknod -m 0666 "$devices/tun" c 10 200
    mount --bind "$devices/tun" /dev/net/tun
    umount -l "$devices"
    rmdir "$devices"
  fi
  exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --no-new-privs \
    --inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" -- "$@"
' unit-sandbox "$user" "$caps" "$@"
