#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace xconnect::log {

// sd-daemon(3) priority levels: journald files "<N>message" on stderr by level.
enum class Level { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_max_level(Level level);
void write(Level level, std::string_view message);

template <typename... Parts>
void emit(Level level, const Parts&... parts) {
    std::ostringstream line;
    (line << ... << parts);
    write(level, line.str());
}

template <typename... Parts>
void error(const Parts&... parts) {
    emit(Level::err, parts...);
}
template <typename... Parts>
void warning(const Parts&... parts) {
    emit(Level::warning, parts...);
}
template <typename... Parts>
void notice(const Parts&... parts) {
    emit(Level::notice, parts...);
}
template <typename... Parts>
void info(const Parts&... parts) {
    emit(Level::info, parts...);
}
template <typename... Parts>
void debug(const Parts&... parts) {
    emit(Level::debug, parts...);
}

}  // namespace xconnect::log
