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
constexpr uint32_t watched_events = IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                    IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;

UniqueFd watch_directory(const std::filesystem::path& directory) {
    std::error_code error;
    if (std::filesystem::create_directories(directory, error); error) {
        throw SystemError("create config directory " + directory.string(), "mkdir", error.value());
    }
    UniqueFd inotify(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify) {
        throw_errno("watch config directory " + directory.string(), "inotify_init1");
    }
    if (inotify_add_watch(inotify.get(), directory.c_str(), watched_events) < 0) {
        throw_errno("watch config directory " + directory.string(), "inotify_add_watch");
    }
    return inotify;
}

}  // namespace

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, std::filesystem::path file,
                             std::chrono::milliseconds settle_time, Callback on_change)
    : file_(std::move(file)),
      settle_time_(settle_time),
      on_change_(std::move(on_change)),
      inotify_(io, watch_directory(file_.parent_path()).release()),
      settle_timer_(io) {
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
            if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                log::warning("config directory ", file_.parent_path().string(),
                             " was removed or moved: no longer watching ", file_.string(),
                             " (SIGHUP reloads it)");
            } else if (event->mask & IN_Q_OVERFLOW) {
                file_touched = true;  // events were lost: look at the file anyway
            } else if (event->len > 0 && file_.filename() == event->name) {
                file_touched = true;
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
