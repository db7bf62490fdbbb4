#pragma once

// What the polkit and D-Bus abuse faults share: BusTest with the pair
// xconnect-1<->xconnect-2 added by root and a sequence-numbered stream across
// it (the untouched pair that must lose nothing), xconnectd's pid and memory,
// polkitd's children, and a check that the sanitizers had nothing to say.

#include <dirent.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "bus_fixture.hpp"
#include "loss_meter.hpp"

namespace xconnect::test {

inline constexpr const char* stable_pair_path = "/org/xconnect/pair/xconnect_2d1";

// VmRSS of a process in KiB, 0 if it is gone.
inline uint64_t rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoull(line.substr(6));
        }
    }
    return 0;
}

// Pids of the processes whose parent is `parent` and whose command line
// starts with `argv0` (polkit.spawn runs its command as polkitd's child).
inline std::vector<pid_t> children_running(pid_t parent, const std::string& argv0) {
    std::vector<pid_t> found;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
    if (!proc) {
        return found;
    }
    while (const dirent* entry = readdir(proc.get())) {
        const std::string name = entry->d_name;
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream stat("/proc/" + name + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        // "pid (comm) state ppid ...": comm may hold blanks and parentheses.
        const auto after_comm = text.rfind(')');
        if (after_comm == std::string::npos) {
            continue;
        }
        std::istringstream rest(text.substr(after_comm + 1));
        std::string state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid != parent) {
            continue;
        }
        std::ifstream cmdline("/proc/" + name + "/cmdline");
        std::string first;
        std::getline(cmdline, first, '\0');
        if (first == argv0) {
            found.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    return found;
}

// Memory seen in a process while something runs: sampled by a thread of the
// test (pacing a test is allowed; the daemon itself never polls).
class RssSampler {
  public:
    explicit RssSampler(pid_t pid) : pid_(pid), before_(rss_kib(pid)), peak_(before_) {
        thread_ = std::thread([this] {
            while (!stop_) {
                const uint64_t now = rss_kib(pid_);
                peak_ = std::max<uint64_t>(peak_, now);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
    }
    ~RssSampler() { finish(); }
    RssSampler(const RssSampler&) = delete;
    RssSampler& operator=(const RssSampler&) = delete;

    void finish() {
        if (thread_.joinable()) {
            stop_ = true;
            thread_.join();
            after_ = rss_kib(pid_);
            peak_ = std::max(peak_.load(), after_);
        }
    }
    uint64_t before() const { return before_; }
    uint64_t peak() const { return peak_; }
    uint64_t after() const { return after_; }
    std::string summary() const {
        return "xconnectd VmRSS before " + std::to_string(before_) + " KiB, peak " +
               std::to_string(peak_) + " KiB, after " + std::to_string(after_) + " KiB";
    }

  private:
    const pid_t pid_;
    const uint64_t before_;
    std::atomic<uint64_t> peak_;
    uint64_t after_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

#if defined(__SANITIZE_ADDRESS__)
#define XCONNECT_TEST_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XCONNECT_TEST_WITH_ASAN 1
#endif
#endif

// AddressSanitizer keeps freed memory in a quarantine (256 MiB by default on
// 64 bits) before reusing it: in a sanitized build (the tests are built
// like the daemon) RSS grows by that much with no leak at all. The 256 MiB
// count the bytes the program asked for; each small chunk also holds its
// header, redzones and size-class rounding (about as much again) and an
// eighth more of shadow, so a quarantine full of sd-bus messages is resident
// at about 2.25 times its count (a run of 64 000 calls grew by 405 MiB).
// There, LeakSanitizer at exit is the leak check, and this bound only catches
// runaway growth.
#ifdef XCONNECT_TEST_WITH_ASAN
inline constexpr uint64_t asan_quarantine_kib = 256 * 1024 * 9 / 4;
#else
inline constexpr uint64_t asan_quarantine_kib = 0;
#endif
// Generous: 64 MiB more than before, however many calls were made.
inline constexpr uint64_t rss_growth_bound_kib = 64 * 1024 + asan_quarantine_kib;

class FaultBusTest : public BusTest {
  protected:
    void TearDown() override {
        meter_.reset();
        BusTest::TearDown();
    }

    // Root adds the untouched pair; a stream crosses it from then on.
    void start_untouched_pair_stream() {
        ASSERT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2"),
                  std::string("o \"") + stable_pair_path + "\"\n");
        ASSERT_EQ(property(stable_pair_path, "State"), "s \"active\"\n");
        daemon_pid_ = bus_->owner_pid("org.xconnect");
        ASSERT_GT(daemon_pid_, 0);
        meter_ = std::make_unique<LossMeter>(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2",
                                             "169.254.1.20");
        ASSERT_NO_THROW(meter_->wait_until_flowing());
    }

    // The stream's verdict: not one frame lost on the untouched pair, and
    // the daemon that forwarded them is the one that started.
    void expect_untouched_pair_lost_nothing() {
        ASSERT_TRUE(meter_);
        const LossReport report = meter_->stop();
        meter_.reset();
        std::cerr << "untouched pair xconnect-1<->xconnect-2: " << report.summary() << "\n";
        EXPECT_GT(report.received, 0u) << report.summary();
        EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
        EXPECT_EQ(bus_->owner_pid("org.xconnect"), daemon_pid_) << "xconnectd was restarted";
    }

    // Stops xconnectd and looks at what it printed on the way out: a sanitized
    // build's LeakSanitizer reports leaks at exit.
    void expect_clean_exit() {
        bus_->stop_xconnectd();
        for (const char* report : {"LeakSanitizer", "AddressSanitizer", "runtime error:"}) {
            // logged() reads what the daemon wrote on its way out.
            if (bus_->log().logged(report)) {
                const std::string log = bus_->log().log_text();
                ADD_FAILURE() << "xconnectd's sanitizer report:\n"
                              << log.substr(
                                     log.find(report) - std::min<size_t>(log.find(report), 200),
                                     4000);
            }
        }
    }

    // The line each process logs with `text`, "" for any that does not in
    // time. Meanwhile the bus log is read too: xconnectd's log goes into a
    // pipe only this process empties, and a full pipe would block the daemon.
    std::vector<std::string> wait_for_lines(const std::vector<ChildProcess*>& processes,
                                            const std::string& text, std::chrono::seconds timeout) {
        std::vector<std::string> lines(processes.size());
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (size_t done = 0;
             done < processes.size() && std::chrono::steady_clock::now() < deadline;) {
            bus_->log().logged("");  // reads what is there
            done = 0;
            for (size_t index = 0; index < processes.size(); ++index) {
                if (lines[index].empty() && processes[index]->logged(text)) {
                    lines[index] = processes[index]->expect_log(text, std::chrono::seconds(1));
                }
                done += lines[index].empty() ? 0 : 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return lines;
    }

    // The pid of polkitd's `sleep` child while a stalling rule runs, 0 if none
    // appears within `timeout`.
    pid_t wait_for_polkit_stall(std::chrono::seconds timeout = std::chrono::seconds(20)) {
        const pid_t polkitd = bus_->owner_pid("org.freedesktop.PolicyKit1");
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto sleeping = children_running(polkitd, stall_command);
            if (!sleeping.empty()) {
                return sleeping.front();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return 0;
    }
    bool still_stalled(pid_t sleep_pid) {
        const pid_t polkitd = bus_->owner_pid("org.freedesktop.PolicyKit1");
        const auto sleeping = children_running(polkitd, stall_command);
        return std::find(sleeping.begin(), sleeping.end(), sleep_pid) != sleeping.end();
    }

    // polkitd stalls about 9 s in every check of manage-pairs, then goes on
    // to the rules that grant the group.
    void start_stalling_polkit() {
        polkit_ = std::make_unique<Polkitd>(
            group_, std::string("polkit.addRule(function(action, subject) {\n"
                                "    if (action.id == \"org.xconnect.manage-pairs\") {\n"
                                "        polkit.spawn([\"") +
                        stall_command +
                        "\", \"9\"]);\n"
                        "    }\n"
                        "});\n");
    }

    // `gdbus call` in the background as `user`, so the test can act while it waits.
    std::unique_ptr<ChildProcess> call_in_background(const TestUser& user,
                                                     const std::vector<std::string>& method_args,
                                                     const std::string& path = "/org/xconnect") {
        std::vector<std::string> args{"--reuid=" + user.name(),
                                      "--regid=" + group_of(user),
                                      "--init-groups",
                                      "--",
                                      "/usr/bin/gdbus",
                                      "call",
                                      "--system",
                                      "--dest",
                                      "org.xconnect",
                                      "--object-path",
                                      path,
                                      "--method"};
        args.insert(args.end(), method_args.begin(), method_args.end());
        return std::make_unique<ChildProcess>("/usr/bin/setpriv", args, nullptr,
                                              /*with_stdout=*/true);
    }

    std::string group_of(const TestUser& user) const {
        return &user == member_.get() ? group_ : user.name();
    }

    static constexpr const char* stall_command = "/usr/bin/sleep";

    pid_t daemon_pid_ = 0;
    std::unique_ptr<LossMeter> meter_;
};

}  // namespace xconnect::test
