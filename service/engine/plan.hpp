#pragma once

#include <string>
#include <vector>

#include "model.hpp"

namespace xconnect {

// What moving from one desired state to another takes. Pairs are compared as
// connections (same two interfaces in either order, same mode): a pair in both
// states is kept and never touched, so it is in neither list.
struct Plan {
    std::vector<PairSpec> removed_pairs;
    std::vector<PairSpec> added_pairs;

    // Interfaces (sorted) forwarding before and after, but to another peer or
    // in another mode, as the original's confDiff saw them: a changed
    // interface keeps its program; only its map entry is rewritten.
    std::vector<std::string> changed_interfaces;
};

// Both inputs must be valid (validate_pairs() found no problem).
Plan plan_changes(const std::vector<PairSpec>& running, const std::vector<PairSpec>& candidate);

}  // namespace xconnect
