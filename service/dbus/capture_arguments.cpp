#include "capture_arguments.hpp"

#include "common/quote.hpp"
#include "contract/errors.hpp"

namespace xconnect {

namespace {

template <typename T>
T value_of(const std::string& key, const sdbus::Variant& value) {
    if (!value.containsValueOfType<T>()) {
        throw ContractError(ErrorKind::invalid_args, "option " + key + " must be of type " +
                                                         sdbus::signature_of<T>::str() + ", not " +
                                                         quote(value.peekValueType()));
    }
    return value.get<T>();
}

}  // namespace

CaptureOptions capture_options_of(const std::map<std::string, sdbus::Variant>& options) {
    CaptureOptions result;
    for (const auto& [key, value] : options) {
        if (key == "snaplen") {
            result.snaplen = value_of<uint32_t>(key, value);
            if (result.snaplen == 0) {
                throw ContractError(ErrorKind::invalid_args, "option snaplen must not be 0");
            }
        } else if (key == "count") {
            result.count = value_of<uint64_t>(key, value);
        } else if (key == "seconds") {
            result.seconds = value_of<uint32_t>(key, value);
        } else if (key == "filter") {
            result.filter = value_of<std::string>(key, value);
        } else {
            throw ContractError(
                ErrorKind::invalid_args,
                "unknown option " + quote(key) + " (known: snaplen, count, seconds, filter)");
        }
    }
    return result;
}

}  // namespace xconnect
