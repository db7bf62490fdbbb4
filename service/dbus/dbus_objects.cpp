#include "dbus_objects.hpp"

#include <memory>

#include "common/log.hpp"
#include "common/quote.hpp"
#include "contract/bus.hpp"
#include "contract/errors.hpp"
#include "contract/message_access.hpp"
#include "contract/object_path.hpp"
#include "contract/version.hpp"
#include "control/pair_control.hpp"
#include "engine/engine.hpp"
#include "polkit_authorizer.hpp"

namespace xconnect {

namespace {

struct Caller {
    std::string sender;
    bool allows_interaction = false;
};

Caller current_caller(const sdbus::IObject& object) {
    const sdbus::Message* message = object.getCurrentlyProcessedMessage();
    Caller caller{message->getSender(), false};
    caller.allows_interaction = allows_interactive_authorization(*message);
    return caller;
}

// sd-bus sends only valid UTF-8: a message that quotes a file's bytes (or a
// library's words about them) is made so here, whatever it holds.
sdbus::Error to_dbus_error(const ContractError& error) {
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

}  // namespace

ManagerObject::ManagerObject(sdbus::IConnection& connection, const Engine& engine,
                             PairControl& control, PolkitAuthorizer& authorizer)
    : AdaptorInterfaces(connection, manager_path),
      engine_(engine),
      control_(control),
      authorizer_(authorizer),
      long_name_filter_(std::make_unique<LongNameFilter>(getObject())) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() {
    unregisterAdaptor();
}

void ManagerObject::AddPair(sdbus::Result<sdbus::ObjectPath>&& result, std::string left,
                            std::string right) {
    // Arguments first, polkit second, the change last.
    try {
        if (auto existing = control_.validate(PairChange::add(left, right))) {
            result.returnResults(pair_path(existing->left));
            return;
        }
    } catch (const ContractError& error) {
        result.returnError(to_dbus_error(error));
        return;
    }
    authorized(getObject(), authorizer_, manage_pairs_action, "AddPair " + left + " " + right,
               std::move(result), [this, left, right](const std::string& sender) {
                   const PairSpec pair = control_.apply(PairChange::add(left, right));
                   log::info(pair.label(), ": added over D-Bus by ", sender);
                   return std::tuple{sdbus::ObjectPath(pair_path(pair.left))};
               });
}

void ManagerObject::RemovePair(sdbus::Result<>&& result, std::string ifname) {
    try {
        control_.validate(PairChange::remove(ifname));
    } catch (const ContractError& error) {
        result.returnError(to_dbus_error(error));
        return;
    }
    authorized(getObject(), authorizer_, manage_pairs_action, "RemovePair " + ifname,
               std::move(result), [this, ifname](const std::string& sender) {
                   const PairSpec pair = control_.apply(PairChange::remove(ifname));
                   log::info(pair.label(), ": removed over D-Bus by ", sender);
                   return std::tuple{};
               });
}

sdbus::ObjectPath ManagerObject::GetPair(const std::string& ifname) {
    try {
        return sdbus::ObjectPath(pair_path(control_.pair_holding(ifname).left));
    } catch (const ContractError& error) {
        throw to_dbus_error(error);
    }
}

std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>>
ManagerObject::ListPairs() {
    std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>> list;
    for (const PairStatus& pair : engine_.pairs()) {  // sorted by left
        list.emplace_back(pair.spec.left, pair.spec.right, std::string(to_string(pair.state)),
                          sdbus::ObjectPath(pair_path(pair.spec.left)));
    }
    return list;
}

void ManagerObject::Reload(sdbus::Result<>&& result) {
    authorized(getObject(), authorizer_, reload_action, "Reload", std::move(result),
               [this](const std::string& sender) {
                   log::info("D-Bus: Reload by ", sender);
                   control_.reload(ReloadCause::dbus);
                   return std::tuple{};
               });
}

std::string ManagerObject::Version() {
    return version;
}

std::string ManagerObject::ConfigFile() {
    return control_.config_file().string();
}

PairObject::PairObject(sdbus::IConnection& connection, const PairSpec& spec, const Engine& engine,
                       PairControl& control, PolkitAuthorizer& authorizer)
    : AdaptorInterfaces(connection, pair_path(spec.left)),
      spec_(spec),
      engine_(engine),
      control_(control),
      authorizer_(authorizer) {
    registerAdaptor();
}

PairObject::~PairObject() {
    unregisterAdaptor();
}

std::vector<std::string> PairObject::signalled_properties(unsigned changed_fields) {
    static const std::pair<PairField, const char*> names[] = {{field_left_ifindex, "LeftIfindex"},
                                                              {field_right_ifindex, "RightIfindex"},
                                                              {field_state, "State"},
                                                              {field_mode, "Mode"},
                                                              {field_error, "Error"},
                                                              {field_left_oper, "LeftOperState"},
                                                              {field_right_oper, "RightOperState"}};
    std::vector<std::string> properties;
    for (const auto& [field, name] : names) {
        if (changed_fields & field) {
            properties.emplace_back(name);
        }
    }
    return properties;
}

void PairObject::Remove(sdbus::Result<>&& result) {
    // polkit may answer after the pair is gone (removed by someone else, or
    // removed and added again): then there is nothing left to remove.
    authorized(getObject(), authorizer_, manage_pairs_action, "Remove " + spec_.label(),
               std::move(result),
               [&control = control_, spec = spec_,
                alive = std::weak_ptr<const bool>(alive_)](const std::string& sender) {
                   if (alive.expired()) {
                       throw ContractError(ErrorKind::no_such_pair,
                                           "pair " + spec.label() +
                                               " was removed while the call awaited authorization");
                   }
                   const PairSpec pair = control.remove_pair(spec.left);
                   log::info(pair.label(), ": removed over D-Bus by ", sender);
                   return std::tuple{};
               });
}

PairStatus PairObject::status() const {
    if (auto status = engine_.find_pair(spec_.left)) {
        return *status;
    }
    throw sdbus::Error(error_name::no_such_pair, "pair " + spec_.label() + " is gone");
}

PairCounters PairObject::counters() const {
    if (auto counters = engine_.counters(spec_.left)) {
        return *counters;
    }
    throw sdbus::Error(error_name::no_such_pair, "pair " + spec_.label() + " is gone");
}

std::string PairObject::Left() {
    return spec_.left;
}
std::string PairObject::Right() {
    return spec_.right;
}
uint32_t PairObject::LeftIfindex() {
    return status().left_ifindex;
}
uint32_t PairObject::RightIfindex() {
    return status().right_ifindex;
}
std::string PairObject::State() {
    return std::string(to_string(status().state));
}
std::string PairObject::Mode() {
    const auto mode = status().mode;
    return mode ? std::string(to_string(*mode)) : std::string();
}
std::string PairObject::Error() {
    return status().error;
}
std::string PairObject::LeftOperState() {
    const auto oper = status().left_oper;
    return oper ? std::string(to_string(*oper)) : std::string();
}
std::string PairObject::RightOperState() {
    const auto oper = status().right_oper;
    return oper ? std::string(to_string(*oper)) : std::string();
}
uint64_t PairObject::LeftToRightPackets() {
    return counters().left_to_right.packets;
}
uint64_t PairObject::LeftToRightBytes() {
    return counters().left_to_right.bytes;
}
uint64_t PairObject::RightToLeftPackets() {
    return counters().right_to_left.packets;
}
uint64_t PairObject::RightToLeftBytes() {
    return counters().right_to_left.bytes;
}

}  // namespace xconnect
