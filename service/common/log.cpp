#include "log.hpp"

#include <cstdio>

namespace xconnect::log {

namespace {
Level max_level = Level::info;
}

void set_max_level(Level level) {
    max_level = level;
}

void write(Level level, std::string_view message) {
    if (static_cast<int>(level) > static_cast<int>(max_level)) {
        return;
    }
    // One fprintf per line keeps lines whole; stderr is unbuffered.
    std::fprintf(stderr, "<%d>%.*s\n", static_cast<int>(level), static_cast<int>(message.size()),
                 message.data());
}

}  // namespace xconnect::log
