#pragma once

// Interface names Linux accepts that a YAML 1.1 or 1.2 resolver could read as
// something other than the same string, and ordinary ones next to them: what
// render_config must write so that every parser reads them back unchanged.

#include <set>
#include <string>
#include <vector>

#include "engine/model.hpp"

namespace xconnect {

inline std::vector<std::string> tricky_names() {
    std::vector<std::string> names = {
        // YAML 1.1 booleans and nulls, in the cases resolvers match.
        "yes", "Yes", "YES", "no", "No", "NO", "y", "Y", "n", "N", "on", "On", "ON", "off", "Off",
        "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~",
        // Numbers: octal, hex, binary, sexagesimal-free floats, separators.
        "0", "07", "0o7", "010", "0x10", "0X1f", "0b101", "1_000", "1e3", "1E3", "-1", "+1", "1.5",
        ".5", "1.", "-.5", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN",
        "2001-12-14", "123456789012345",
        // YAML 1.1's merge key and value indicator.
        "<<", "=",
        // Inside a name: comment, flow indicators, quotes, anchors, tags.
        "a#b", "a[b", "a]b", "a{b", "a}b", "a,b", "a'b", "a\"b", "a&b", "a*b", "a!b", "a|b", "a>b",
        "a%b", "a@b", "a`b", "a\\b", "a?b", "a-", "a.", "a..b",
        // Ordinary names, plain.
        "xconnect-1", "eth0", "veth0.100", "tap_vm.1", "Eth0", "e", "eth-yes",
        // UTF-8.
        "é", "ÿ", "日本", "\u00e9x", "\U0001F600"};
    // Every printable ASCII character, leading, alone and inside.
    for (char c = '!'; c <= '~'; ++c) {
        names.push_back(std::string(1, c));
        names.push_back(std::string(1, c) + "a");
        names.push_back(std::string("a") + c);
        names.push_back(std::string(1, c) + "1");
    }
    std::vector<std::string> valid;
    std::set<std::string> seen;
    for (const std::string& name : names) {
        if (!invalid_interface_name_reason(name) && seen.insert(name).second) {
            valid.push_back(name);
        }
    }
    return valid;
}

// Each name as a self-pair (it is both a key and a value), every third one
// with a mode (so also inside a flow map).
inline std::vector<PairSpec> tricky_name_pairs() {
    std::vector<PairSpec> pairs;
    for (const std::string& name : tricky_names()) {
        std::optional<ModePolicy> mode;
        if (pairs.size() % 3 == 2) {
            mode = ModePolicy::generic;
        }
        pairs.push_back(PairSpec{name, name, mode});
    }
    return pairs;
}

}  // namespace xconnect
