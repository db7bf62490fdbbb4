#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "common/error.hpp"

namespace xconnect::test {

using namespace std::chrono;

namespace {

// "xconnectd", also when it runs under setpriv ... -- xconnectd.
std::string program_name(const std::string& binary, const std::vector<std::string>& args) {
    auto wrapped = std::find(args.begin(), args.end(), "--");
    const bool wrapper = std::filesystem::path(binary).filename() == "setpriv";
    return std::filesystem::path(wrapper && wrapped != args.end() && wrapped + 1 != args.end()
                                     ? *(wrapped + 1)
                                     : binary)
        .filename()
        .string();
}

}  // namespace

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                           const Netns* netns, bool with_stdout, bool with_stdin)
    : name_(program_name(binary, args)) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw_errno("start " + binary, "pipe2");
    }
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    // A child blocks once the pipe is full, and the test reads it only when it
    // looks for a line: a daemon with 1 000 pairs logs 70 KB at once, more than
    // the default 64 KiB. Best effort: the system's maximum (1 MiB by default).
    fcntl(write_end.get(), F_SETPIPE_SZ, 1 << 20);
    UniqueFd input_read_end;
    if (with_stdin) {
        if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
            throw_errno("start " + binary, "pipe2");
        }
        input_read_end.reset(pipe_fds[0]);
        stdin_.reset(pipe_fds[1]);
    }
    UniqueFd netns_fd;
    if (netns != nullptr) {
        netns_fd.reset(open(netns->path().c_str(), O_RDONLY | O_CLOEXEC));
        if (!netns_fd) {
            throw_errno("open " + netns->path(), "open");
        }
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);

    pid_ = fork();
    if (pid_ < 0) {
        throw_errno("start " + binary, "fork");
    }
    if (pid_ == 0) {
        // Child: only async-signal-safe calls until exec.
        if (netns_fd && setns(netns_fd.get(), CLONE_NEWNET) != 0) {
            _exit(126);
        }
        dup2(write_end.get(), STDERR_FILENO);
        if (with_stdout) {
            dup2(write_end.get(), STDOUT_FILENO);
        }
        if (input_read_end) {
            dup2(input_read_end.get(), STDIN_FILENO);
        }
        execv(binary.c_str(), argv.data());
        _exit(127);
    }
    stderr_ = std::move(read_end);
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && exit_status_ < 0) {
        kill(pid_, SIGTERM);
        if (wait_exit(seconds(10)) < 0) {
            kill(pid_, SIGKILL);
            wait_exit(seconds(10));
        }
    }
}

bool ChildProcess::read_some(milliseconds timeout) {
    pollfd poll_fd{.fd = stderr_.get(), .events = POLLIN, .revents = 0};
    const int ready = poll(&poll_fd, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
        return false;
    }
    char buffer[4096];
    const ssize_t n = read(stderr_.get(), buffer, sizeof buffer);
    if (n <= 0) {
        return false;  // daemon exited
    }
    partial_.append(buffer, static_cast<size_t>(n));
    for (size_t newline; (newline = partial_.find('\n')) != std::string::npos;) {
        lines_.push_back(partial_.substr(0, newline));
        partial_.erase(0, newline + 1);
    }
    return true;
}

std::string ChildProcess::expect_log(const std::string& text, milliseconds timeout) {
    return expect_line(
        [&](const std::string& line) { return line.find(text) != std::string::npos; },
        "\"" + text + "\"", timeout);
}

std::string ChildProcess::expect_line(const std::function<bool(const std::string&)>& wanted,
                                      const std::string& what, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        for (; cursor_ < lines_.size(); ++cursor_) {
            if (wanted(lines_[cursor_])) {
                return lines_[cursor_++];
            }
        }
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if ((left.count() <= 0 || !read_some(left)) &&
            (steady_clock::now() >= deadline || daemon_gone())) {
            throw std::runtime_error(name_ + " never printed " + what + "; its output:\n" +
                                     log_text());
        }
    }
}

void ChildProcess::write_line(const std::string& line) {
    const std::string text = line + "\n";
    for (size_t written = 0; written < text.size();) {
        const ssize_t n = write(stdin_.get(), text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_errno("write to " + name_ + "'s stdin", "write");
        }
        written += static_cast<size_t>(n);
    }
}

void ChildProcess::expect_logs(std::vector<std::string> texts, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    size_t scanned = cursor_;
    for (;;) {
        for (; scanned < lines_.size() && !texts.empty(); ++scanned) {
            std::erase_if(texts, [&](const std::string& text) {
                return lines_[scanned].find(text) != std::string::npos;
            });
        }
        if (texts.empty()) {
            cursor_ = scanned;
            return;
        }
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if ((left.count() <= 0 || !read_some(left)) &&
            (steady_clock::now() >= deadline || daemon_gone())) {
            throw std::runtime_error(name_ + " never logged \"" + texts.front() + "\" (and " +
                                     std::to_string(texts.size() - 1) + " more); its log:\n" +
                                     log_text());
        }
    }
}

bool ChildProcess::logged(const std::string& text) {
    while (read_some(milliseconds(0))) {
    }
    for (const std::string& line : lines_) {
        if (line.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

bool ChildProcess::daemon_gone() {
    if (exit_status_ >= 0) {
        return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) {
        return false;
    }
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
}

void ChildProcess::signal(int signal_number) {
    kill(pid_, signal_number);
}

int ChildProcess::wait_exit(milliseconds timeout) {
    if (exit_status_ >= 0) {
        return exit_status_;
    }
    // Reading the log to its end (EOF) is how we learn the daemon exited.
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if (!read_some(left)) {
            break;
        }
    }
    int status = 0;
    if (waitpid(pid_, &status, steady_clock::now() < deadline ? 0 : WNOHANG) != pid_) {
        return -1;
    }
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_status_;
}

int ChildProcess::terminate(milliseconds timeout) {
    kill(pid_, SIGTERM);
    return wait_exit(timeout);
}

std::string ChildProcess::log_text() const {
    std::string text;
    for (const std::string& line : lines_) {
        text += line + "\n";
    }
    return text + partial_;
}

}  // namespace xconnect::test
