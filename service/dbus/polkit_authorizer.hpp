#pragma once

// Decides whether the sender of a D-Bus call may perform a polkit action, the
// way systemd's bus-polkit.c does: callers with uid 0 may; everyone else is
// asked about with CheckAuthorization, asynchronously, so the daemon keeps
// serving others while polkit thinks (or waits for the user to authenticate).

#include <sdbus-c++/Error.h>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sdbus {
class IConnection;
class IProxy;
}  // namespace sdbus

namespace xconnect {

class PolkitAuthorizer {
  public:
    // nullopt: allowed; otherwise the error to return to the caller.
    using Verdict = std::function<void(std::optional<sdbus::Error>)>;

    explicit PolkitAuthorizer(sdbus::IConnection& connection);
    ~PolkitAuthorizer();

    void check(const std::string& sender, bool allow_interaction, const std::string& action,
               Verdict verdict);

  private:
    void ask_polkit(const std::string& sender, uint32_t uid, bool allow_interaction,
                    const std::string& action, Verdict verdict);

    std::unique_ptr<sdbus::IProxy> bus_driver_;
    std::unique_ptr<sdbus::IProxy> polkit_;
};

}  // namespace xconnect
