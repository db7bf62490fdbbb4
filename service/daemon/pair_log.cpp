#include "pair_log.hpp"

#include "common/log.hpp"

namespace xconnect {

namespace {

std::string absent_sides(const PairStatus& pair) {
    std::string absent;
    if (pair.left_ifindex == 0) {
        absent = pair.spec.left;
    }
    if (pair.right_ifindex == 0 && pair.spec.right != pair.spec.left) {
        absent += (absent.empty() ? "" : " and ") + pair.spec.right;
    }
    return absent;
}

void log_oper_change(const PairStatus& pair, const std::string& side,
                     const std::optional<OperState>& oper) {
    if (!oper) {
        return;  // absence is logged with the state change
    }
    const auto level = *oper == OperState::up ? log::Level::info : log::Level::notice;
    log::emit(level, pair.spec.label(), ": ", side, " is ", to_string(*oper),
              *oper == OperState::up || pair.state != PairState::active
                  ? ""
                  : " (forwarding resumes when it is up)");
}

}  // namespace

std::string describe_state(const PairStatus& pair) {
    std::string text(to_string(pair.state));
    switch (pair.state) {
        case PairState::active:
            if (pair.left_mode && pair.right_mode && pair.left_mode != pair.right_mode) {
                text += " (" + pair.spec.left + " " + std::string(to_string(*pair.left_mode)) +
                        ", " + pair.spec.right + " " + std::string(to_string(*pair.right_mode)) +
                        ")";
            } else {
                text += " (" + std::string(to_string(*pair.mode)) + ")";
            }

            if (!pair.error.empty()) {
                text += "; " + pair.error;
            }
            break;
        case PairState::pending:
            text += " (" + absent_sides(pair) + " absent)";
            break;
        case PairState::failed:
            text += ": " + pair.error;
            break;
    }
    return text;
}

void PairLog::pair_added(const PairStatus& pair) {
    log::emit(pair.state == PairState::failed ? log::Level::err : log::Level::info,
              pair.spec.label(), ": added, ", describe_state(pair));
    if (!pair.mode_reason.empty()) {
        log::info(pair.spec.label(), ": why this mode: ", pair.mode_reason);
    }
    if (!pair.warning.empty()) {
        log::warning(pair.spec.label(), ": ", pair.warning);
    }
}

void PairLog::pair_removed(const PairStatus& pair) {
    losing_.erase(pair.spec.left);
    log::info(pair.spec.label(), ": removed");
}

void PairLog::pair_changed(const PairStatus& pair, PairFields changed) {
    if (changed & (field_state | field_mode | field_left_mode | field_right_mode | field_error)) {
        log::emit(pair.state == PairState::failed ? log::Level::err : log::Level::info,
                  pair.spec.label(), ": ", describe_state(pair));
    }
    if ((changed & field_mode_reason) && !pair.mode_reason.empty()) {
        log::info(pair.spec.label(), ": why this mode: ", pair.mode_reason);
    }
    if (changed & field_drop_reason) {
        if (!pair.drop_reason.empty() && losing_.insert(pair.spec.left).second) {
            log::warning(pair.spec.label(), ": losing frames: ", pair.drop_reason);
        } else if (pair.drop_reason.empty() && losing_.erase(pair.spec.left) > 0) {
            log::info(pair.spec.label(), ": no longer losing frames");
        }
    }
    if (changed & field_warning) {
        if (pair.warning.empty()) {
            log::info(pair.spec.label(), ": no frames are dropped for their size any more");
        } else {
            log::warning(pair.spec.label(), ": ", pair.warning);
        }
    }
    // A side that came back under another ifindex (recreated) while absent
    // has been reported with the state change; one swapped under us is news.
    if ((changed & field_left_ifindex) && pair.left_ifindex != 0 && !(changed & field_state)) {
        log::info(pair.spec.label(), ": ", pair.spec.left, " is now ifindex ", pair.left_ifindex);
    }
    if ((changed & field_right_ifindex) && pair.right_ifindex != 0 && !(changed & field_state) &&
        !pair.spec.is_self_pair()) {
        log::info(pair.spec.label(), ": ", pair.spec.right, " is now ifindex ", pair.right_ifindex);
    }
    if (changed & field_left_oper) {
        log_oper_change(pair, pair.spec.left, pair.left_oper);
    }
    if ((changed & field_right_oper) && !pair.spec.is_self_pair()) {
        log_oper_change(pair, pair.spec.right, pair.right_oper);
    }
}

}  // namespace xconnect
