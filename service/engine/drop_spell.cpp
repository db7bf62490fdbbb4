#include "drop_spell.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

namespace xconnect {

namespace {

uint64_t total(const DropCounts& counts) {
    uint64_t sum = 0;
    for (const auto& [error, count] : counts) {
        sum += count;
    }
    return sum;
}

// What was counted since `earlier` (counts only grow while watched).
DropCounts since(const DropCounts& now, const DropCounts& earlier) {
    DropCounts difference;
    for (const auto& [error, count] : now) {
        const auto before = earlier.find(error);
        const uint64_t base = before == earlier.end() ? 0 : before->second;
        if (count > base) {
            difference[error] = count - base;
        }
    }
    return difference;
}

std::string frames(uint64_t count) {
    return std::to_string(count) + (count == 1 ? " frame" : " frames");
}

std::string cause(int error, uint64_t count, const DropTarget& target) {
    switch (error) {
        case EMSGSIZE:
            return frames(count) + " longer than " + target.name + "'s MTU " +
                   std::to_string(target.mtu);
        case ENETDOWN:
            return target.name + " is down";
        // Linux >= 6.3 refuses the redirect (EOPNOTSUPP: the device does not
        // announce ndo-xmit); earlier, veth's ndo_xdp_xmit refuses the batch
        // (ENXIO). A veth announces it only while its peer runs NAPI.
        case EOPNOTSUPP:
        case ENXIO:
            return target.kind == "veth"
                       ? target.name + " cannot take native redirects (its peer has no NAPI)"
                       : target.name + " cannot take native redirects (" + std::strerror(error) +
                             ")";
        case ENOSPC:
            return frames(count) + " found " + target.name + "'s transmit queue full";
        default:
            return frames(count) + " not delivered to " + target.name + " (" +
                   std::strerror(error) + ")";
    }
}

}  // namespace

std::string drop_causes(const DropCounts& spell, const DropTarget& target) {
    std::string text;
    for (const auto& [error, count] : spell) {
        if (count == 0) {
            continue;
        }
        text += (text.empty() ? "" : ", ") + cause(error, count, target);
    }
    return text;
}

bool DropSpell::update(const std::array<DropCounts, 2>& now,
                       const std::array<DropTarget, 2>& targets, Clock::time_point at) {
    if (!std::exchange(primed_, true)) {
        seen_ = now;
        return false;
    }
    for (size_t direction = 0; direction < 2; ++direction) {
        if (total(now[direction]) < total(seen_[direction])) {
            // The side's port was replaced: its counts began again at 0.
            seen_[direction].clear();
            spell_start_[direction].clear();
        }
    }
    const bool dropped = total(now[0]) > total(seen_[0]) || total(now[1]) > total(seen_[1]);
    if (dropped) {
        if (!losing()) {
            spell_start_ = seen_;
        }
        last_drop_ = at;
    }
    seen_ = now;
    std::string reason;
    if (losing() || dropped) {
        if (at - last_drop_ < quiet_after) {
            static constexpr const char* directions[] = {"left to right", "right to left"};
            for (size_t direction = 0; direction < 2; ++direction) {
                const std::string causes =
                    drop_causes(since(now[direction], spell_start_[direction]), targets[direction]);
                if (!causes.empty()) {
                    reason += (reason.empty() ? "" : "; ") + std::string(directions[direction]) +
                              ": " + causes;
                }
            }
        }
    }
    if (reason == reason_) {
        return false;
    }
    reason_ = std::move(reason);
    return true;
}

}  // namespace xconnect
