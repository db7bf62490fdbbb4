#pragma once

// What a pair's drops say to a person (its DropReason): the causes of the
// drops of its current spell of losing frames, in words one can act on,
// e.g. "left to right: 12 frames longer than vx0's MTU 1450". A spell begins
// with a drop and ends after `quiet_after` without one; then the reason is
// empty again. Pure: the caller passes the counts and the time.

#include <array>
#include <chrono>
#include <string>

#include "dataplane.hpp"

namespace xconnect {

// The interface frames of a direction were redirected to.
struct DropTarget {
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "veth" has its own words for ENXIO
    uint32_t mtu = 0;
};

// One direction's causes: "12 frames longer than vx0's MTU 1450", "xb is
// down", joined by ", " when there are several.
std::string drop_causes(const DropCounts& spell, const DropTarget& target);

class DropSpell {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds quiet_after{5};

    // Drops by errno now, left to right and right to left (the totals the
    // kernel counted; a side's counts that went down began again with a new
    // port), and where each direction goes. Returns whether reason() changed.
    // The first call only takes note: what was counted before is no news.
    bool update(const std::array<DropCounts, 2>& now, const std::array<DropTarget, 2>& targets,
                Clock::time_point at);

    const std::string& reason() const { return reason_; }
    bool losing() const { return !reason_.empty(); }
    bool primed() const { return primed_; }

  private:
    std::array<DropCounts, 2> seen_;         // at the last update
    std::array<DropCounts, 2> spell_start_;  // when the spell began
    Clock::time_point last_drop_{};
    std::string reason_;
    bool primed_ = false;
};

}  // namespace xconnect
