#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace xconnect::log {

namespace {

Level max_level = Level::info;

// Whether stderr is connected to the journal, decided once, as systemd's own
// tools decide it: JOURNAL_STREAM (systemd.exec(5)) names the device and
// inode of the stream the service manager connected, and fd 2 is still it.
bool stderr_is_journal() {
    struct stat stream {};
    return fstat(STDERR_FILENO, &stream) == 0 &&
           journal_stream_names(std::getenv("JOURNAL_STREAM"), stream.st_dev, stream.st_ino);
}

}  // namespace

bool journal_stream_names(const char* journal_stream, dev_t device, ino_t inode) {
    unsigned long long named_device = 0;
    unsigned long long named_inode = 0;
    char rest = 0;
    return journal_stream != nullptr &&
           std::sscanf(journal_stream, "%llu:%llu%c", &named_device, &named_inode, &rest) == 2 &&
           named_device == device && named_inode == inode;
}

const char* console_prefix(Level level) {
    switch (level) {
        case Level::err:
            return "error: ";
        case Level::warning:
            return "warning: ";
        case Level::debug:
            return "debug: ";
        case Level::notice:
        case Level::info:
            break;
    }
    return "";
}

void set_max_level(Level level) {
    max_level = level;
}

void write(Level level, std::string_view message) {
    if (static_cast<int>(level) > static_cast<int>(max_level)) {
        return;
    }
    static const bool to_journal = stderr_is_journal();
    // One fprintf per line keeps lines whole; stderr is unbuffered.
    if (to_journal) {
        std::fprintf(stderr, "<%d>%.*s\n", static_cast<int>(level),
                     static_cast<int>(message.size()), message.data());
    } else {
        std::fprintf(stderr, "%s%.*s\n", console_prefix(level), static_cast<int>(message.size()),
                     message.data());
    }
}

}  // namespace xconnect::log
