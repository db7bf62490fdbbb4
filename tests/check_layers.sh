#!/bin/sh
# The layers point one way (README "Layout"): each folder may include only
# what is below it. Usage: check_layers.sh SOURCE_DIR UNIT_TESTS_BINARY
# Fails naming every include that points up, and if unit_tests links
# sdbus-c++ or libbpf. With --must-refuse first, checks the check: a copy of
# the tree with the engine including the D-Bus front end must fail.
set -u
if [ "$1" = --must-refuse ]; then
  copy=$(mktemp -d)
  trap 'rm -rf "$copy"' EXIT
  cp -r "$2/service" "$2/contract" "$2/cli" "$2/bench" "$copy/"
  printf '#include "dbus/dbus_service.hpp"\n' >>"$copy/service/engine/engine.cpp"
  if sh "$0" "$copy" "$3"; then
    echo "the check let the engine include dbus/"
    exit 1
  fi
  exit 0
fi
root=$1
unit_tests=$2
status=0

# folder | project folders it must not include
forbidden() {
  case $1 in
    service/common) echo "contract engine loader control capture config netlink dbus daemon" ;;
    contract) echo "common engine loader control capture config netlink dbus daemon" ;;
    service/engine) echo "loader control capture config netlink dbus daemon" ;;
    service/loader) echo "control capture config netlink dbus daemon" ;;
    service/control) echo "loader capture config netlink dbus daemon" ;;
    service/capture) echo "loader control config netlink dbus daemon" ;;
    service/config | service/netlink) echo "loader capture dbus daemon" ;;
    service/dbus) echo "loader config netlink daemon" ;;
    cli) echo "engine loader control capture config netlink dbus daemon" ;;
    bench) echo "daemon" ;;
  esac
}

for folder in service/common contract service/engine service/loader service/control service/capture \
              service/config service/netlink service/dbus cli bench; do
  for layer in $(forbidden "$folder"); do
    hits=$(grep -rn "^#include \"$layer/" "$root/$folder" --include='*.cpp' --include='*.hpp' \
             --include='*.h' 2>/dev/null)
    if [ -n "$hits" ]; then
      echo "$folder must not include $layer/:"
      echo "$hits" | sed "s|$root/||"
      status=1
    fi
  done
done

if ldd "$unit_tests" | grep -E 'libsdbus-c\+\+|libbpf'; then
  echo "unit_tests links sdbus-c++ or libbpf (above)"
  status=1
fi
[ $status -eq 0 ] && echo "layers: every include points down; unit_tests links neither sdbus-c++ nor libbpf"
exit $status
