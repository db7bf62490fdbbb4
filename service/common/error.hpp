#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace xconnect {

// A failed system call, with what we were doing ("attach XDP to veth0 (ifindex 7)"),
// the call that failed and its errno, so the message can be shown as is.
class SystemError : public std::runtime_error {
  public:
    SystemError(const std::string& context, const std::string& call, int error_number);
    // The same error seen from one level up: "veth0: " + inner message.
    SystemError(const std::string& outer_context, const SystemError& inner);

    int error_number() const noexcept { return errno_; }

  private:
    int errno_;
};

// Throws SystemError for the current errno.
[[noreturn]] void throw_errno(const std::string& context, const std::string& call);

std::string errno_text(int error_number);

}  // namespace xconnect
