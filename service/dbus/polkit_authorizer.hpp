#pragma once

// Decides whether the sender of a D-Bus call may perform a polkit action, the
// way systemd's bus-polkit.c does: callers with uid 0 may; everyone else is
// asked about with CheckAuthorization, asynchronously, so the daemon keeps
// serving others while polkit thinks (or waits for the user to authenticate).
//
// dbus-daemon lets one connection wait for at most 128 replies
// (max_replies_per_connection) and refuses further calls with LimitsExceeded.
// A burst of callers must not turn that into spurious refusals, so the
// authorizer keeps its own round trips bounded and queues the rest.

#include <sdbus-c++/Error.h>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bounded_runner.hpp"

namespace sdbus {
class IConnection;
class IProxy;
}  // namespace sdbus

namespace xconnect {

class PolkitAuthorizer {
  public:
    // nullopt: allowed; otherwise the error to return to the caller.
    using Verdict = std::function<void(std::optional<sdbus::Error>)>;

    // Round trips in flight at once, per kind (bus driver, polkit): together
    // well below dbus-daemon's 128 pending replies per connection.
    static constexpr std::size_t max_round_trips = 32;
    // Checks waiting for a free round trip, per kind; beyond that a caller
    // gets LimitsExceeded at once rather than memory growing without bound.
    static constexpr std::size_t max_waiting_checks = 1024;

    explicit PolkitAuthorizer(sdbus::IConnection& connection);
    ~PolkitAuthorizer();

    // Calls `verdict` exactly once: when the answers are in, or at once if
    // too many checks wait already. Root is told apart by one bus driver
    // round trip and never waits for polkit; others are allowed only if
    // polkit says so and they are still on the bus when it has.
    void check(const std::string& sender, bool allow_interaction, const std::string& action,
               Verdict verdict);

  private:
    void ask_polkit(const std::string& sender, uint32_t uid, bool allow_interaction,
                    const std::string& action, Verdict verdict);
    void confirm_still_connected(const std::string& sender, const std::string& action,
                                 Verdict verdict);

    // Declared before the proxies: the proxies (and the reply handlers they
    // hold, which reference these) go first.
    BoundedRunner bus_driver_calls_;
    BoundedRunner polkit_calls_;
    std::unique_ptr<sdbus::IProxy> bus_driver_;
    std::unique_ptr<sdbus::IProxy> polkit_;
};

}  // namespace xconnect
