#include "model.hpp"

#include <cctype>
#include <map>

#include "common/quote.hpp"

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
        return "interface name " + quote(name) + " is longer than 15 bytes";
    }
    if (name == "." || name == "..") {
        return "interface name " + quote(name) + " is reserved";
    }
    // D-Bus and YAML carry only UTF-8: a name that is not could be neither
    // shown nor written back.
    if (!is_valid_utf8(name)) {
        return "interface name " + quote(name) + " is not valid UTF-8";
    }
    for (size_t i = 0; i < name.size(); ++i) {
        const auto byte = static_cast<unsigned char>(name[i]);
        // U+0080..U+009F (C2 80..C2 9F): the C1 control characters.
        const bool c1_control =
            byte == 0xC2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) < 0xA0;
        if (byte == '/' || byte == ':' || std::isspace(byte) || std::iscntrl(byte) || c1_control) {
            return "interface name " + quote(name) +
                   " contains '/', ':', whitespace or a control character";
        }
        // The kernel's isspace() is Latin-1's: it refuses byte 0xA0 (as in
        // "à", C3 A0) anywhere in a name.
        if (byte == 0xA0) {
            return "interface name " + quote(name) +
                   " contains byte 0xa0, which Linux counts as whitespace";
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
