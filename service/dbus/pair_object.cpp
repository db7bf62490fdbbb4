#include "pair_object.hpp"

#include "authorized_call.hpp"
#include "capture/capture_hub.hpp"
#include "capture_arguments.hpp"
#include "common/log.hpp"
#include "contract/bus.hpp"
#include "contract/errors.hpp"
#include "contract/message_access.hpp"
#include "contract/object_path.hpp"
#include "control/pair_control.hpp"
#include "engine/engine.hpp"

namespace xconnect {

namespace {
constexpr const char* properties_interface = "org.freedesktop.DBus.Properties";
constexpr const char* object_manager_interface = "org.freedesktop.DBus.ObjectManager";
}  // namespace

PairObject::PairObject(sdbus::IConnection& connection, const PairSpec& spec, const Engine& engine,
                       PairControl& control, CaptureHub& captures, PolkitAuthorizer& authorizer,
                       const MessageSequence& messages)
    : AdaptorInterfaces(connection, pair_path(spec.left)),
      spec_(spec),
      engine_(engine),
      control_(control),
      captures_(captures),
      authorizer_(authorizer),
      messages_(messages),
      bus_(bus_of(getObject())) {
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
                                                              {field_left_mode, "LeftMode"},
                                                              {field_right_mode, "RightMode"},
                                                              {field_mode_reason, "ModeReason"},
                                                              {field_warning, "Warning"},
                                                              {field_drop_reason, "DropReason"},
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

void PairObject::Capture(sdbus::Result<sdbus::UnixFd>&& result,
                         std::map<std::string, sdbus::Variant> options) {
    // The options' types and ranges before polkit; the filter is compiled
    // only for those it allowed.
    CaptureOptions asked;
    try {
        asked = checked(capture_options_of(options), captures_.max_snaplen());
    } catch (const ContractError& error) {
        result.returnError(to_dbus_error(error));
        return;
    }
    authorized(getObject(), authorizer_, capture_action, "Capture " + spec_.label(),
               std::move(result),
               [&captures = captures_, spec = spec_, asked,
                alive = std::weak_ptr<const bool>(alive_)](const std::string& sender) {
                   if (alive.expired()) {
                       throw ContractError(ErrorKind::no_such_pair,
                                           "pair " + spec.label() +
                                               " was removed while the call awaited authorization");
                   }
                   UniqueFd stream = captures.start(spec.left, asked, sender);
                   return std::tuple{sdbus::UnixFd(stream.release(), sdbus::adopt_fd)};
               });
}

std::optional<uint64_t> PairObject::bulk_read() const {
    // Reads only: no state changes while one is answered (one thread).
    sd_bus_message* message = sd_bus_get_current_message(bus_);
    if (message == nullptr) {
        return std::nullopt;
    }
    const bool bulk =
        sd_bus_message_is_method_call(message, properties_interface, nullptr) > 0 ||
        sd_bus_message_is_method_call(message, object_manager_interface, "GetManagedObjects") > 0;
    return bulk ? std::optional(messages_.current()) : std::nullopt;
}

const PairStatus& PairObject::status() {
    return status_snapshot_.get(bulk_read(), [this] {
        if (auto status = engine_.find_pair(spec_.left)) {
            return *status;
        }
        throw sdbus::Error(error_name::no_such_pair, "pair " + spec_.label() + " is gone");
    });
}

const PairCounters& PairObject::counters() {
    return counters_snapshot_.get(bulk_read(), [this] {
        if (auto counters = engine_.counters(spec_.left)) {
            return *counters;
        }
        throw sdbus::Error(error_name::no_such_pair, "pair " + spec_.label() + " is gone");
    });
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
std::string PairObject::LeftMode() {
    const auto mode = status().left_mode;
    return mode ? std::string(to_string(*mode)) : std::string();
}
std::string PairObject::RightMode() {
    const auto mode = status().right_mode;
    return mode ? std::string(to_string(*mode)) : std::string();
}
std::string PairObject::ModeReason() {
    return status().mode_reason;
}
std::string PairObject::Error() {
    return status().error;
}
std::string PairObject::Warning() {
    return status().warning;
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
uint64_t PairObject::LeftToRightDropped() {
    return counters().left_to_right.dropped;
}
uint64_t PairObject::RightToLeftDropped() {
    return counters().right_to_left.dropped;
}
std::string PairObject::DropReason() {
    return status().drop_reason;
}

}  // namespace xconnect
