#pragma once

// Runs an sdbus-c++ connection inside the daemon's one Boost.Asio io_context,
// as openbmc's sdbusplus does: the bus fd in a stream_descriptor that is
// released (never closed) on destruction, a timer at sd-bus's absolute
// timeout, processPendingRequest() until nothing is pending, and the poll data
// read afresh each pass.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>

namespace sdbus {
class IConnection;
}

namespace xconnect {

class BusLoop {
  public:
    // `after_each_message` runs after every message sd-bus dispatched (and
    // after each pass), when no bus callback is on the stack. `lost` runs
    // once when the connection breaks (the bus went away); the loop then
    // leaves the connection alone, and may be destroyed from a later handler.
    BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection,
            std::function<void()> after_each_message, std::function<void()> lost);
    ~BusLoop();
    BusLoop(const BusLoop&) = delete;
    BusLoop& operator=(const BusLoop&) = delete;

    // Something was queued on the bus, perhaps from outside a bus callback (a
    // signal emitted because a link changed), which no poll registration
    // covers yet: process and re-arm soon.
    void wake();

  private:
    void process();
    void arm();

    boost::asio::io_context& io_;
    sdbus::IConnection& connection_;
    std::function<void()> after_each_message_;
    std::function<void()> lost_;
    bool broken_ = false;
    boost::asio::posix::stream_descriptor descriptor_;  // sd-bus owns the fd
    boost::asio::steady_timer timer_;
    uint64_t generation_ = 0;  // completions of an older arm() are stale
    bool wake_pending_ = false;
};

}  // namespace xconnect
