#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "common/error.hpp"

namespace xconnect::test {

bool privileged() {
    return geteuid() == 0;
}

bool privileges_required() {
    const char* value = std::getenv("XCONNECT_REQUIRE_PRIVILEGED");
    return value != nullptr && std::string(value) == "1";
}

CommandResult capture(const std::string& command) {
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        throw_errno(command, "popen");
    }
    CommandResult result;
    std::array<char, 4096> chunk;
    while (size_t n = fread(chunk.data(), 1, chunk.size(), pipe)) {
        result.output.append(chunk.data(), n);
    }
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string sh(const std::string& command) {
    CommandResult result = capture(command);
    if (result.status != 0) {
        throw std::runtime_error("command failed (status " + std::to_string(result.status) +
                                 "): " + command + "\n" + result.output);
    }
    return result.output;
}

int sh_status(const std::string& command) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string unique_suffix() {
    static int counter = 0;
    // The whole pid: sweep_leftovers() tells a dead run's objects by it.
    return std::to_string(getpid()) + "x" + std::to_string(counter++);
}

bool reachable(const Netns& netns, const std::string& address) {
    return sh_status(netns.exec() + "ping -c 1 -i 0.2 -w 10 " + address) == 0;
}

bool unreachable(const Netns& netns, const std::string& address) {
    return sh_status(netns.exec() + "ping -c 3 -i 0.2 -W 1 " + address) != 0;
}

Netns::Netns(const std::string& tag) : name_("xct-" + unique_suffix() + "-" + tag) {
    sh("ip netns add " + name_);
    sh(ip() + "link set lo up");
}

Netns::~Netns() {
    sh_status("ip netns del " + name_);
}

NetnsScope::NetnsScope(const Netns& netns)
    : original_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!original_) {
        throw_errno("remember current netns", "open");
    }
    UniqueFd target(open(netns.path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!target || setns(target.get(), CLONE_NEWNET) != 0) {
        throw_errno("enter netns " + netns.name(), "setns");
    }
}

NetnsScope::~NetnsScope() {
    if (setns(original_.get(), CLONE_NEWNET) != 0) {
        // Everything this thread did next would happen in the wrong
        // namespace (the host's interfaces, the host's XDP): stop here.
        std::fprintf(stderr, "NetnsScope: cannot return to the original network namespace: %s\n",
                     errno_text(errno).c_str());
        std::abort();
    }
}

}  // namespace xconnect::test
