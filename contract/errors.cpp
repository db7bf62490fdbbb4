#include "errors.hpp"

namespace xconnect {

namespace {

bool matches(const ErrorRow& row, std::string_view name) {
    const std::string_view pattern = row.dbus_name;
    return pattern.ends_with('.') ? name.starts_with(pattern) : name == pattern;
}

}  // namespace

const char* dbus_error_name(ErrorKind kind) {
    for (const ErrorRow& row : error_table) {
        if (row.kind == kind) {
            return row.dbus_name;
        }
    }
    return error_name::failed;
}

CliExit exit_code_of_dbus_error(std::string_view name) {
    for (const ErrorRow& row : error_table) {
        if (matches(row, name)) {
            return row.exit_code;
        }
    }
    return exit_failure;
}

}  // namespace xconnect
