#include "config_watcher.hpp"

#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace xconnect {

namespace {

// Everything by which the file's name can get new content or lose it. Not
// IN_MODIFY: a file being written is read when its writer closes it, so a
// half-written file is never applied.
constexpr uint32_t directory_events = IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                      IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// In the parent: the config directory's name coming and going, and the
// parent's own end.
constexpr uint32_t parent_events = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |
                                   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

UniqueFd new_inotify(const std::filesystem::path& directory) {
    UniqueFd inotify(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify) {
        throw_errno("watch config directory " + directory.string(), "inotify_init1");
    }
    return inotify;
}

}  // namespace

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, std::filesystem::path file,
                             std::chrono::milliseconds settle_time, Callback on_change)
    : file_(std::filesystem::absolute(file)),
      directory_(file_.parent_path()),
      settle_time_(settle_time),
      on_change_(std::move(on_change)),
      inotify_(io, new_inotify(directory_).release()),
      settle_timer_(io) {
    std::error_code error;
    if (std::filesystem::create_directories(directory_, error); error) {
        throw SystemError("create config directory " + directory_.string(), "mkdir", error.value());
    }
    directory_watch_ =
        inotify_add_watch(inotify_.native_handle(), directory_.c_str(), directory_events);
    if (directory_watch_ < 0) {
        throw_errno("watch config directory " + directory_.string(), "inotify_add_watch");
    }
    if (const auto parent = directory_.parent_path(); parent != directory_) {
        parent_watch_ = inotify_add_watch(inotify_.native_handle(), parent.c_str(), parent_events);
        if (parent_watch_ < 0) {
            // Not fatal: only a removed and re-created directory goes unseen.
            log::warning("watch ", parent.string(), " for config directory ", directory_.string(),
                         " coming back: inotify_add_watch: ", errno_text(errno));
        }
    }
    wait_for_events();
}

void ConfigWatcher::wait_for_events() {
    inotify_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                        [this](const boost::system::error_code& error) {
                            if (error == boost::asio::error::operation_aborted) {
                                return;
                            }
                            if (error) {
                                log::error("config watcher: ", error.message());
                                return;
                            }
                            handle_events();
                            wait_for_events();
                        });
}

bool ConfigWatcher::rewatch_directory() {
    if (directory_watch_ >= 0) {
        // Whatever it watched is not the directory by that name any more.
        inotify_rm_watch(inotify_.native_handle(), directory_watch_);
        directory_watch_ = -1;
    }
    directory_watch_ =
        inotify_add_watch(inotify_.native_handle(), directory_.c_str(), directory_events);
    if (directory_watch_ < 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            log::error("watch config directory ", directory_.string(),
                       " again: inotify_add_watch: ", errno_text(errno));
        }
        return false;
    }
    log::info("config directory ", directory_.string(), " is back: watching ", file_.string(),
              " again");
    return true;
}

void ConfigWatcher::directory_gone(const char* how) {
    if (directory_watch_ >= 0) {
        inotify_rm_watch(inotify_.native_handle(), directory_watch_);
        directory_watch_ = -1;
    }
    if (parent_watch_ >= 0) {
        log::warning("config directory ", directory_.string(), " was ", how,
                     ": waiting for it to come back to look at ", file_.string(), " again");
    } else {
        log::warning("config directory ", directory_.string(), " was ", how,
                     ": no longer watching ", file_.string(), " (SIGHUP reloads it)");
    }
}

void ConfigWatcher::handle_events() {
    bool file_touched = false;
    for (;;) {
        const ssize_t length = ::read(inotify_.native_handle(), buffer_.data(), buffer_.size());
        if (length < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                log::error("config watcher: read inotify events: ", errno_text(errno));
            }
            break;
        }
        for (ssize_t offset = 0; offset < length;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
            const bool names_file = event->len > 0 && file_.filename() == event->name;
            const bool names_directory = event->len > 0 && directory_.filename() == event->name;
            if (event->mask & IN_Q_OVERFLOW) {
                // Events were lost: find out where the directory stands.
                file_touched = true;
                if (directory_watch_ < 0) {
                    rewatch_directory();
                }
            } else if (event->wd == directory_watch_ && directory_watch_ >= 0) {
                if (event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                    // This or the parent's event, whichever comes first, tells it.
                    directory_gone((event->mask & IN_MOVE_SELF) ? "moved away" : "removed");
                    file_touched = true;
                } else if (names_file) {
                    file_touched = true;
                }
            } else if (event->wd == parent_watch_ && parent_watch_ >= 0) {
                if (event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                    parent_watch_ = -1;
                    log::warning("the parent of config directory ", directory_.string(),
                                 " was removed or moved: a re-created config directory will "
                                 "not be noticed (SIGHUP reloads ",
                                 file_.string(), ")");
                } else if (names_directory && (event->mask & (IN_DELETE | IN_MOVED_FROM))) {
                    if (directory_watch_ >= 0) {
                        directory_gone((event->mask & IN_MOVED_FROM) ? "moved away" : "removed");
                        file_touched = true;
                    }
                } else if (names_directory && (event->mask & (IN_CREATE | IN_MOVED_TO))) {
                    // Even if the old watch still stands (its removal not yet
                    // seen): the name now means this directory.
                    if (rewatch_directory()) {
                        file_touched = true;  // it may hold the file already
                    }
                }
            }
        }
    }
    if (file_touched) {
        // Let a burst settle (truncate-and-close then write-and-close, create
        // then close) so it costs one reload, not one per event.
        settle_timer_.expires_after(settle_time_);
        settle_timer_.async_wait([this](const boost::system::error_code& error) {
            if (!error) {
                on_change_();
            }
        });
    }
}

}  // namespace xconnect
