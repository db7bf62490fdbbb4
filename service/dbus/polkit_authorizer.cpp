#include "polkit_authorizer.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <chrono>
#include <map>

#include "common/log.hpp"

namespace xconnect {

namespace {

constexpr const char* access_denied = "org.freedesktop.DBus.Error.AccessDenied";
constexpr const char* interaction_required =
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired";
constexpr uint32_t allow_user_interaction = 1;  // CheckAuthorizationFlags
// A person may take a while to type a password into an authentication agent.
constexpr std::chrono::minutes interactive_timeout{5};
constexpr std::chrono::seconds plain_timeout{25};

bool polkit_absent(const sdbus::Error& error) {
    return error.getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
           error.getName() == "org.freedesktop.DBus.Error.NameHasNoOwner";
}

}  // namespace

PolkitAuthorizer::PolkitAuthorizer(sdbus::IConnection& connection)
    : bus_driver_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
      polkit_(sdbus::createProxy(connection, "org.freedesktop.PolicyKit1",
                                 "/org/freedesktop/PolicyKit1/Authority")) {
    bus_driver_->finishRegistration();
    polkit_->finishRegistration();
}

PolkitAuthorizer::~PolkitAuthorizer() = default;

void PolkitAuthorizer::check(const std::string& sender, bool allow_interaction,
                             const std::string& action, Verdict verdict) {
    bus_driver_->callMethodAsync("GetConnectionUnixUser")
        .onInterface("org.freedesktop.DBus")
        .withArguments(sender)
        .uponReplyInvoke([this, sender, allow_interaction, action, verdict = std::move(verdict)](
                             const sdbus::Error* error, uint32_t uid) {
            if (error != nullptr) {
                verdict(sdbus::Error(access_denied,
                                     "Cannot tell who " + sender + " is: " + error->getMessage()));
            } else if (uid == 0) {
                verdict(std::nullopt);  // root needs nobody's permission
            } else {
                ask_polkit(sender, uid, allow_interaction, action, verdict);
            }
        });
}

void PolkitAuthorizer::ask_polkit(const std::string& sender, uint32_t uid, bool allow_interaction,
                                  const std::string& action, Verdict verdict) {
    using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
    const Subject subject{"system-bus-name", {{"name", sdbus::Variant(sender)}}};
    const std::map<std::string, std::string> details;
    const uint32_t flags = allow_interaction ? allow_user_interaction : 0;
    polkit_->callMethodAsync("CheckAuthorization")
        .onInterface("org.freedesktop.PolicyKit1.Authority")
        .withTimeout(
            allow_interaction
                ? std::chrono::duration_cast<std::chrono::microseconds>(interactive_timeout)
                : std::chrono::duration_cast<std::chrono::microseconds>(plain_timeout))
        .withArguments(subject, action, details, flags, std::string())
        .uponReplyInvoke([uid, action, allow_interaction, verdict = std::move(verdict)](
                             const sdbus::Error* error,
                             sdbus::Struct<bool, bool, std::map<std::string, std::string>> result) {
            if (error != nullptr) {
                if (polkit_absent(*error)) {
                    verdict(sdbus::Error(access_denied,
                                         "polkit (org.freedesktop.PolicyKit1) is not running, so "
                                         "only root may use " +
                                             action));
                } else {
                    verdict(sdbus::Error(access_denied, "polkit could not check " + action + ": " +
                                                            error->getMessage()));
                }
                return;
            }
            const bool authorized = std::get<0>(result);
            const bool challenge = std::get<1>(result);
            if (authorized) {
                verdict(std::nullopt);
            } else if (challenge && !allow_interaction) {
                verdict(sdbus::Error(interaction_required,
                                     "Authentication is required for " + action +
                                         "; call again allowing interactive authorization"));
            } else {
                verdict(sdbus::Error(access_denied, "polkit does not allow uid " +
                                                        std::to_string(uid) + " " + action));
            }
        });
}

}  // namespace xconnect
