#pragma once

// Waits for the system bus to come back after dbus-daemon went away: the
// kernel tells (inotify) when its socket file is created again, then the
// owner tries to connect. A try can come a moment too early (the socket is
// bound but not yet listening), so a failed one is repeated a few times
// with a growing delay; after that, the next creation of the socket.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <optional>

namespace xconnect {

class BusWatcher {
  public:
    // The socket file of the system bus address (DBUS_SYSTEM_BUS_ADDRESS or
    // the default); nullopt when it names none (abstract socket, TCP).
    static std::optional<std::filesystem::path> system_bus_socket();

    // Watches `socket`; calls `try_connect` now and then as described above
    // until it returns true. Throws SystemError if it cannot watch.
    BusWatcher(boost::asio::io_context& io, std::filesystem::path socket,
               std::function<bool()> try_connect);
    BusWatcher(const BusWatcher&) = delete;
    BusWatcher& operator=(const BusWatcher&) = delete;

  private:
    void wait_for_events();
    void attempt();

    std::filesystem::path socket_;
    std::function<bool()> try_connect_;
    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer retry_timer_;
    int retries_left_ = 0;
    bool connected_ = false;
    alignas(8) std::array<char, 4096> buffer_;
};

}  // namespace xconnect
