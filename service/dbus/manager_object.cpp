#include "manager_object.hpp"

#include "authorized_call.hpp"
#include "common/log.hpp"
#include "contract/bus.hpp"
#include "contract/errors.hpp"
#include "contract/object_path.hpp"
#include "contract/version.hpp"
#include "control/pair_control.hpp"
#include "engine/engine.hpp"

namespace xconnect {

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

void ManagerObject::GetPermissions(sdbus::Result<std::map<std::string, std::string>>&& result) {
    // Every action asked at once; the reply goes out when the last verdict is in.
    struct Answers {
        sdbus::Result<std::map<std::string, std::string>> result;
        std::map<std::string, std::string> permissions;
        std::optional<sdbus::Error> failure;  // a limit hit: no verdict about the caller
        size_t waiting = 0;
    };
    static constexpr const char* actions[] = {manage_pairs_action, reload_action, capture_action};
    auto answers =
        std::make_shared<Answers>(Answers{std::move(result), {}, {}, std::size(actions)});
    const std::string sender = current_caller(getObject()).sender;
    for (const char* action : actions) {
        authorizer_.check(sender, /*allow_interaction=*/false, action,
                          [answers, action](std::optional<sdbus::Error> refusal) {
                              if (!refusal) {
                                  answers->permissions[action] = "yes";
                              } else if (refusal->getName() == error_name::interaction_required) {
                                  answers->permissions[action] = "auth";
                              } else if (refusal->getName() == error_name::limits_exceeded) {
                                  answers->failure = std::move(refusal);
                              } else {
                                  answers->permissions[action] = "no";
                              }
                              if (--answers->waiting > 0) {
                                  return;
                              }
                              if (answers->failure) {
                                  answers->result.returnError(*answers->failure);
                              } else {
                                  answers->result.returnResults(answers->permissions);
                              }
                          });
    }
}

std::vector<sdbus::Struct<std::string, uint32_t, std::string, std::string>>
ManagerObject::ListInterfaces() {
    std::vector<sdbus::Struct<std::string, uint32_t, std::string, std::string>> list;
    for (const LinkInfo& link : engine_.links()) {  // sorted by name
        // The kernel allows names no pair can hold (and D-Bus cannot carry,
        // if not UTF-8): a picker has no use for them.
        if (invalid_interface_name_reason(link.name)) {
            continue;
        }
        list.emplace_back(link.name, link.ifindex, std::string(to_string(link.oper_state)),
                          link.kind);
    }
    return list;
}

std::vector<sdbus::Struct<sdbus::ObjectPath, uint64_t, uint64_t, uint64_t, uint64_t>>
ManagerObject::GetAllCounters() {
    std::vector<sdbus::Struct<sdbus::ObjectPath, uint64_t, uint64_t, uint64_t, uint64_t>> list;
    for (const auto& [spec, counters] : engine_.all_counters()) {  // sorted by left
        list.emplace_back(sdbus::ObjectPath(pair_path(spec.left)), counters.left_to_right.packets,
                          counters.left_to_right.bytes, counters.right_to_left.packets,
                          counters.right_to_left.bytes);
    }
    return list;
}

std::map<sdbus::ObjectPath, std::map<std::string, uint64_t>> ManagerObject::GetAllStatistics() {
    std::map<sdbus::ObjectPath, std::map<std::string, uint64_t>> statistics;
    for (const auto& [spec, counters] : engine_.all_counters()) {
        // The Pair properties' names: a client reads them as it would read those.
        statistics[sdbus::ObjectPath(pair_path(spec.left))] = {
            {"LeftToRightPackets", counters.left_to_right.packets},
            {"LeftToRightBytes", counters.left_to_right.bytes},
            {"LeftToRightDropped", counters.left_to_right.dropped},
            {"RightToLeftPackets", counters.right_to_left.packets},
            {"RightToLeftBytes", counters.right_to_left.bytes},
            {"RightToLeftDropped", counters.right_to_left.dropped},
        };
    }
    return statistics;
}

std::string ManagerObject::Version() {
    return version;
}

std::string ManagerObject::ConfigFile() {
    return control_.config_file().string();
}

}  // namespace xconnect
