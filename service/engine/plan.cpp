#include "plan.hpp"

#include <algorithm>
#include <map>

namespace xconnect {

namespace {

// interface -> the pair that holds it
std::map<std::string, const PairSpec*> by_interface(const std::vector<PairSpec>& pairs) {
    std::map<std::string, const PairSpec*> result;
    for (const PairSpec& pair : pairs) {
        result.emplace(pair.left, &pair);
        result.emplace(pair.right, &pair);
    }
    return result;
}

bool contains_connection(const std::vector<PairSpec>& pairs, const PairSpec& wanted) {
    return std::any_of(pairs.begin(), pairs.end(),
                       [&](const PairSpec& pair) { return pair.same_connection(wanted); });
}

}  // namespace

Plan plan_changes(const std::vector<PairSpec>& running, const std::vector<PairSpec>& candidate) {
    Plan plan;
    for (const PairSpec& pair : running) {
        if (!contains_connection(candidate, pair)) {
            plan.removed_pairs.push_back(pair);
        }
    }
    for (const PairSpec& pair : candidate) {
        if (!contains_connection(running, pair)) {
            plan.added_pairs.push_back(pair);
        }
    }

    const auto before = by_interface(running);
    const auto after = by_interface(candidate);
    for (const auto& [name, pair] : after) {
        if (auto old = before.find(name);
            old != before.end() && !old->second->same_connection(*pair)) {
            plan.changed_interfaces.push_back(name);
        }
    }
    return plan;
}

}  // namespace xconnect
