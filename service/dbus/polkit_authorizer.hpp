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
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sdbus {
class IConnection;
class IProxy;
}  // namespace sdbus

namespace xconnect {

// Runs at most `max_running` jobs at a time and keeps up to `max_waiting`
// more, started in arrival order as running ones finish. A job is handed a
// `Finished` to call when its work is over (calling it again does nothing);
// it must not throw, and its Finished must not be called once the runner is
// destroyed. Single-threaded, like the loop it serves.
class BoundedRunner {
  public:
    using Finished = std::function<void()>;
    using Job = std::function<void(Finished)>;

    BoundedRunner(std::size_t max_running, std::size_t max_waiting);
    ~BoundedRunner();
    BoundedRunner(const BoundedRunner&) = delete;
    BoundedRunner& operator=(const BoundedRunner&) = delete;

    // Starts `job` now, or queues it; false (and `job` dropped unrun) when
    // max_running are running and max_waiting are waiting already.
    bool submit(Job job);

    std::size_t running() const { return running_; }
    std::size_t waiting() const { return waiting_.size(); }
    std::size_t max_running() const { return max_running_; }
    std::size_t max_waiting() const { return max_waiting_; }

  private:
    void start_waiting_jobs();
    void finish_one();

    const std::size_t max_running_;
    const std::size_t max_waiting_;
    std::size_t running_ = 0;
    std::deque<Job> waiting_;
    bool starting_ = false;  // start_waiting_jobs() is on the stack
};

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
