// fuzz-capture-options: bytes -> the words of `xconnectctl capture ...`
// (split at NUL) -> parse_capture_arguments(); what it accepts becomes the
// daemon's CaptureOptions -> checked() -> the filter compiled by libpcap
// (CaptureFilter) and run on a frame. Every refusal must be the documented
// exception, with a message that is valid UTF-8 and bounded.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/capture_filter.hpp"
#include "capture/capture_options.hpp"
#include "cli/capture.hpp"
#include "common/quote.hpp"
#include "contract/errors.hpp"
#include "fuzz_check.hpp"

namespace {

void check_message(const std::string& message) {
    FUZZ_CHECK(xconnect::is_valid_utf8(message), "a message that is not UTF-8: %s",
               message.c_str());
    // A filter is quoted at most 64 bytes (4 * 64 + 40 escaped), libpcap's
    // message at most 160 (4 * 160 escaped).
    FUZZ_CHECK(message.size() <= 1024, "a message of %zu bytes", message.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 8192) {
        return 0;  // a command line; the filter alone is bounded to 4096 bytes
    }
    std::vector<std::string> words(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\0') {
            words.emplace_back();
        } else {
            words.back().push_back(static_cast<char>(data[i]));
        }
    }
    xconnect::cli::CaptureRequest request;
    try {
        request = xconnect::cli::parse_capture_arguments(words);
    } catch (const xconnect::cli::CaptureUsageError& error) {
        return 0;
    }
    FUZZ_CHECK(!request.ifname.empty(), "a request without an interface");
    FUZZ_CHECK(!request.snaplen || (*request.snaplen >= 1 && *request.snaplen <= 16384),
               "snaplen %u out of range", request.snaplen.value_or(0));
    xconnect::CaptureOptions options{.snaplen = request.snaplen.value_or(0),
                                     .count = request.count.value_or(0),
                                     .seconds = request.seconds.value_or(0),
                                     .filter = request.filter};
    try {
        options = xconnect::checked(options, 16384);
        const xconnect::CaptureFilter filter(options.filter, options.snaplen);
        static const uint8_t frame[60] = {0x02, 0, 0, 0, 0,    2,    0x02, 0,
                                          0,    0, 0, 1, 0x08, 0x00, 0x45};
        filter.matches(frame, sizeof frame);
    } catch (const xconnect::ContractError& error) {
        FUZZ_CHECK(error.kind() == xconnect::ErrorKind::invalid_args, "a %s refusal",
                   xconnect::dbus_error_name(error.kind()));
        check_message(error.what());
    }
    return 0;
}
