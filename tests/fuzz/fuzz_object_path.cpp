// fuzz-object-path: escape_path_element() (a D-Bus pair path is built from an
// interface name a client or the config file gave) always makes a valid object
// path element, and one that decodes back to the input (so no two names share
// a path).

#include <systemd/sd-bus.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "contract/object_path.hpp"
#include "fuzz_check.hpp"

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

// The inverse of escape_path_element as its header states it: [A-Za-z0-9]
// stay, _XX is the byte XX, "_" alone is "".
std::optional<std::string> unescape(std::string_view element) {
    if (element == "_") {
        return std::string();
    }
    std::string text;
    for (size_t i = 0; i < element.size(); ++i) {
        const char c = element[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            text += c;
        } else if (c == '_' && i + 2 < element.size() && hex_value(element[i + 1]) >= 0 &&
                   hex_value(element[i + 2]) >= 0) {
            text += static_cast<char>(hex_value(element[i + 1]) * 16 + hex_value(element[i + 2]));
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string element = xconnect::escape_path_element(text);
    FUZZ_CHECK(!element.empty(), "empty element");
    const std::optional<std::string> decoded = unescape(element);
    FUZZ_CHECK(decoded && *decoded == text, "%s does not decode back to the input",
               element.c_str());
    const std::string path = xconnect::pair_path(text);
    FUZZ_CHECK(sd_bus_object_path_is_valid(path.c_str()) > 0, "not a valid object path: %s",
               path.c_str());
    return 0;
}
