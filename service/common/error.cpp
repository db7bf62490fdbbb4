#include "error.hpp"

#include <cstring>

namespace xconnect {

std::string errno_text(int error_number) {
    return std::string(strerrordesc_np(error_number) ? strerrordesc_np(error_number)
                                                     : "unknown error") +
           " (" + (strerrorname_np(error_number) ? strerrorname_np(error_number) : "?") + ")";
}

SystemError::SystemError(const std::string& context, const std::string& call, int error_number)
    : std::runtime_error(context + ": " + call + ": " + errno_text(error_number)),
      errno_(error_number) {
}

SystemError::SystemError(const std::string& outer_context, const SystemError& inner)
    : std::runtime_error(outer_context + ": " + inner.what()), errno_(inner.errno_) {
}

void throw_errno(const std::string& context, const std::string& call) {
    throw SystemError(context, call, errno);
}

}  // namespace xconnect
