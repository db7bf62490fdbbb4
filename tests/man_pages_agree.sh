#!/bin/bash
# The manual pages render without a warning, and xconnectd(8) documents
# exactly the options of xconnectd --help, in the same order.
# Usage: man_pages_agree.sh XCONNECTD MANPAGE...
set -euo pipefail
xconnectd=$1
shift

for page in "$@"; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || { echo "$page: $warnings" >&2; exit 1; }
done

xconnectd_page=$(printf '%s\n' "$@" | grep 'xconnectd\.8$')
# An option's line in --help begins with it; in the man page, it is the line after .TP.
from_help=$("$xconnectd" --help | sed -nE 's/^ +(-[a-zA-Z], )?(--[a-z][a-z-]*).*/\2/p' | xargs)
from_manpage=$(sed -n '/^\.SH OPTIONS$/,/^\.SH /{/^\.TP$/{n;p}}' "$xconnectd_page" |
               sed 's/\\-/-/g' | awk 'match($0, /--[a-z][a-z-]*/) { print substr($0, RSTART, RLENGTH) }' |
               xargs)
echo "--help:   $from_help"
echo "man page: $from_manpage"
[ -n "$from_help" ] && [ "$from_help" = "$from_manpage" ]
