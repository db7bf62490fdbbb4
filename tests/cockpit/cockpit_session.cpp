#include "cockpit_session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "netns.hpp"
#include "system_bus.hpp"

namespace xconnect::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path new_directory(fs::perms mode) {
    const fs::path directory = fs::temp_directory_path() / ("xconnect-test-" + unique_suffix());
    fs::create_directories(directory);
    fs::permissions(directory, mode);
    return directory;
}

// A loopback port nobody listens on now: the kernel's choice for port 0.
uint16_t free_loopback_port() {
    UniqueFd socket_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket_fd) {
        throw_errno("find a free port", "socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw_errno("find a free port", "bind");
    }
    return ntohs(address.sin_port);
}

}  // namespace

PageInstall::PageInstall(const fs::path& stage) : root_(new_directory(fs::perms(0755))) {
    const fs::path package = root_ / "cockpit" / "xconnect";
    fs::create_directories(package);
    fs::copy(stage, package, fs::copy_options::recursive);
    sh("chmod -R a+rX " + root_.string());
}

PageInstall::~PageInstall() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
}

CockpitWs::CockpitWs(const PageInstall& page, const std::string& bus_address, const TestUser* user)
    : home_(new_directory(fs::perms(0700))), port_(free_loopback_port()) {
    fs::create_directories(home_ / "run");
    fs::permissions(home_ / "run", fs::perms(0700));
    if (user != nullptr) {
        sh("chown -R " + user->name() + ": " + home_.string());
    }
    // setsid execs in place (the child is no group leader): the pid is the group's.
    std::vector<std::string> args;
    if (user != nullptr) {
        args.push_back("/usr/bin/setpriv");
        for (const std::string& arg : user->setpriv_args()) {
            args.push_back(arg);
        }
    }
    for (const std::string& arg :
         {std::string("/usr/bin/env"), "DBUS_SYSTEM_BUS_ADDRESS=" + bus_address,
          "XDG_DATA_DIRS=" + page.data_dir().string() + ":/usr/share", "HOME=" + home_.string(),
          "XDG_RUNTIME_DIR=" + (home_ / "run").string(), std::string("LANG=C.UTF-8"),
          std::string("/usr/lib/cockpit/cockpit-ws"), std::string("--no-tls"),
          std::string("--address"), std::string("127.0.0.1"), std::string("--port"),
          std::to_string(port_), std::string("--local-session=/usr/bin/cockpit-bridge")}) {
        args.push_back(arg);
    }
    process_ = std::make_unique<ChildProcess>("/usr/bin/setsid", args, nullptr,
                                              /*with_stdout=*/true);
    wait_until_listening();
}

// cockpit-ws says nothing when it listens: connect until it accepts, so the
// browser's first request cannot be refused.
void CockpitWs::wait_until_listening() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    for (;;) {
        UniqueFd probe(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (connect(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error(
                "cockpit-ws never listened on 127.0.0.1:" + std::to_string(port_) +
                "; its output:\n" + process_->log_text());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

CockpitWs::~CockpitWs() {
    const pid_t group = process_->pid();
    kill(-group, SIGTERM);
    process_->wait_exit(std::chrono::seconds(10));
    kill(-group, SIGKILL);  // the bridge's session bus and agent, if still there
    process_.reset();
    std::error_code ignored;
    fs::remove_all(home_, ignored);
}

std::string CockpitWs::page_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/cockpit/@localhost/xconnect/index.html";
}

std::string CockpitWs::shell_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/xconnect";
}

Browser::Browser(const std::string& url) : profile_(new_directory(fs::perms(0700))) {
    // A driver that died must fail the test, not kill it with SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    driver_ = std::make_unique<ChildProcess>(
        "/usr/bin/python3",
        std::vector<std::string>{XCONNECT_SOURCE_DIR "/tests/cockpit/cdp_driver.py", "--chromium",
                                 "/usr/bin/chromium", "--profile", profile_.string(), "--url", url},
        nullptr, /*with_stdout=*/true, /*with_stdin=*/true);
    // Its first answer: Chromium is up and the page is loading.
    answer("Chromium's start", std::chrono::seconds(60));
}

Browser::~Browser() {
    try {
        driver_->write_line(R"({"cmd": "quit"})");
        driver_->wait_exit(std::chrono::seconds(20));
    } catch (const std::exception&) {
        // Gone already: ChildProcess's destructor reaps it.
    }
    driver_.reset();
    std::error_code ignored;
    fs::remove_all(profile_, ignored);
}

json Browser::command(json request, std::chrono::seconds timeout) {
    const std::string sent = request.dump();
    driver_->write_line(sent);
    // The driver's own limit comes first: a command's last CDP round trip may
    // take up to its 30 s beyond it.
    return answer(sent.substr(0, 200), timeout + std::chrono::seconds(45));
}

json Browser::answer(const std::string& to, std::chrono::seconds timeout) {
    // Chromium and the driver may log too: the answer is the next "ok " or "fail " line.
    const std::string line = driver_->expect_line(
        [](const std::string& line) {
            return line.starts_with("ok ") || line.starts_with("fail ");
        },
        "an answer to " + to, timeout);
    if (line.starts_with("fail ")) {
        throw std::runtime_error("browser: " + line.substr(5));
    }
    return json::parse(line.substr(3));
}

void Browser::wait(const std::string& expression, std::chrono::seconds timeout) {
    command({{"cmd", "wait"}, {"js", expression}, {"timeout", timeout.count()}}, timeout);
}

json Browser::eval(const std::string& expression) {
    return command({{"cmd", "eval"}, {"js", expression}}, std::chrono::seconds(20));
}

void Browser::click(const std::string& selector) {
    command({{"cmd", "click"}, {"selector", selector}}, std::chrono::seconds(20));
}

void Browser::type(const std::string& selector, const std::string& text) {
    command({{"cmd", "type"}, {"selector", selector}, {"text", text}}, std::chrono::seconds(20));
}

void Browser::screenshot(const fs::path& file) {
    command({{"cmd", "screenshot"}, {"path", file.string()}}, std::chrono::seconds(20));
}

json Browser::errors() {
    return command({{"cmd", "errors"}}, std::chrono::seconds(20));
}

std::string js_string(const std::string& text) {
    return json(text).dump();
}

}  // namespace xconnect::test
