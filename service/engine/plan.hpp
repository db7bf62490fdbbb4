#pragma once

#include <string>
#include <vector>

#include "model.hpp"

namespace xconnect {

// What moving from one desired state to another takes. Pairs are compared as
// connections (same two interfaces in either order, same mode): a pair in both
// states is kept and never touched.
struct Plan {
    std::vector<PairSpec> removed_pairs;
    std::vector<PairSpec> added_pairs;
    std::vector<PairSpec> kept_pairs;

    // The same change per interface (sorted), as the original's confDiff saw it:
    // new = forwarding only after, removed = forwarding only before, changed =
    // forwarding before and after but to another peer or in another mode. A
    // changed interface keeps its program; only its map entry is rewritten.
    std::vector<std::string> new_interfaces;
    std::vector<std::string> changed_interfaces;
    std::vector<std::string> removed_interfaces;

    bool empty() const { return removed_pairs.empty() && added_pairs.empty(); }
};

// Both inputs must be valid (validate_pairs() found no problem).
Plan plan_changes(const std::vector<PairSpec>& running, const std::vector<PairSpec>& candidate);

}  // namespace xconnect
