#include "unit_capabilities.hpp"

#include <linux/magic.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "netns.hpp"
#include "user_readable.hpp"

namespace xconnect::test {

std::vector<std::string> unit_capabilities() {
    const std::string unit = XCONNECT_SOURCE_DIR "/systemd/xconnectd.service.in";
    std::ifstream file(unit);
    const std::string key = "CapabilityBoundingSet=";
    for (std::string line; std::getline(file, line);) {
        if (!line.starts_with(key)) {
            continue;
        }
        std::istringstream words(line.substr(key.size()));
        std::vector<std::string> capabilities;
        for (std::string word; words >> word;) {
            if (!word.starts_with("CAP_")) {
                throw std::runtime_error(unit + ": cannot read capability " + word);
            }
            word = word.substr(4);
            std::transform(word.begin(), word.end(), word.begin(),
                           [](unsigned char c) { return std::tolower(c); });
            capabilities.push_back(word);
        }
        return capabilities;
    }
    throw std::runtime_error(unit + " has no " + key);
}

void ensure_bpffs_mounted() {
    struct statfs fs {};
    if (statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type == BPF_FS_MAGIC) {
        return;
    }
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
        throw std::runtime_error("cannot mount bpffs at /sys/fs/bpf");
    }
}

namespace {

std::optional<std::string>& chosen_daemon_user() {
    static std::optional<std::string> user = [] {
        const char* from_environment = std::getenv("XCONNECT_TEST_DAEMON_USER");
        return from_environment && *from_environment ? std::optional<std::string>(from_environment)
                                                     : std::nullopt;
    }();
    return user;
}

// One copy per test process, removed when it exits.
const UserReadableCopy& readable_daemon() {
    static const UserReadableCopy copy({XCONNECTD_PATH});
    return copy;
}

std::string capability_set() {
    std::string set;
    for (const std::string& capability : unit_capabilities()) {
        set += (set.empty() ? "+" : ",+") + capability;
    }
    return set;
}

}  // namespace

std::optional<std::string> daemon_user() {
    return chosen_daemon_user();
}

void set_daemon_user(std::optional<std::string> user) {
    chosen_daemon_user() = std::move(user);
}

DaemonUser::DaemonUser(const std::string& name) : name_(name) {
    if (::getpwnam(name.c_str()) == nullptr) {
        sh("systemd-sysusers " XCONNECT_SOURCE_DIR "/systemd/xconnect.sysusers");
        created_ = true;
    }
    // What the destructor undoes, for sweep_leftovers() should this process
    // be killed first: a later run would find /sys/fs/bpf/xconnect the user's.
    marker_ = std::filesystem::temp_directory_path() / ("xconnect-daemon-user-" + unique_suffix());
    std::ofstream(marker_) << name << (created_ ? " created\n" : " existing\n");
    const passwd* entry = ::getpwnam(name.c_str());
    if (entry == nullptr) {
        throw std::runtime_error("user " + name + " does not exist after systemd-sysusers");
    }
    uid_ = entry->pw_uid;
    gid_ = entry->pw_gid;
}

DaemonUser::~DaemonUser() {
    // unit-sandbox.sh gave the user /sys/fs/bpf/xconnect; a daemon run as
    // root with the unit's capabilities (no CAP_DAC_OVERRIDE) could not make
    // its namespace's directory there otherwise. Only the top: an installed
    // xconnectd's own directory stays its own.
    sh_status(created_ ? "chown -R root:root /sys/fs/bpf/xconnect"
                       : "chown root:root /sys/fs/bpf/xconnect");
    if (created_) {
        sh_status("userdel " + name_);
        sh_status("groupdel " + name_);
    }
    std::error_code ignored;
    std::filesystem::remove(marker_, ignored);
}

std::vector<std::string> xconnectd_as_the_unit_runs_it(const std::vector<std::string>& args) {
    std::vector<std::string> command;
    if (const auto user = daemon_user()) {
        command = {"/bin/sh", XCONNECT_SOURCE_DIR "/tests/support/unit-sandbox.sh", *user,
                   capability_set(), readable_daemon()["xconnectd"].string()};
    } else {
        const std::string set = "-all," + capability_set();
        command = {"/usr/bin/setpriv",      "--no-new-privs",        "--inh-caps=" + set,
                   "--ambient-caps=" + set, "--bounding-set=" + set, "--",
                   XCONNECTD_PATH};
    }
    command.insert(command.end(), args.begin(), args.end());
    return command;
}

}  // namespace xconnect::test
