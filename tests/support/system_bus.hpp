#pragma once

// A private system bus for D-Bus tests: dbus-daemon with the project's bus
// policy and an activation file for the freshly built xconnectd, polkitd on
// that bus with the project's actions and a rules file of the test's, and
// unprivileged users. Everything is undone by the destructors.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "netns.hpp"

namespace xconnect::test {

class SystemBus {
  public:
    // Starts dbus-daemon in `netns` (so what it activates runs there) and
    // points DBUS_SYSTEM_BUS_ADDRESS of this process at it. xconnectd is
    // activated as `xconnectd_args`.
    SystemBus(const Netns& netns, const std::vector<std::string>& xconnectd_args);
    ~SystemBus();
    SystemBus(const SystemBus&) = delete;
    SystemBus& operator=(const SystemBus&) = delete;

    // dbus-daemon's output, with what activated services print (the first
    // dbus-daemon's: what it activated keeps writing there after a restart).
    ChildProcess& log() { return *daemon_; }

    // Kills dbus-daemon and starts a new one on the same socket and
    // configuration; what the old one activated keeps running.
    void restart();
    std::string address() const { return "unix:path=" + (directory_ / "socket").string(); }

    // The pid of the connection that owns `name`, 0 if none does.
    pid_t owner_pid(const std::string& name) const;
    // SIGTERM to xconnectd if it runs, then waits until it has exited.
    void stop_xconnectd();

  private:
    std::unique_ptr<ChildProcess> start_dbus_daemon() const;
    void stop_everything_activated();

    std::filesystem::path directory_;
    const Netns& netns_;
    std::unique_ptr<ChildProcess> daemon_;
    std::unique_ptr<ChildProcess> restarted_;  // after restart()
};

// polkitd on the bus of this process, with the project's action file
// installed and a rules file granting every action to members of `group`;
// `earlier_rules` (JavaScript, e.g. a polkit.addRule that stalls) goes before
// that grant in the same file.
class Polkitd {
  public:
    explicit Polkitd(const std::string& group, const std::string& earlier_rules = "");
    ~Polkitd();
    Polkitd(const Polkitd&) = delete;
    Polkitd& operator=(const Polkitd&) = delete;

  private:
    std::filesystem::path installed_action_marker() const;

    std::string marker_suffix_;
    std::filesystem::path rules_;
    std::filesystem::path installed_action_;  // empty if it was there already
    std::unique_ptr<ChildProcess> daemon_;
};

// A system user (no home, no login), in `group` if given (created if needed).
class TestUser {
  public:
    TestUser(const std::string& name, const std::string& group);
    ~TestUser();
    TestUser(const TestUser&) = delete;
    TestUser& operator=(const TestUser&) = delete;

    const std::string& name() const { return name_; }
    // A command prefix that runs what follows as this user.
    std::string run_as() const;
    // The same as setpriv's arguments, for ChildProcess("/usr/bin/setpriv", ...).
    std::vector<std::string> setpriv_args() const;

  private:
    std::string name_;
    std::string group_;
    bool created_group_ = false;
};

}  // namespace xconnect::test
