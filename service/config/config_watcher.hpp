#pragma once

// Tells when the config file may have changed. It watches the file's
// directory, not the file, so editors that replace the file by rename, `cp`
// over it, truncate-then-write and deletion are all seen. A file is looked at
// when its writer closes it, never half-written, and a burst of events is
// debounced into one call. It also watches the directory's parent for the
// directory's name, so a config directory removed (or moved away) and created
// again is followed, and the file in it looked at.

#include <sys/inotify.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>

namespace xconnect {

class ConfigWatcher {
  public:
    using Callback = std::function<void()>;

    // Creates the file's directory if it does not exist. Throws SystemError.
    ConfigWatcher(boost::asio::io_context& io, std::filesystem::path file,
                  std::chrono::milliseconds settle_time, Callback on_change);
    ConfigWatcher(const ConfigWatcher&) = delete;
    ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  private:
    void wait_for_events();
    void handle_events();
    // Watches the directory again if it exists now; true if it does.
    bool rewatch_directory();
    void directory_gone(const char* how);

    std::filesystem::path file_;
    std::filesystem::path directory_;
    std::chrono::milliseconds settle_time_;
    Callback on_change_;
    boost::asio::posix::stream_descriptor inotify_;  // owns the inotify fd
    int directory_watch_ = -1;                       // -1 while the directory is gone
    int parent_watch_ = -1;  // -1 for "/", or when the parent itself is gone
    boost::asio::steady_timer settle_timer_;
    alignas(inotify_event) std::array<char, 16 * 1024> buffer_;
};

}  // namespace xconnect
