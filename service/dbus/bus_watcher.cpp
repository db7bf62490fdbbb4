#include "bus_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string_view>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace xconnect {

namespace {

constexpr int retries_after_an_event = 6;  // 50 ms ... 1.6 s
constexpr std::chrono::milliseconds first_retry{50};

UniqueFd watch(const std::filesystem::path& directory) {
    UniqueFd inotify(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify) {
        throw_errno("watch " + directory.string() + " for the system bus", "inotify_init1");
    }
    if (inotify_add_watch(inotify.get(), directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_ATTRIB) <
        0) {
        throw_errno("watch " + directory.string() + " for the system bus", "inotify_add_watch");
    }
    return inotify;
}

}  // namespace

std::optional<std::filesystem::path> BusWatcher::system_bus_socket() {
    const char* configured = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    std::string_view addresses = configured ? configured : "unix:path=/run/dbus/system_bus_socket";
    // "unix:path=/x,guid=...;unix:abstract=..." : the first unix:path.
    while (!addresses.empty()) {
        const std::string_view address = addresses.substr(0, addresses.find(';'));
        addresses.remove_prefix(std::min(addresses.size(), address.size() + 1));
        if (!address.starts_with("unix:")) {
            continue;
        }
        std::string_view keys = address.substr(5);
        while (!keys.empty()) {
            const std::string_view key = keys.substr(0, keys.find(','));
            keys.remove_prefix(std::min(keys.size(), key.size() + 1));
            if (key.starts_with("path=")) {
                return std::filesystem::path(std::string(key.substr(5)));
            }
        }
    }
    return std::nullopt;
}

BusWatcher::BusWatcher(boost::asio::io_context& io, std::filesystem::path socket,
                       std::function<bool()> try_connect)
    : socket_(std::move(socket)),
      try_connect_(std::move(try_connect)),
      inotify_(io, watch(socket_.parent_path()).release()),
      retry_timer_(io) {
    wait_for_events();
    retries_left_ = retries_after_an_event;
    attempt();
}

void BusWatcher::wait_for_events() {
    inotify_.async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [this](const boost::system::error_code& error) {
            if (error || connected_) {
                return;
            }
            bool socket_touched = false;
            for (ssize_t length;
                 (length = ::read(inotify_.native_handle(), buffer_.data(), buffer_.size())) > 0;) {
                for (ssize_t offset = 0; offset < length;) {
                    const auto* event =
                        reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
                    offset += static_cast<ssize_t>(sizeof *event + event->len);
                    socket_touched |= event->len > 0 && socket_.filename() == event->name;
                }
            }
            if (socket_touched) {
                retries_left_ = retries_after_an_event;
                retry_timer_.cancel();
                attempt();
            }
            if (!connected_) {
                wait_for_events();
            }
        });
}

void BusWatcher::attempt() {
    if (connected_ || (connected_ = try_connect_())) {
        return;
    }
    if (retries_left_ <= 0) {
        return;  // until the socket is created again
    }
    const int done = retries_after_an_event - retries_left_--;
    retry_timer_.expires_after(first_retry * (1 << done));
    retry_timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error) {
            attempt();
        }
    });
}

}  // namespace xconnect
