#include "capture_options.hpp"

#include "common/quote.hpp"
#include "contract/errors.hpp"

namespace xconnect {

CaptureOptions checked(CaptureOptions options, uint32_t max_snaplen) {
    if (options.snaplen == 0) {
        options.snaplen = max_snaplen;
    } else if (options.snaplen > max_snaplen) {
        throw ContractError(ErrorKind::invalid_args, "snaplen " + std::to_string(options.snaplen) +
                                                         " is more than the XDP program copies (" +
                                                         std::to_string(max_snaplen) + " bytes)");
    }
    if (options.filter.size() > max_filter_length) {
        throw ContractError(ErrorKind::invalid_args,
                            "filter " + quote(options.filter) + " is longer than " +
                                std::to_string(max_filter_length) + " bytes");
    }
    if (options.filter.find('\0') != std::string::npos) {
        throw ContractError(ErrorKind::invalid_args,
                            "filter " + quote(options.filter) + " holds a NUL byte");
    }
    return options;
}

}  // namespace xconnect
