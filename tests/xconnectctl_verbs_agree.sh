#!/bin/bash
# The commands of xconnectctl --help (written from its verbs table), of the
# bash completion and of the man page are the same, in the same order.
# Usage: xconnectctl_verbs_agree.sh XCONNECTCTL COMPLETION MANPAGE
set -euo pipefail
xconnectctl=$1 completion=$2 manpage=$3

from_help=$("$xconnectctl" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z]\+\).*/\1/p' | xargs)
from_completion=$(source "$completion" && COMP_WORDS=(xconnectctl '') COMP_CWORD=1 &&
                  _xconnectctl && echo "${COMPREPLY[*]}")
from_manpage=$(sed -n '/^\.SH COMMANDS$/,/^\.SH /s/^\.B \([a-z]\+\).*/\1/p' "$manpage" | xargs)

echo "--help:     $from_help"
echo "completion: $from_completion"
echo "man page:   $from_manpage"
[ -n "$from_help" ] && [ "$from_help" = "$from_completion" ] && [ "$from_help" = "$from_manpage" ]
