// fuzz-config: bytes -> the real loader and validator, load_config() on a
// file as the daemon reads it. Whatever it accepts is valid and renders back
// to itself; whatever it refuses gets a bounded, valid UTF-8 InvalidConfig.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/quote.hpp"
#include "common/unique_fd.hpp"
#include "config/config_file.hpp"
#include "fuzz_check.hpp"

namespace {

// A memfd rather than a named file: it is a regular file to load_config
// (through /proc/self/fd), and nothing is left behind if a run crashes.
const xconnect::UniqueFd& scratch_file() {
    static const xconnect::UniqueFd fd(memfd_create("fuzz-config", MFD_CLOEXEC));
    FUZZ_CHECK(fd, "memfd_create failed");
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) {
        return 0;  // the limits above 64 KiB are unit-tested; here it would only be slow
    }
    const int fd = scratch_file().get();
    FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate");
    FUZZ_CHECK(size == 0 || pwrite(fd, data, size, 0) == static_cast<ssize_t>(size), "pwrite");
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    try {
        const std::vector<xconnect::PairSpec> pairs = xconnect::load_config(path);
        FUZZ_CHECK(xconnect::validate_pairs(pairs).empty(), "accepted pairs that do not validate");
        for (const auto& pair : pairs) {
            FUZZ_CHECK(!xconnect::invalid_interface_name_reason(pair.left) &&
                           !xconnect::invalid_interface_name_reason(pair.right),
                       "accepted an invalid name in %s", xconnect::quote(pair.label()).c_str());
        }
        const std::string rendered = xconnect::render_config(pairs);
        FUZZ_CHECK(xconnect::parse_config(rendered, "rendered") == pairs,
                   "the rendered file reads back differently:\n%s", rendered.c_str());
    } catch (const xconnect::InvalidConfig& error) {
        const std::string message = error.what();
        FUZZ_CHECK(xconnect::is_valid_utf8(message) && message.find('\0') == std::string::npos,
                   "message is not valid UTF-8: %s", xconnect::valid_utf8(message).c_str());
        FUZZ_CHECK(message.size() <= path.size() + 1024, "message of %zu bytes: %s", message.size(),
                   message.c_str());
        FUZZ_CHECK(message.rfind(path + ":", 0) == 0, "message does not name the file: %s",
                   message.c_str());
    }
    // Anything else (ConfigMissing, SystemError, a yaml-cpp exception that got
    // out) escapes and is reported as a crash.
    return 0;
}
