#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace xconnect {

// Lets an unordered_map keyed by std::string be searched with a string_view,
// without building a std::string per lookup.
struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const noexcept {
        return std::hash<std::string_view>{}(name);
    }
};

template <typename Value>
using NameMap = std::unordered_map<std::string, Value, NameHash, std::equal_to<>>;

}  // namespace xconnect
