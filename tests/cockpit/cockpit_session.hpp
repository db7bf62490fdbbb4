#pragma once

// Cockpit in front of the D-Bus tests' private bus, for the page's browser
// tests: the built page in a package directory every user may read,
// cockpit-ws on loopback with a local session (its cockpit-bridge as root or
// as a test user), and headless Chromium driven over the DevTools protocol
// by tests/cockpit/cdp_driver.py.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "child_process.hpp"

namespace xconnect::test {

class TestUser;

// The staged page (build/cockpit/stage) copied to <root>/cockpit/xconnect,
// in a directory anyone may enter: XDG_DATA_DIRS for cockpit-ws.
class PageInstall {
  public:
    explicit PageInstall(const std::filesystem::path& stage);
    ~PageInstall();
    PageInstall(const PageInstall&) = delete;
    PageInstall& operator=(const PageInstall&) = delete;

    const std::filesystem::path& data_dir() const { return root_; }

  private:
    std::filesystem::path root_;
};

// cockpit-ws --no-tls on 127.0.0.1 with --local-session: no login, its
// bridge talks to the bus at `bus_address` as `user` (nullptr: root). In a
// session of its own, since the bridge starts a session bus and an agent
// that must go with it: the destructor kills the whole process group.
class CockpitWs {
  public:
    CockpitWs(const PageInstall& page, const std::string& bus_address, const TestUser* user);
    ~CockpitWs();
    CockpitWs(const CockpitWs&) = delete;
    CockpitWs& operator=(const CockpitWs&) = delete;

    // The page alone, and the page in Cockpit's shell (with its menu).
    std::string page_url() const;
    std::string shell_url() const;
    ChildProcess& log() { return *process_; }

  private:
    void wait_until_listening();

    std::filesystem::path home_;  // HOME and XDG_RUNTIME_DIR, the user's own
    uint16_t port_ = 0;
    std::unique_ptr<ChildProcess> process_;
};

// One Chromium page, loaded once; each call is one command to the driver,
// which fails the call (std::runtime_error) with what it saw.
class Browser {
  public:
    explicit Browser(const std::string& url);
    ~Browser();  // the driver stops Chromium
    Browser(const Browser&) = delete;
    Browser& operator=(const Browser&) = delete;

    // Waits until the JavaScript expression is truthy.
    void wait(const std::string& expression,
              std::chrono::seconds timeout = std::chrono::seconds(20));
    nlohmann::json eval(const std::string& expression);
    // A real mouse click in the middle of the element; fails if it is disabled.
    void click(const std::string& selector);
    void type(const std::string& selector, const std::string& text);
    void screenshot(const std::filesystem::path& file);
    // Console errors, uncaught exceptions and failed loads so far.
    nlohmann::json errors();

  private:
    nlohmann::json command(nlohmann::json request, std::chrono::seconds timeout);
    nlohmann::json answer(const std::string& to, std::chrono::seconds timeout);

    std::filesystem::path profile_;
    std::unique_ptr<ChildProcess> driver_;
};

// A JavaScript string literal for `text`, to build expressions with.
std::string js_string(const std::string& text);

}  // namespace xconnect::test
