#pragma once

// The D-Bus tests' fixture, shared by the tests of the service and of
// xconnectctl: the demo topology, a private system bus that activates the
// built xconnectd in the host namespace, polkitd on demand, a user in the
// group polkit grants and one outside it.

#include <gtest/gtest.h>
#include <net/if.h>

#include <fstream>
#include <sstream>

#include "daemon_fixture.hpp"
#include "system_bus.hpp"

namespace xconnect::test {

inline constexpr const char* manager = "org.xconnect /org/xconnect org.xconnect.Manager ";

inline std::string read_file(const fs::path& file) {
    std::ifstream stream(file);
    std::ostringstream text;
    text << stream.rdbuf();
    return text.str();
}

using Outcome = CommandResult;

inline Outcome run(const std::string& command) {
    return capture(command);
}

class BusTest : public DaemonTest {
  protected:
    void SetUp() override {
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        group_ = "xct" + unique_suffix();
        bus_ = std::make_unique<SystemBus>(*host_,
                                           std::vector<std::string>{"--config", config_.string()});
        member_ = std::make_unique<TestUser>("xcti" + unique_suffix(), group_);
        outsider_ = std::make_unique<TestUser>("xcto" + unique_suffix(), "");
    }
    void TearDown() override {
        if (HasFailure() && bus_) {
            std::cerr << "bus log (dbus-daemon and what it activated):\n" << bus_->log().log_text();
        }
        gui_.reset();
        bus_.reset();  // stops xconnectd
        polkit_.reset();
        member_.reset();
        outsider_.reset();
        DaemonTest::TearDown();
    }
    void start_polkit() { polkit_ = std::make_unique<Polkitd>(group_); }

    std::string busctl(const std::string& args, const TestUser* as = nullptr) {
        return sh((as ? as->run_as() : "") + "busctl " + args);
    }
    // gdbus names the D-Bus error of a failed call: "GDBus.Error:NAME: message".
    Outcome gdbus(const std::string& method_and_args, const TestUser* as = nullptr,
                  const std::string& path = "/org/xconnect") {
        return run((as ? as->run_as() : "") + "gdbus call --system --dest org.xconnect " +
                   "--object-path " + path + " --method " + method_and_args);
    }
    std::string property(const std::string& path, const std::string& name) {
        return sh("busctl get-property org.xconnect " + path + " org.xconnect.Pair " + name);
    }
    uint64_t counter(const std::string& path, const std::string& name) {
        const std::string value = property(path, name);  // "t 12"
        return std::stoull(value.substr(2));
    }
    uint32_t host_ifindex(const std::string& ifname) {
        NetnsScope inside(*host_);
        return if_nametoindex(ifname.c_str());
    }
    void expect_error(const Outcome& outcome, const std::string& name) {
        EXPECT_NE(outcome.status, 0) << outcome.output;
        EXPECT_NE(outcome.output.find("GDBus.Error:" + name + ":"), std::string::npos)
            << "expected " << name << ", got: " << outcome.output;
    }

    std::string group_;
    std::unique_ptr<SystemBus> bus_;
    std::unique_ptr<Polkitd> polkit_;
    std::unique_ptr<TestUser> member_;
    std::unique_ptr<TestUser> outsider_;
    std::unique_ptr<ChildProcess> gui_;
};

}  // namespace xconnect::test
