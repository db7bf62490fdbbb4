#pragma once

// What xconnectctl does with the terminal it runs on, as systemctl does:
// long output through a pager, and a polkit agent that can ask the person
// there for a password.

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace xconnect::ctl {

// A process this program started; reaped exactly once, so none outlives its
// owner as a zombie.
class Spawned {
  public:
    // Starts argv[0] (looked up in PATH unless it has a slash) with `fd` as
    // its descriptor `child_fd`; nothing if it cannot be started.
    static std::optional<Spawned> start(const std::vector<std::string>& argv, int fd, int child_fd);
    Spawned(Spawned&& other) noexcept;
    Spawned& operator=(Spawned&& other) noexcept;
    Spawned(const Spawned&) = delete;
    Spawned& operator=(const Spawned&) = delete;
    ~Spawned() { terminate(); }

    // Until it exits by itself.
    void wait() noexcept;
    // SIGTERM, then wait.
    void terminate() noexcept;

  private:
    explicit Spawned(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
};

// For its lifetime, stdout goes through a pager: $PAGER (a shell command, as
// popen ran it) or `less -FRSXK`; none if it is not wanted, stdout is not a
// terminal, PAGER=cat, or the pager cannot be started. The destructor ends its
// input and waits for it, so the prompt returns after the person quits it.
class Pager {
  public:
    explicit Pager(bool wanted);
    ~Pager();
    Pager(const Pager&) = delete;
    Pager& operator=(const Pager&) = delete;

  private:
    std::optional<Spawned> pager_;
    UniqueFd saved_stdout_;
    // A pager quit early makes writes fail (EPIPE) rather than kill us.
    struct sigaction previous_sigpipe_ {};
};

// pkttyagent on our terminal for its lifetime, as systemctl starts it, so
// that polkit can ask for a password when the caller allows interaction.
// Without pkttyagent there is no agent, and polkit answers as without one.
class PolkitAgent {
  public:
    // Returns once the agent is registered (at most 5 s), or has failed.
    PolkitAgent();
    PolkitAgent(const PolkitAgent&) = delete;
    PolkitAgent& operator=(const PolkitAgent&) = delete;

  private:
    std::optional<Spawned> agent_;  // terminated with it
};

}  // namespace xconnect::ctl
