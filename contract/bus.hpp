#pragma once

// The names on the bus (docs/dbus-api.md; the XML in dbus/ is their
// machine-readable form): service, objects, interfaces, polkit actions.

#include <chrono>

namespace xconnect {

inline constexpr const char* bus_name = "org.xconnect";
inline constexpr const char* manager_interface = "org.xconnect.Manager";
inline constexpr const char* pair_interface = "org.xconnect.Pair";

// polkit action ids (polkit/org.xconnect.policy).
inline constexpr const char* manage_pairs_action = "org.xconnect.manage-pairs";
inline constexpr const char* reload_action = "org.xconnect.reload";
inline constexpr const char* capture_action = "org.xconnect.capture";

// How long a change may wait for polkit when the caller allows interaction:
// a person may take a while to type a password into an authentication agent.
// The CLI waits as long for the reply as the daemon waits for polkit.
inline constexpr std::chrono::minutes interactive_authorization_timeout{5};

}  // namespace xconnect
