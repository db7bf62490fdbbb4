#pragma once

// xconnectd as the shipped systemd unit runs it: with exactly the
// capabilities of its CapabilityBoundingSet=, read from the unit file, so a
// test fails when the daemon needs a capability the unit does not grant; as
// uid 0, or as the unit's User= (xconnect) where XCONNECT_TEST_DAEMON_USER
// says so or a test asks for it.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xconnect::test {

// The unit's capabilities in setpriv's spelling: {"bpf", "net_admin", "perfmon"}.
std::vector<std::string> unit_capabilities();

// bpffs at /sys/fs/bpf, mounted if absent, as systemd has it on every boot:
// the daemon pins its program there and, confined to the unit's
// capabilities, cannot mount it itself.
void ensure_bpffs_mounted();

// The user the daemon runs as: nullopt for uid 0; else the unit's User=,
// from XCONNECT_TEST_DAEMON_USER (the D-Bus suite's second ctest pass) or
// set by a test (the faults only an unprivileged daemon meets).
std::optional<std::string> daemon_user();
void set_daemon_user(std::optional<std::string> user);

// The daemon's user for as long as it lives: created from the shipped
// sysusers.d file where it does not exist (and removed again), else left as
// it is; /sys/fs/bpf/xconnect is given back to root either way.
class DaemonUser {
  public:
    explicit DaemonUser(const std::string& name);
    ~DaemonUser();
    DaemonUser(const DaemonUser&) = delete;
    DaemonUser& operator=(const DaemonUser&) = delete;

    const std::string& name() const { return name_; }
    uid_t uid() const { return uid_; }
    gid_t gid() const { return gid_; }

  private:
    std::string name_;
    bool created_ = false;
    std::filesystem::path marker_;  // in the temporary directory, with this run's pid
    uid_t uid_ = 0;
    gid_t gid_ = 0;
};

// A command line (program first) that runs the built xconnectd with `args`
// under exactly those capabilities, as daemon_user() if set: then a copy of
// the binary any user may run (the build tree may be under /root), through
// unit-sandbox.sh (what the unit does before it starts the daemon).
std::vector<std::string> xconnectd_as_the_unit_runs_it(const std::vector<std::string>& args);

}  // namespace xconnect::test
