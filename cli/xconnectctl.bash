# bash completion for xconnectctl
_xconnectctl() {
    local cur prev verbs options verb i
    cur=${COMP_WORDS[COMP_CWORD]}
    verbs="list status add remove reload interfaces permissions monitor capture"
    options="--json --no-legend --no-pager --no-ask-password --help --version"

    verb=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) verb=${COMP_WORDS[i]}; break ;;
        esac
    done

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return
    fi
    case $verb in
        "")
            COMPREPLY=($(compgen -W "$verbs" -- "$cur")) ;;
        add)
            # Any interface, present or to come: those present in the daemon's
            # namespace are offered (this one's while it does not answer).
            COMPREPLY=($(compgen -W "$( (xconnectctl interfaces --no-legend --no-pager 2>/dev/null ||
                                        ls /sys/class/net 2>/dev/null) | awk '{print $1}')" -- "$cur")) ;;
        capture)
            case $prev in
                -w) COMPREPLY=($(compgen -f -- "$cur")) ;;
                -c|-s|-G) COMPREPLY=() ;;
                *) COMPREPLY=($(compgen -W "$(xconnectctl list --no-legend --no-pager 2>/dev/null |
                                             awk '{print $1; print $2}')" -- "$cur")) ;;
            esac ;;
        remove|status)
            # Interfaces that are in a pair.
            COMPREPLY=($(compgen -W "$(xconnectctl list --no-legend --no-pager 2>/dev/null |
                                     awk '{print $1; print $2}')" -- "$cur")) ;;
    esac
}
complete -F _xconnectctl xconnectctl
