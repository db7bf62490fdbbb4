#pragma once

// Input echoed in error messages and logs: bounded, and always valid UTF-8
// (sd-bus refuses to send a string that is not, and a log line should not
// carry terminal control sequences from a config file).

#include <cstddef>
#include <string>
#include <string_view>

namespace xconnect {

// How many bytes of an input quote() shows at most.
inline constexpr size_t quote_limit = 64;

// "text" for a message. Shows at most `limit` bytes of `text`, cut on a
// UTF-8 character boundary; a longer input ends in … and its length:
// "xxxx…" (100000 bytes). Bytes that are not valid UTF-8, ASCII and C1
// control characters, '"' and '\' are escaped (\xNN, \u0085, \", \\), so
// the result is valid UTF-8 and says unambiguously what the input was. The
// result has at most 4 * limit + 40 bytes.
std::string quote(std::string_view text, size_t limit = quote_limit);

// `message` with every byte that is not part of a valid UTF-8 character, and
// every NUL, written as \xNN; everything else is kept as is. For messages
// assembled from pieces that may not all have been quoted (library errors,
// file names), at a boundary that needs UTF-8.
std::string valid_utf8(std::string_view message);

// Strict UTF-8, as sd-bus checks it: shortest form only, no UTF-16
// surrogates, nothing above U+10FFFF, no noncharacters (U+FDD0..U+FDEF,
// U+xxFFFE, U+xxFFFF). NUL counts as valid here.
bool is_valid_utf8(std::string_view text);

// The length of the valid UTF-8 character (by the rule above) at the start of
// `text`, or 0 when it does not start with one (or is empty).
size_t utf8_character_length(std::string_view text);

}  // namespace xconnect
