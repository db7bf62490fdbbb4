#pragma once

// The error kinds of the contract: control throws them, the D-Bus front end
// answers with their names, and xconnectctl exits with their codes. One table
// (error_table) maps each to the other, together with the bus's and polkit's
// own errors the CLI sees.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xconnect {

enum class ErrorKind {
    invalid_name,
    in_use,
    no_such_pair,
    invalid_config,
    failed,
    invalid_args,     // a method's argument is wrong (Pair.Capture's options)
    limits_exceeded,  // a bound is reached (captures running at once)
};

class ContractError : public std::runtime_error {
  public:
    ContractError(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

  private:
    ErrorKind kind_;
};

// xconnectctl's exit codes, distinct per kind of failure (documented in its --help).
enum CliExit : int {
    exit_ok = 0,
    exit_failure = 1,
    exit_invalid_argument = 2,
    exit_no_such_pair = 3,
    exit_not_authorized = 4,
    exit_unreachable = 5,
};

namespace error_name {
inline constexpr const char* invalid_name = "org.xconnect.Error.InvalidName";
inline constexpr const char* in_use = "org.xconnect.Error.InUse";
inline constexpr const char* no_such_pair = "org.xconnect.Error.NoSuchPair";
inline constexpr const char* invalid_config = "org.xconnect.Error.InvalidConfig";
inline constexpr const char* failed = "org.freedesktop.DBus.Error.Failed";
inline constexpr const char* invalid_args = "org.freedesktop.DBus.Error.InvalidArgs";
inline constexpr const char* access_denied = "org.freedesktop.DBus.Error.AccessDenied";
inline constexpr const char* interaction_required =
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired";
inline constexpr const char* limits_exceeded = "org.freedesktop.DBus.Error.LimitsExceeded";
inline constexpr const char* service_unknown = "org.freedesktop.DBus.Error.ServiceUnknown";
inline constexpr const char* name_has_no_owner = "org.freedesktop.DBus.Error.NameHasNoOwner";
inline constexpr const char* no_reply = "org.freedesktop.DBus.Error.NoReply";
inline constexpr const char* disconnected = "org.freedesktop.DBus.Error.Disconnected";
// A prefix: every org.freedesktop.DBus.Error.Spawn.* (activation failed).
inline constexpr const char* spawn_prefix = "org.freedesktop.DBus.Error.Spawn.";
}  // namespace error_name

struct ErrorRow {
    std::optional<ErrorKind> kind;  // nullopt: an error of the bus or of polkit
    const char* dbus_name;          // ending in '.': every name it begins
    CliExit exit_code;
};

inline constexpr ErrorRow error_table[] = {
    {ErrorKind::invalid_name, error_name::invalid_name, exit_invalid_argument},
    {ErrorKind::in_use, error_name::in_use, exit_invalid_argument},
    {ErrorKind::no_such_pair, error_name::no_such_pair, exit_no_such_pair},
    {ErrorKind::invalid_config, error_name::invalid_config, exit_failure},
    {ErrorKind::failed, error_name::failed, exit_failure},
    {ErrorKind::invalid_args, error_name::invalid_args, exit_invalid_argument},
    {std::nullopt, error_name::access_denied, exit_not_authorized},
    {std::nullopt, error_name::interaction_required, exit_not_authorized},
    {ErrorKind::limits_exceeded, error_name::limits_exceeded, exit_failure},
    {std::nullopt, error_name::service_unknown, exit_unreachable},
    {std::nullopt, error_name::name_has_no_owner, exit_unreachable},
    {std::nullopt, error_name::no_reply, exit_unreachable},
    {std::nullopt, error_name::disconnected, exit_unreachable},
    {std::nullopt, error_name::spawn_prefix, exit_unreachable},
};

// The D-Bus error name `kind` is answered with.
const char* dbus_error_name(ErrorKind kind);

// The exit code of xconnectctl for a D-Bus error: exit_failure for a name
// the table does not hold.
CliExit exit_code_of_dbus_error(std::string_view name);

}  // namespace xconnect
