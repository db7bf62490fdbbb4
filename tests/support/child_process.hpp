#pragma once

// A child process (xconnectd, dbus-daemon, polkitd, a client), its stderr
// (and, if asked, stdout) read as it comes.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "netns.hpp"

namespace xconnect::test {

class ChildProcess {
  public:
    // Starts `binary args...` inside `netns` (nullptr: this namespace); reads
    // its stderr, and its stdout too if `with_stdout`; its stdin is a pipe
    // for write_line() if `with_stdin`.
    ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                 const Netns* netns, bool with_stdout = false, bool with_stdin = false);
    ~ChildProcess();  // SIGTERM, then SIGKILL if it does not exit
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Waits (reading the log as it arrives) for a line after the previous match
    // that contains `text`; throws with the whole log if none comes in time.
    std::string expect_log(const std::string& text,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Waits until every text has been logged after the previous match, in any
    // order; moves past the last of them.
    void expect_logs(std::vector<std::string> texts,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));
    // The next line after the previous match for which `wanted` is true.
    std::string expect_line(const std::function<bool(const std::string&)>& wanted,
                            const std::string& what,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Writes `line` and a newline to its stdin (with_stdin only).
    void write_line(const std::string& line);
    // Whether any line so far (from the start) contains `text`.
    bool logged(const std::string& text);

    void signal(int signal_number);
    // Sends SIGTERM and waits; returns the exit status (128+N when killed by N).
    int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Waits for the daemon to exit by itself; returns the status, -1 on timeout.
    int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    std::string log_text() const;
    pid_t pid() const { return pid_; }

  private:
    bool read_some(std::chrono::milliseconds timeout);
    bool daemon_gone();  // reaps it if it exited

    std::string name_;  // what failure messages call it
    pid_t pid_ = -1;
    int exit_status_ = -1;
    UniqueFd stderr_;
    UniqueFd stdin_;
    std::string partial_;
    std::vector<std::string> lines_;
    size_t cursor_ = 0;
};

}  // namespace xconnect::test
