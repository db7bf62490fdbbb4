#pragma once

// What the manager and the pair objects share: who is calling, the contract's
// error for a ContractError, and running a change once polkit said yes.

#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "common/log.hpp"
#include "common/quote.hpp"
#include "contract/errors.hpp"
#include "contract/message_access.hpp"
#include "polkit_authorizer.hpp"

namespace xconnect {

struct Caller {
    std::string sender;
    bool allows_interaction = false;
};

inline Caller current_caller(const sdbus::IObject& object) {
    const sdbus::Message* message = object.getCurrentlyProcessedMessage();
    Caller caller{message->getSender(), false};
    caller.allows_interaction = allows_interactive_authorization(*message);
    return caller;
}

// sd-bus sends only valid UTF-8: a message that quotes a file's bytes (or a
// library's words about them) is made so here, whatever it holds.
inline sdbus::Error to_dbus_error(const ContractError& error) {
    return sdbus::Error(dbus_error_name(error.kind()), valid_utf8(error.what()));
}

// Runs `change` once polkit allows `action` for the current caller, and
// answers the call with what it returns (or the error it throws).
template <typename... Results, typename Change>
void authorized(const sdbus::IObject& object, PolkitAuthorizer& authorizer, const char* action,
                const std::string& what, sdbus::Result<Results...>&& result, Change change) {
    const Caller caller = current_caller(object);
    auto pending = std::make_shared<sdbus::Result<Results...>>(std::move(result));
    authorizer.check(
        caller.sender, caller.allows_interaction, action,
        [pending, change = std::move(change), sender = caller.sender,
         what](std::optional<sdbus::Error> refusal) mutable {
            if (refusal) {
                log::notice("D-Bus: ", what, " by ", sender, " refused: ", refusal->getMessage());
                pending->returnError(*refusal);
                return;
            }
            try {
                std::apply([&](auto&&... values) { pending->returnResults(values...); },
                           change(sender));
            } catch (const ContractError& error) {
                pending->returnError(to_dbus_error(error));
            } catch (const std::exception& error) {
                pending->returnError(sdbus::Error(error_name::failed, valid_utf8(error.what())));
            }
        });
}

}  // namespace xconnect
