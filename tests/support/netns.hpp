#pragma once

// Test fixtures for the real kernel: network namespaces with unique names that
// are removed even when a test fails, and a way to run code inside one.

#include <string>

#include "common/unique_fd.hpp"

namespace xconnect::test {

// True when the process may create namespaces and load BPF (CI runs as root).
bool privileged();
// XCONNECT_REQUIRE_PRIVILEGED=1 (set by .ci/run): a privileged test fails
// instead of skipping, so CI cannot go green without running them.
bool privileges_required();

#define XCONNECT_REQUIRE_ROOT()                                                 \
    do {                                                                        \
        if (!::xconnect::test::privileged()) {                                  \
            if (::xconnect::test::privileges_required()) {                      \
                FAIL() << "needs root, and XCONNECT_REQUIRE_PRIVILEGED is set"; \
            }                                                                   \
            GTEST_SKIP() << "needs root (XDP, BPF maps, network namespaces)";   \
        }                                                                       \
    } while (false)

// Runs a shell command; throws std::runtime_error with its output if it fails.
std::string sh(const std::string& command);
// Runs a shell command and returns its exit status (output discarded).
int sh_status(const std::string& command);
// Runs a shell command: its exit status and its output (stdout and stderr).
struct CommandResult {
    int status = 0;
    std::string output;
};
CommandResult capture(const std::string& command);

// A named network namespace (`ip netns add`), deleted with everything in it.
class Netns {
  public:
    explicit Netns(const std::string& tag);
    ~Netns();
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;

    const std::string& name() const { return name_; }
    std::string path() const { return "/var/run/netns/" + name_; }
    // "ip -n NAME" prefix for commands in this namespace.
    std::string ip() const { return "ip -n " + name_ + " "; }
    std::string exec() const { return "ip netns exec " + name_ + " "; }

  private:
    std::string name_;
};

// Moves the calling thread into a namespace for its lifetime. Sockets opened
// meanwhile stay in that namespace afterwards.
class NetnsScope {
  public:
    explicit NetnsScope(const Netns& netns);
    ~NetnsScope();
    NetnsScope(const NetnsScope&) = delete;
    NetnsScope& operator=(const NetnsScope&) = delete;

  private:
    UniqueFd original_;
};

// ping from inside `netns`: a reply within a generous deadline (the first
// frames after a link comes up may meet a qdisc not yet activated) ...
bool reachable(const Netns& netns, const std::string& address);
// ... or none to three echo requests.
bool unreachable(const Netns& netns, const std::string& address);

// A name unique to this test process: its pid, "x", a counter ("4711x3").
// Every object a test makes carries it, so that sweep_leftovers() can tell
// what a run that was killed left behind.
std::string unique_suffix();

}  // namespace xconnect::test
