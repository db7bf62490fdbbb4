#include "quote.hpp"

#include <cstdint>

namespace xconnect {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char byte) {
    out += "\\x";
    out += hex_digits[byte >> 4];
    out += hex_digits[byte & 15];
}

bool is_noncharacter(uint32_t code_point) {
    return (code_point >= 0xFDD0 && code_point <= 0xFDEF) || (code_point & 0xFFFE) == 0xFFFE;
}

}  // namespace

size_t utf8_character_length(std::string_view text) {
    if (text.empty()) {
        return 0;
    }
    const auto lead = static_cast<unsigned char>(text[0]);
    if (lead < 0x80) {
        return 1;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    uint32_t smallest = 0;  // below this the same character had a shorter form
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        code_point = lead & 0x1F;
        smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        code_point = lead & 0x0F;
        smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        code_point = lead & 0x07;
        smallest = 0x10000;
    } else {
        return 0;  // a continuation byte, or 0xF8..0xFF
    }
    if (text.size() < length) {
        return 0;
    }
    for (size_t i = 1; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if ((byte & 0xC0) != 0x80) {
            return 0;
        }
        code_point = (code_point << 6) | (byte & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF) || is_noncharacter(code_point)) {
        return 0;
    }
    return length;
}

bool is_valid_utf8(std::string_view text) {
    while (!text.empty()) {
        const size_t length = utf8_character_length(text);
        if (length == 0) {
            return false;
        }
        text.remove_prefix(length);
    }
    return true;
}

std::string valid_utf8(std::string_view message) {
    std::string out;
    out.reserve(message.size());
    while (!message.empty()) {
        const size_t length = utf8_character_length(message);
        if (length == 0 || message[0] == '\0') {
            append_hex_escape(out, static_cast<unsigned char>(message[0]));
            message.remove_prefix(1);
        } else {
            out.append(message.substr(0, length));
            message.remove_prefix(length);
        }
    }
    return out;
}

std::string quote(std::string_view text, size_t limit) {
    std::string out = "\"";
    std::string_view rest = text;
    size_t shown = 0;
    while (!rest.empty()) {
        const size_t length = utf8_character_length(rest);
        const size_t taken = length == 0 ? 1 : length;
        if (shown + taken > limit) {
            break;  // never cut a character in two
        }
        const auto lead = static_cast<unsigned char>(rest[0]);
        if (length == 0 || lead < 0x20 || lead == 0x7F) {
            append_hex_escape(out, lead);
        } else if (lead == '"' || lead == '\\') {
            out += '\\';
            out += rest[0];
        } else if (lead == 0xC2 && static_cast<unsigned char>(rest[1]) < 0xA0) {
            // U+0080..U+009F, the C1 controls: valid UTF-8 but invisible or worse.
            out += "\\u00";
            out += hex_digits[static_cast<unsigned char>(rest[1]) >> 4];
            out += hex_digits[static_cast<unsigned char>(rest[1]) & 15];
        } else {
            out.append(rest.substr(0, length));
        }
        shown += taken;
        rest.remove_prefix(taken);
    }
    if (rest.empty()) {
        return out + "\"";
    }
    return out + "…\" (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace xconnect
