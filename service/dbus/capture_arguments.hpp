#pragma once

// Pair.Capture's a{sv} options as CaptureOptions: each known key with its
// type (docs/dbus-api.md), anything else refused by name.

#include <sdbus-c++/Types.h>

#include <map>
#include <string>

#include "capture/capture_options.hpp"

namespace xconnect {

// Throws ContractError invalid_args naming the key (quoted, bounded) and the
// type it needs.
CaptureOptions capture_options_of(const std::map<std::string, sdbus::Variant>& options);

}  // namespace xconnect
