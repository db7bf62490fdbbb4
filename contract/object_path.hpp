#pragma once

#include <string>
#include <string_view>

namespace xconnect {

inline constexpr const char* manager_path = "/org/xconnect";
inline constexpr const char* pair_path_prefix = "/org/xconnect/pair/";

// An object path element for any string, as systemd's bus_label_escape():
// [A-Za-z0-9] stay, every other byte becomes _XX (hex), "" becomes "_".
// One-to-one, so different interface names never share a path.
std::string escape_path_element(std::string_view text);

// The path of the pair whose left interface is `left`: stable for the life
// of the pair.
std::string pair_path(std::string_view left);

}  // namespace xconnect
