#include "model.hpp"

#include <cctype>
#include <map>

namespace xconnect {

std::string_view to_string(AttachMode mode) {
    switch (mode) {
        case AttachMode::native:
            return "native";
        case AttachMode::generic:
            return "generic";
    }
    return "?";
}

std::string_view to_string(ModePolicy policy) {
    switch (policy) {
        case ModePolicy::automatic:
            return "auto";
        case ModePolicy::native:
            return "native";
        case ModePolicy::generic:
            return "generic";
    }
    return "?";
}

std::string_view to_string(PairState state) {
    switch (state) {
        case PairState::pending:
            return "pending";
        case PairState::active:
            return "active";
        case PairState::failed:
            return "failed";
    }
    return "?";
}

std::string_view to_string(OperState state) {
    switch (state) {
        case OperState::unknown:
            return "unknown";
        case OperState::notpresent:
            return "notpresent";
        case OperState::down:
            return "down";
        case OperState::lowerlayerdown:
            return "lowerlayerdown";
        case OperState::testing:
            return "testing";
        case OperState::dormant:
            return "dormant";
        case OperState::up:
            return "up";
    }
    return "?";
}

std::optional<ModePolicy> parse_mode_policy(std::string_view text) {
    if (text == "auto") {
        return ModePolicy::automatic;
    }
    if (text == "native") {
        return ModePolicy::native;
    }
    if (text == "generic") {
        return ModePolicy::generic;
    }
    return std::nullopt;
}

bool PairSpec::same_connection(const PairSpec& other) const {
    const bool same_ends = (left == other.left && right == other.right) ||
                           (left == other.right && right == other.left);
    return same_ends && mode == other.mode;
}

std::string PairSpec::label() const {
    return left + "<->" + right;
}

std::optional<std::string> invalid_interface_name_reason(std::string_view name) {
    constexpr size_t max_length = 15;  // IFNAMSIZ - 1
    if (name.empty()) {
        return "interface name is empty";
    }
    if (name.size() > max_length) {
        return "interface name \"" + std::string(name) + "\" is longer than 15 bytes";
    }
    if (name == "." || name == "..") {
        return "interface name \"" + std::string(name) + "\" is reserved";
    }
    for (char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '/' || c == ':' || std::isspace(byte) || std::iscntrl(byte)) {
            return "interface name \"" + std::string(name) +
                   "\" contains '/', ':', whitespace or a control character";
        }
    }
    return std::nullopt;
}

std::vector<SpecProblem> validate_pairs(const std::vector<PairSpec>& pairs) {
    std::vector<SpecProblem> problems;
    std::map<std::string, size_t, std::less<>> owner;  // interface -> index of its pair
    for (size_t i = 0; i < pairs.size(); ++i) {
        const PairSpec& pair = pairs[i];
        bool names_ok = true;
        for (const std::string* name : {&pair.left, &pair.right}) {
            if (auto reason = invalid_interface_name_reason(*name)) {
                problems.push_back({i, *reason});
                names_ok = false;
            }
        }
        if (!names_ok) {
            continue;
        }
        for (const std::string* name : {&pair.left, &pair.right}) {
            if (pair.is_self_pair() && name == &pair.right) {
                break;
            }
            auto [it, inserted] = owner.emplace(*name, i);
            if (!inserted) {
                problems.push_back({i, "interface " + *name + " is in two pairs: " +
                                           pairs[it->second].label() + " and " + pair.label()});
            }
        }
    }
    return problems;
}

}  // namespace xconnect
