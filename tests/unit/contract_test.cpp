#include <gtest/gtest.h>

#include "contract/errors.hpp"

namespace xconnect {
namespace {

TEST(Contract, EachKindHasItsDbusName) {
    EXPECT_STREQ(dbus_error_name(ErrorKind::invalid_name), "org.xconnect.Error.InvalidName");
    EXPECT_STREQ(dbus_error_name(ErrorKind::in_use), "org.xconnect.Error.InUse");
    EXPECT_STREQ(dbus_error_name(ErrorKind::no_such_pair), "org.xconnect.Error.NoSuchPair");
    EXPECT_STREQ(dbus_error_name(ErrorKind::invalid_config), "org.xconnect.Error.InvalidConfig");
    EXPECT_STREQ(dbus_error_name(ErrorKind::failed), "org.freedesktop.DBus.Error.Failed");
}

TEST(Contract, DbusErrorsMapToTheCliExitCodes) {
    const std::pair<const char*, int> expected[] = {
        {"org.xconnect.Error.InvalidName", 2},
        {"org.xconnect.Error.InUse", 2},
        {"org.freedesktop.DBus.Error.InvalidArgs", 2},
        {"org.xconnect.Error.NoSuchPair", 3},
        {"org.freedesktop.DBus.Error.AccessDenied", 4},
        {"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", 4},
        {"org.freedesktop.DBus.Error.ServiceUnknown", 5},
        {"org.freedesktop.DBus.Error.NameHasNoOwner", 5},
        {"org.freedesktop.DBus.Error.NoReply", 5},
        {"org.freedesktop.DBus.Error.Disconnected", 5},
        {"org.freedesktop.DBus.Error.Spawn.ChildExited", 5},
        {"org.xconnect.Error.InvalidConfig", 1},
        {"org.freedesktop.DBus.Error.Failed", 1},
        {"org.freedesktop.DBus.Error.LimitsExceeded", 1},
        {"org.example.Error.Unheard", 1},
        {"org.freedesktop.DBus.Error.Spawn", 1},  // the prefix matches only with its dot
    };
    for (const auto& [name, code] : expected) {
        EXPECT_EQ(exit_code_of_dbus_error(name), code) << name;
    }
}

}  // namespace
}  // namespace xconnect
