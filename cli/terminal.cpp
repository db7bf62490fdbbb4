#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <utility>

extern char** environ;

namespace xconnect::ctl {

namespace {

// posix_spawn's file actions, destroyed on every path.
class FileActions {
  public:
    FileActions() { posix_spawn_file_actions_init(&actions_); }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

  private:
    posix_spawn_file_actions_t actions_{};
};

// Both ends close on exec: only the dup2 in the child survives it.
std::optional<std::pair<UniqueFd, UniqueFd>> make_pipe() {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) {
        return std::nullopt;
    }
    return std::pair{UniqueFd(ends[0]), UniqueFd(ends[1])};
}

}  // namespace

std::optional<Spawned> Spawned::start(const std::vector<std::string>& argv, int fd, int child_fd) {
    FileActions actions;
    // glibc clears close-on-exec when fd == child_fd (Austin Group issue 411).
    if (posix_spawn_file_actions_adddup2(actions.get(), fd, child_fd) != 0) {
        return std::nullopt;
    }
    std::vector<char*> arguments;
    for (const std::string& argument : argv) {
        arguments.push_back(const_cast<char*>(argument.c_str()));
    }
    arguments.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawnp(&pid, arguments[0], actions.get(), nullptr, arguments.data(), environ) != 0) {
        return std::nullopt;
    }
    return Spawned(pid);
}

Spawned::Spawned(Spawned&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {
}

Spawned& Spawned::operator=(Spawned&& other) noexcept {
    if (this != &other) {
        terminate();
        pid_ = std::exchange(other.pid_, -1);
    }
    return *this;
}

void Spawned::wait() noexcept {
    if (pid_ <= 0) {
        return;
    }
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

void Spawned::terminate() noexcept {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        wait();
    }
}

Pager::Pager(bool wanted) {
    if (!wanted || !isatty(STDOUT_FILENO)) {
        return;
    }
    const char* configured = getenv("PAGER");
    const bool from_environment = configured && *configured;
    if (from_environment && std::string(configured) == "cat") {
        return;
    }
    auto pipe = make_pipe();
    UniqueFd saved_stdout(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
    if (!pipe || !saved_stdout) {
        return;
    }
    auto& [read_end, write_end] = *pipe;
    std::cout.flush();
    fflush(stdout);
    // Spawned before stdout is redirected: the pager writes to the terminal.
    pager_ = Spawned::start(from_environment ? std::vector<std::string>{"sh", "-c", configured}
                                             : std::vector<std::string>{"less", "-FRSXK"},
                            read_end.get(), STDIN_FILENO);
    if (!pager_ || dup2(write_end.get(), STDOUT_FILENO) < 0) {
        pager_.reset();
        return;
    }
    saved_stdout_ = std::move(saved_stdout);
    // Ignored only now: the pager itself must not inherit SIG_IGN.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous_sigpipe_);
}

Pager::~Pager() {
    if (!pager_) {
        return;
    }
    std::cout.flush();
    fflush(stdout);
    // That closes the pipe's last write end: the pager reads its end.
    dup2(saved_stdout_.get(), STDOUT_FILENO);
    pager_->wait();
    sigaction(SIGPIPE, &previous_sigpipe_, nullptr);
    std::cout.clear();  // after an EPIPE, stdout is the terminal again
}

PolkitAgent::PolkitAgent() {
    auto pipe = make_pipe();
    if (!pipe) {
        return;
    }
    auto& [ready, notify] = *pipe;
    agent_ = Spawned::start({"/usr/bin/pkttyagent", "--notify-fd", "3", "--fallback", "--process",
                             std::to_string(getpid())},
                            notify.get(), 3);
    notify.reset();  // the agent's copy is the only write end now
    if (!agent_) {
        return;
    }
    // The agent closes its end once it is registered, or exits: either wakes us.
    pollfd readable{.fd = ready.get(), .events = POLLIN, .revents = 0};
    poll(&readable, 1, 5000);
}

}  // namespace xconnect::ctl
