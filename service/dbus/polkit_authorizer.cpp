#include "polkit_authorizer.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <chrono>
#include <map>
#include <utility>

#include "common/log.hpp"
#include "contract/bus.hpp"
#include "contract/errors.hpp"

namespace xconnect {

namespace {

using error_name::access_denied;
using error_name::interaction_required;
using error_name::limits_exceeded;
constexpr uint32_t allow_user_interaction = 1;  // CheckAuthorizationFlags
constexpr std::chrono::seconds plain_timeout{25};

bool polkit_absent(const sdbus::Error& error) {
    return error.getName() == error_name::service_unknown ||
           error.getName() == error_name::name_has_no_owner;
}

// A limit of the bus is no verdict about the caller: say so, never AccessDenied.
std::optional<sdbus::Error> bus_limit(const sdbus::Error& error, const std::string& what) {
    if (error.getName() != limits_exceeded) {
        return std::nullopt;
    }
    return sdbus::Error(limits_exceeded, "the bus refused xconnectd's " + what +
                                             " (try again): " + error.getMessage());
}

sdbus::Error too_many_waiting(const std::string& what, const BoundedRunner& calls) {
    return sdbus::Error(limits_exceeded, "xconnectd has " + std::to_string(calls.waiting()) +
                                             " authorisation checks waiting for " + what +
                                             " already; try again later");
}

}  // namespace

PolkitAuthorizer::PolkitAuthorizer(sdbus::IConnection& connection)
    : bus_driver_calls_(max_round_trips, max_waiting_checks),
      polkit_calls_(max_round_trips, max_waiting_checks),
      bus_driver_(sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus")),
      polkit_(sdbus::createProxy(connection, "org.freedesktop.PolicyKit1",
                                 "/org/freedesktop/PolicyKit1/Authority")) {
    bus_driver_->finishRegistration();
    polkit_->finishRegistration();
}

PolkitAuthorizer::~PolkitAuthorizer() = default;

void PolkitAuthorizer::check(const std::string& sender, bool allow_interaction,
                             const std::string& action, Verdict verdict) {
    auto job = [this, sender, allow_interaction, action,
                verdict](const BoundedRunner::Finished& finished) {
        try {
            bus_driver_->callMethodAsync("GetConnectionUnixUser")
                .onInterface("org.freedesktop.DBus")
                .withArguments(sender)
                .uponReplyInvoke([this, sender, allow_interaction, action, verdict, finished](
                                     const sdbus::Error* error, uint32_t uid) {
                    finished();
                    if (error != nullptr) {
                        verdict(bus_limit(*error, "question who " + sender + " is")
                                    .value_or(sdbus::Error(access_denied,
                                                           "Cannot tell who " + sender +
                                                               " is: " + error->getMessage())));
                    } else if (uid == 0) {
                        verdict(std::nullopt);  // root needs nobody's permission
                    } else {
                        ask_polkit(sender, uid, allow_interaction, action, verdict);
                    }
                });
        } catch (const sdbus::Error& error) {
            finished();
            verdict(sdbus::Error(
                access_denied, "Cannot ask the bus who " + sender + " is: " + error.getMessage()));
        }
    };
    if (!bus_driver_calls_.submit(std::move(job))) {
        verdict(too_many_waiting("the bus", bus_driver_calls_));
    }
}

void PolkitAuthorizer::ask_polkit(const std::string& sender, uint32_t uid, bool allow_interaction,
                                  const std::string& action, Verdict verdict) {
    auto job = [this, sender, uid, allow_interaction, action,
                verdict](const BoundedRunner::Finished& finished) {
        using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
        const Subject subject{"system-bus-name", {{"name", sdbus::Variant(sender)}}};
        const std::map<std::string, std::string> details;
        const uint32_t flags = allow_interaction ? allow_user_interaction : 0;
        try {
            polkit_->callMethodAsync("CheckAuthorization")
                .onInterface("org.freedesktop.PolicyKit1.Authority")
                .withTimeout(
                    allow_interaction
                        ? std::chrono::duration_cast<std::chrono::microseconds>(
                              interactive_authorization_timeout)
                        : std::chrono::duration_cast<std::chrono::microseconds>(plain_timeout))
                .withArguments(subject, action, details, flags, std::string())
                .uponReplyInvoke(
                    [this, sender, uid, action, allow_interaction, verdict, finished](
                        const sdbus::Error* error,
                        sdbus::Struct<bool, bool, std::map<std::string, std::string>> result) {
                        finished();
                        if (error != nullptr) {
                            if (polkit_absent(*error)) {
                                verdict(sdbus::Error(access_denied,
                                                     "polkit (org.freedesktop.PolicyKit1) is not "
                                                     "running, so only root may use " +
                                                         action));
                            } else {
                                verdict(bus_limit(*error, "question to polkit about " + action)
                                            .value_or(sdbus::Error(
                                                access_denied, "polkit could not check " + action +
                                                                   ": " + error->getMessage())));
                            }
                            return;
                        }
                        const bool authorized = std::get<0>(result);
                        const bool challenge = std::get<1>(result);
                        if (authorized) {
                            confirm_still_connected(sender, action, verdict);
                        } else if (challenge && !allow_interaction) {
                            verdict(sdbus::Error(interaction_required,
                                                 "Authentication is required for " + action +
                                                     "; call again allowing interactive "
                                                     "authorization"));
                        } else {
                            verdict(sdbus::Error(
                                access_denied,
                                "polkit does not allow uid " + std::to_string(uid) + " " + action));
                        }
                    });
        } catch (const sdbus::Error& error) {
            finished();
            verdict(sdbus::Error(access_denied,
                                 "Cannot ask polkit about " + action + ": " + error.getMessage()));
        }
    };
    if (!polkit_calls_.submit(std::move(job))) {
        verdict(too_many_waiting("polkit", polkit_calls_));
    }
}

// polkit may answer long after the call (an agent asking for a password, a
// slow rule). A caller that has left by then must not change anything: its
// unique name is never given to anyone else, so "no owner" is final. What
// happens after this answer is as if the caller had left after the reply.
void PolkitAuthorizer::confirm_still_connected(const std::string& sender, const std::string& action,
                                               Verdict verdict) {
    auto job = [this, sender, action, verdict](const BoundedRunner::Finished& finished) {
        try {
            bus_driver_->callMethodAsync("NameHasOwner")
                .onInterface("org.freedesktop.DBus")
                .withArguments(sender)
                .uponReplyInvoke([sender, action, verdict, finished](const sdbus::Error* error,
                                                                     bool connected) {
                    finished();
                    if (error != nullptr) {
                        verdict(bus_limit(*error, "question whether " + sender + " is connected")
                                    .value_or(sdbus::Error(
                                        access_denied,
                                        "Cannot tell whether " + sender +
                                            " is still connected: " + error->getMessage())));
                    } else if (!connected) {
                        verdict(sdbus::Error(access_denied,
                                             sender + " left the bus before polkit allowed " +
                                                 action + "; nothing done"));
                    } else {
                        verdict(std::nullopt);
                    }
                });
        } catch (const sdbus::Error& error) {
            finished();
            verdict(sdbus::Error(access_denied, "Cannot ask the bus whether " + sender +
                                                    " is still connected: " + error.getMessage()));
        }
    };
    if (!bus_driver_calls_.submit(std::move(job))) {
        verdict(too_many_waiting("the bus", bus_driver_calls_));
    }
}

}  // namespace xconnect
