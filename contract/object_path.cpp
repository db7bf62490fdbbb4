#include "object_path.hpp"

namespace xconnect {

std::string escape_path_element(std::string_view text) {
    if (text.empty()) {
        return "_";
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string escaped;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
            (byte >= '0' && byte <= '9')) {
            escaped += c;
        } else {
            escaped += '_';
            escaped += hex[byte >> 4];
            escaped += hex[byte & 15];
        }
    }
    return escaped;
}

std::string pair_path(std::string_view left) {
    return pair_path_prefix + escape_path_element(left);
}

}  // namespace xconnect
