#include "leftovers.hpp"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include "netns.hpp"

namespace xconnect::test {

namespace fs = std::filesystem;

namespace {

// The pid in "<prefix><pid>x<n>..." if `name` has that shape.
std::optional<pid_t> marker_pid(const std::string& name, const std::regex& shape) {
    std::smatch match;
    if (!std::regex_match(name, match, shape)) {
        return std::nullopt;
    }
    return static_cast<pid_t>(std::stol(match[1]));
}

bool gone(pid_t pid) {
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

template <typename Remove>
void sweep_names(const std::string& listing, const std::regex& shape, Remove remove) {
    std::istringstream names(listing);
    for (std::string name; names >> name;) {
        if (const auto pid = marker_pid(name, shape); pid && gone(*pid)) {
            std::cerr << "sweeping what a killed test run left: " << name << "\n";
            remove(name);
        }
    }
}

void sweep_directory(const fs::path& directory, const std::regex& shape) {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(directory, ignored)) {
        const std::string name = entry.path().filename().string();
        if (const auto pid = marker_pid(name, shape); pid && gone(*pid)) {
            std::cerr << "sweeping what a killed test run left: " << entry.path() << "\n";
            fs::remove_all(entry.path(), ignored);
        }
    }
}

// Processes (xconnectd, dbus-daemon) started with a dead run's config file
// or bus directory.
void sweep_processes() {
    const std::regex started_for(".*/xconnect-(?:test|bus)-([0-9]+)x[0-9]+/.*");
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator("/proc", ignored)) {
        std::ifstream file(entry.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(file)), {});
        if (cmdline.find("/xconnect-") == std::string::npos) {
            continue;
        }
        std::istringstream words(cmdline);
        for (std::string word; std::getline(words, word, '\0');) {
            if (const auto pid = marker_pid(word, started_for); pid && gone(*pid)) {
                std::cerr << "sweeping what a killed test run left: process "
                          << entry.path().filename().string() << "\n";
                ::kill(static_cast<pid_t>(std::stol(entry.path().filename().string())), SIGTERM);
                break;
            }
        }
    }
}

}  // namespace

void sweep_leftovers_once() {
    static bool swept = false;
    if (!swept) {
        swept = true;
        sweep_leftovers();
    }
}

void sweep_leftovers() {
    sweep_processes();
    sweep_names(capture("ip netns list | cut -d' ' -f1").output,
                std::regex("xct-([0-9]+)x[0-9]+-.*"),
                [](const std::string& name) { sh_status("ip netns del " + name); });
    sweep_names(capture("getent passwd | cut -d: -f1").output, std::regex("xct[io]([0-9]+)x[0-9]+"),
                [](const std::string& name) { sh_status("userdel " + name); });
    sweep_names(capture("getent group | cut -d: -f1").output, std::regex("xct([0-9]+)x[0-9]+"),
                [](const std::string& name) { sh_status("groupdel " + name); });
    sweep_directory("/etc/polkit-1/rules.d",
                    std::regex("49-xconnect-test-([0-9]+)x[0-9]+\\.rules"));
    // The action file, only with the marker of the run that installed it.
    const std::regex action_marker("\\.org\\.xconnect\\.policy\\.test-([0-9]+)x[0-9]+");
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator("/usr/share/polkit-1/actions", ignored)) {
        const std::string name = entry.path().filename().string();
        if (const auto pid = marker_pid(name, action_marker); pid && gone(*pid)) {
            std::cerr << "sweeping what a killed test run left: org.xconnect.policy\n";
            fs::remove(entry.path().parent_path() / "org.xconnect.policy", ignored);
            fs::remove(entry.path(), ignored);
        }
    }
    // A killed run's daemon user ("NAME created" or "NAME existing"): give
    // /sys/fs/bpf/xconnect back to root, as DaemonUser's destructor does.
    const std::regex daemon_user_marker("xconnect-daemon-user-([0-9]+)x[0-9]+");
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ignored)) {
        const std::string name = entry.path().filename().string();
        if (const auto pid = marker_pid(name, daemon_user_marker); pid && gone(*pid)) {
            std::string user;
            std::string how;
            std::ifstream(entry.path()) >> user >> how;
            std::cerr << "sweeping what a killed test run left: daemon user " << user << " (" << how
                      << ")\n";
            sh_status(how == "created" ? "chown -R root:root /sys/fs/bpf/xconnect"
                                       : "chown root:root /sys/fs/bpf/xconnect");
            if (how == "created" && !user.empty()) {
                sh_status("userdel " + user);
                sh_status("groupdel " + user);
            }
            fs::remove(entry.path(), ignored);
        }
    }
    sweep_directory(fs::temp_directory_path(),
                    std::regex("xconnect-(?:test|bus|shared)-([0-9]+)x[0-9]+"));
    // Pinned state of daemons a killed run started with --state-dir (their
    // namespaces, and so their attachments, are gone with the run's netns).
    sweep_directory("/sys/fs/bpf", std::regex("xconnect-test-([0-9]+)x[0-9]+"));
    sweep_directory("/sys/fs/bpf/xconnect", std::regex("xconnect-test-([0-9]+)x[0-9]+"));
}

}  // namespace xconnect::test
