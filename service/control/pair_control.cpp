#include "pair_control.hpp"

#include <algorithm>

#include "config/config_file.hpp"

namespace xconnect {

std::optional<PairSpec> PairControl::check_add(const std::string& left,
                                               const std::string& right) const {
    for (const std::string* name : {&left, &right}) {
        if (auto reason = invalid_interface_name_reason(*name)) {
            throw ContractError(ErrorKind::invalid_name, *reason);
        }
    }
    const PairSpec wanted{left, right, std::nullopt};
    for (const PairSpec& pair : engine_.desired()) {
        const bool same_ends = (pair.left == left && pair.right == right) ||
                               (pair.left == right && pair.right == left);
        if (same_ends) {
            return pair;
        }
        for (const std::string* name : {&left, &right}) {
            if (pair.holds(*name)) {
                throw ContractError(ErrorKind::in_use,
                                    "interface " + *name + " is already in pair " + pair.label());
            }
        }
    }
    return std::nullopt;
}

PairSpec PairControl::pair_holding(const std::string& ifname) const {
    for (const PairSpec& pair : engine_.desired()) {
        if (pair.holds(ifname)) {
            return pair;
        }
    }
    throw ContractError(ErrorKind::no_such_pair, "no pair holds interface " + ifname);
}

PairSpec PairControl::add_pair(const std::string& left, const std::string& right) {
    if (auto existing = check_add(left, right)) {
        return *existing;
    }
    std::vector<PairSpec> pairs = engine_.desired();
    pairs.push_back(PairSpec{left, right, std::nullopt});
    persist_and_apply(pairs);
    return pairs.back();
}

PairSpec PairControl::remove_pair(const std::string& ifname) {
    const PairSpec removed = pair_holding(ifname);
    std::vector<PairSpec> pairs = engine_.desired();
    std::erase(pairs, removed);
    persist_and_apply(pairs);
    return removed;
}

void PairControl::reload() {
    std::vector<PairSpec> pairs;
    try {
        pairs = store_.load();
    } catch (const std::exception& error) {
        throw ContractError(ErrorKind::invalid_config,
                            std::string(error.what()) + "; nothing was changed");
    }
    engine_.apply(pairs);
}

void PairControl::persist_and_apply(const std::vector<PairSpec>& pairs) {
    // Applied first, so frames flow while the file is fsync'ed; a change that
    // cannot be persisted is taken back, so it is not made at all.
    const std::vector<PairSpec> before = engine_.desired();
    engine_.apply(pairs);
    try {
        store_.save(pairs);
    } catch (const std::exception& error) {
        engine_.apply(before);
        throw ContractError(ErrorKind::failed, error.what());
    }
}

}  // namespace xconnect
