// fuzz-ifname: invalid_interface_name_reason() agrees with an independent
// statement of the rule, and its message (like quote() and valid_utf8()) is
// bounded valid UTF-8. The rule: the kernel's dev_valid_name() (not empty,
// under IFNAMSIZ bytes, not "." or "..", no '/', ':' or byte its isspace()
// knows: 9-13, 32 and Latin-1's 0xa0), plus well-formed UTF-8 without
// noncharacters (what D-Bus and YAML carry), plus no control character (C0,
// DEL, C1).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/quote.hpp"
#include "engine/model.hpp"
#include "fuzz_check.hpp"

namespace {

// net/core/dev.c dev_valid_name(), with lib/ctype.c's isspace().
bool kernel_accepts(std::string_view name) {
    constexpr size_t ifnamsiz = 16;
    if (name.empty() || name.size() >= ifnamsiz || name == "." || name == "..") {
        return false;
    }
    for (char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '/' || byte == ':' || (byte >= 9 && byte <= 13) || byte == ' ' ||
            byte == 0xa0) {
            return false;
        }
    }
    return true;
}

// Unicode's table of well-formed byte sequences (Table 3-7): the code points,
// or nullopt for text that is not well-formed UTF-8.
std::optional<std::u32string> decode_well_formed(std::string_view text) {
    std::u32string code_points;
    size_t i = 0;
    const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const auto in = [](unsigned char byte, unsigned char low, unsigned char high) {
        return byte >= low && byte <= high;
    };
    while (i < text.size()) {
        const unsigned char b0 = at(i);
        size_t length = 0;
        unsigned char low = 0x80, high = 0xbf;  // the second byte's range
        if (b0 <= 0x7f) {
            length = 1;
        } else if (in(b0, 0xc2, 0xdf)) {
            length = 2;
        } else if (b0 == 0xe0) {
            length = 3, low = 0xa0;
        } else if (in(b0, 0xe1, 0xec) || in(b0, 0xee, 0xef)) {
            length = 3;
        } else if (b0 == 0xed) {
            length = 3, high = 0x9f;
        } else if (b0 == 0xf0) {
            length = 4, low = 0x90;
        } else if (in(b0, 0xf1, 0xf3)) {
            length = 4;
        } else if (b0 == 0xf4) {
            length = 4, high = 0x8f;
        } else {
            return std::nullopt;
        }
        if (i + length > text.size() || (length > 1 && !in(at(i + 1), low, high))) {
            return std::nullopt;
        }
        char32_t code_point = length == 1 ? b0 : b0 & (0xff >> (length + 1));
        for (size_t k = 1; k < length; ++k) {
            if (!in(at(i + k), 0x80, 0xbf)) {
                return std::nullopt;
            }
            code_point = (code_point << 6) | (at(i + k) & 0x3f);
        }
        code_points += code_point;
        i += length;
    }
    return code_points;
}

bool is_noncharacter(char32_t c) {
    return (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

bool is_control(char32_t c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

// Valid UTF-8 as sd-bus checks it: well-formed, no noncharacters.
bool valid_by_table(std::string_view text) {
    const auto code_points = decode_well_formed(text);
    if (!code_points) {
        return false;
    }
    for (char32_t c : *code_points) {
        if (is_noncharacter(c)) {
            return false;
        }
    }
    return true;
}

// What may go in a D-Bus string: valid, and no NUL.
bool sendable(std::string_view text) {
    return valid_by_table(text) && text.find('\0') == std::string_view::npos;
}

bool expected_valid(std::string_view name) {
    const auto code_points = decode_well_formed(name);
    if (!kernel_accepts(name) || !code_points) {
        return false;
    }
    for (char32_t c : *code_points) {
        if (is_noncharacter(c) || is_control(c)) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 4096) {
        return 0;
    }
    const std::string_view name(reinterpret_cast<const char*>(data), size);
    const std::optional<std::string> reason = xconnect::invalid_interface_name_reason(name);
    const std::string shown = xconnect::valid_utf8(name);
    FUZZ_CHECK(reason.has_value() != expected_valid(name), "%s for %s",
               reason ? reason->c_str() : "accepted", xconnect::quote(name).c_str());
    if (reason) {
        FUZZ_CHECK(sendable(*reason), "the message cannot go on the bus: %s",
                   xconnect::valid_utf8(*reason).c_str());
        FUZZ_CHECK(reason->size() <= 4 * xconnect::quote_limit + 120, "a %zu-byte message: %s",
                   reason->size(), reason->c_str());
    }
    const std::string quoted = xconnect::quote(name);
    FUZZ_CHECK(sendable(quoted) && quoted.size() <= 4 * xconnect::quote_limit + 40,
               "quote() gave %zu bytes for %zu", quoted.size(), size);
    FUZZ_CHECK(sendable(shown), "valid_utf8() gave text that cannot go on the bus");
    FUZZ_CHECK(!sendable(name) || shown == name, "valid_utf8() changed sendable text");
    FUZZ_CHECK(xconnect::is_valid_utf8(name) == valid_by_table(name),
               "is_valid_utf8() disagrees with Unicode's table on %s",
               xconnect::quote(name).c_str());
    return 0;
}
