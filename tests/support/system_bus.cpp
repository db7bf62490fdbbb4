#include "system_bus.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/unique_fd.hpp"
#include "unit_capabilities.hpp"

namespace xconnect::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* polkit_actions_dir = "/usr/share/polkit-1/actions";
constexpr const char* polkit_rules_dir = "/etc/polkit-1/rules.d";

void write_file(const fs::path& file, const std::string& text, fs::perms perms) {
    std::ofstream(file) << text;
    fs::permissions(file, perms);
}

std::string substitute(std::string text, const std::string& placeholder, const std::string& value) {
    for (size_t at; (at = text.find(placeholder)) != std::string::npos;) {
        text.replace(at, placeholder.size(), value);
    }
    return text;
}

std::string quote(const std::string& word) {
    return "'" + word + "'";
}

}  // namespace

SystemBus::SystemBus(const Netns& netns, const std::vector<std::string>& xconnectd_args)
    : directory_(fs::temp_directory_path() / ("xconnect-bus-" + unique_suffix())), netns_(netns) {
    fs::create_directories(directory_ / "services");
    // Unprivileged test users must reach the socket.
    fs::permissions(directory_, fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    // Activated under exactly the capabilities the unit grants.
    std::string exec;
    for (const std::string& word : xconnectd_as_the_unit_runs_it(xconnectd_args)) {
        exec += (exec.empty() ? "" : " ") + word;
    }
    write_file(directory_ / "services" / "org.xconnect.service",
               "[D-BUS Service]\nName=org.xconnect\nExec=" + exec + "\nUser=root\n",
               fs::perms(0644));
    // The same bus configuration as the demo's.
    std::ifstream template_file(fs::path(XCONNECT_SOURCE_DIR) / "scripts" /
                                "private-system-bus.conf.in");
    std::ostringstream config;
    config << template_file.rdbuf();
    write_file(directory_ / "bus.conf",
               substitute(substitute(config.str(), "@DIR@", directory_.string()), "@SOURCE@",
                          XCONNECT_SOURCE_DIR),
               fs::perms(0644));
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address().c_str(), 1);
    daemon_ = start_dbus_daemon();
}

std::unique_ptr<ChildProcess> SystemBus::start_dbus_daemon() const {
    auto daemon = std::make_unique<ChildProcess>(
        "/usr/bin/dbus-daemon",
        std::vector<std::string>{"--config-file=" + (directory_ / "bus.conf").string(), "--nofork",
                                 "--nopidfile", "--print-address"},
        &netns_, /*with_stdout=*/true);
    daemon->expect_log("unix:path=");  // listening
    return daemon;
}

void SystemBus::restart() {
    ChildProcess& running = restarted_ ? *restarted_ : *daemon_;
    running.signal(SIGKILL);
    // Gone, but not reaped: its pipe is still read, for what it activated.
    siginfo_t exited{};
    ::waitid(P_PID, static_cast<id_t>(running.pid()), &exited, WEXITED | WNOWAIT);
    restarted_ = start_dbus_daemon();
}

SystemBus::~SystemBus() {
    stop_xconnectd();
    stop_everything_activated();
    restarted_.reset();
    daemon_.reset();
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
}

pid_t SystemBus::owner_pid(const std::string& name) const {
    if (sh_status("busctl status " + name) != 0) {
        return 0;
    }
    // "(uint32 1234,)"
    const std::string reply =
        sh("gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus "
           "--method org.freedesktop.DBus.GetConnectionUnixProcessID " +
           name);
    const auto digits = reply.find_first_of("0123456789", reply.find("uint32") + 6);
    return digits == std::string::npos ? 0 : static_cast<pid_t>(std::stol(reply.substr(digits)));
}

namespace {

// SIGTERM, then SIGKILL if it lingers; returns once it is gone. Not our child
// (dbus-daemon's): a pidfd says when it is gone.
void terminate(pid_t pid) {
    UniqueFd process(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!process) {
        return;
    }
    ::kill(pid, SIGTERM);
    pollfd exited{.fd = process.get(), .events = POLLIN, .revents = 0};
    if (::poll(&exited, 1, 20000) <= 0) {
        ::kill(pid, SIGKILL);
        ::poll(&exited, 1, 20000);
    }
}

}  // namespace

void SystemBus::stop_xconnectd() {
    if (const pid_t pid = owner_pid("org.xconnect"); pid > 0) {
        terminate(pid);
    }
}

void SystemBus::stop_everything_activated() {
    // What this bus activated carries its address in DBUS_STARTER_ADDRESS,
    // whether it still owns a name on the bus or not (a daemon that lost the
    // bus, or never got its name).
    const std::string starter = "DBUS_STARTER_ADDRESS=" + address() + ",";
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator("/proc", ignored)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream environ(entry.path() / "environ");
        for (std::string variable; std::getline(environ, variable, '\0');) {
            if (variable.starts_with(starter)) {
                terminate(static_cast<pid_t>(std::stol(name)));
                break;
            }
        }
    }
}

Polkitd::Polkitd(const std::string& group, const std::string& earlier_rules)
    : marker_suffix_(unique_suffix()),
      rules_(fs::path(polkit_rules_dir) / ("49-xconnect-test-" + marker_suffix_ + ".rules")) {
    const fs::path action = fs::path(polkit_actions_dir) / "org.xconnect.policy";
    if (!fs::exists(action)) {
        fs::create_directories(polkit_actions_dir);
        // The marker says a test run put it there (polkitd reads only
        // *.policy): the sweep of a killed run removes the two together.
        write_file(installed_action_marker(), "", fs::perms(0644));
        fs::copy_file(fs::path(XCONNECT_SOURCE_DIR) / "polkit" / "org.xconnect.policy", action);
        fs::permissions(action, fs::perms(0644));
        installed_action_ = action;
    }
    fs::create_directories(polkit_rules_dir);
    // polkitd runs as user polkitd: the rules must be world-readable, and in
    // place before it starts.
    write_file(rules_,
               earlier_rules +
                   "polkit.addRule(function(action, subject) {\n"
                   "    if ((action.id == \"org.xconnect.manage-pairs\" ||\n"
                   "         action.id == \"org.xconnect.reload\" ||\n"
                   "         action.id == \"org.xconnect.capture\") &&\n"
                   "        subject.isInGroup(\"" +
                   group +
                   "\")) {\n"
                   "        return polkit.Result.YES;\n"
                   "    }\n"
                   "});\n",
               fs::perms(0644));
    daemon_ = std::make_unique<ChildProcess>("/usr/lib/polkit-1/polkitd",
                                             std::vector<std::string>{}, nullptr,
                                             /*with_stdout=*/true);
    daemon_->expect_log("Acquired the name org.freedesktop.PolicyKit1");
}

Polkitd::~Polkitd() {
    daemon_.reset();
    std::error_code ignored;
    fs::remove(rules_, ignored);
    if (!installed_action_.empty()) {
        fs::remove(installed_action_, ignored);
        fs::remove(installed_action_marker(), ignored);
    }
}

fs::path Polkitd::installed_action_marker() const {
    return fs::path(polkit_actions_dir) / (".org.xconnect.policy.test-" + marker_suffix_);
}

TestUser::TestUser(const std::string& name, const std::string& group) : name_(name), group_(group) {
    if (!group_.empty() && sh_status("getent group " + quote(group_)) != 0) {
        sh("groupadd " + quote(group_));
        created_group_ = true;
    }
    sh("useradd --no-create-home --shell /usr/sbin/nologin " +
       (group_.empty() ? std::string("--user-group") : "--no-user-group --gid " + quote(group_)) +
       " " + quote(name_));
}

TestUser::~TestUser() {
    sh_status("userdel " + quote(name_));
    if (created_group_) {
        sh_status("groupdel " + quote(group_));
    }
}

std::string TestUser::run_as() const {
    std::string prefix = "setpriv";
    for (const std::string& arg : setpriv_args()) {
        prefix += " " + quote(arg);
    }
    return prefix + " ";
}

std::vector<std::string> TestUser::setpriv_args() const {
    return {"--reuid=" + name_, "--regid=" + (group_.empty() ? name_ : group_), "--init-groups",
            "--"};
}

}  // namespace xconnect::test
