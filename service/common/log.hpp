#pragma once

#include <sys/types.h>

#include <sstream>
#include <string>
#include <string_view>

namespace xconnect::log {

// sd-daemon(3) priority levels. Where stderr is the journal, a line goes out
// as "<N>message" and journald files it by level; anywhere else (a terminal,
// apt's output, a pipe) as "error: message", "warning: message" or, at notice
// and info level, the message alone.
enum class Level { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_max_level(Level level);
void write(Level level, std::string_view message);

// Whether a JOURNAL_STREAM value ("DEVICE:INODE", or nullptr) names this
// stream.
bool journal_stream_names(const char* journal_stream, dev_t device, ino_t inode);
// What a line of `level` starts with outside the journal.
const char* console_prefix(Level level);

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
