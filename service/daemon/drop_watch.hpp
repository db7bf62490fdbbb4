#pragma once

// Keeps the pairs' DropReason current: the drop monitor's events fd wakes it
// at a pair's first drop (the kernel pushes), then it reviews once a second
// while any pair is losing frames, and sleeps again (re-arming the monitor)
// once none is.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "engine/engine.hpp"
#include "loader/drop_monitor.hpp"

namespace xconnect {

class DropWatch {
  public:
    // Throws SystemError.
    DropWatch(boost::asio::io_context& io, DropMonitor& monitor, Engine& engine);
    DropWatch(const DropWatch&) = delete;
    DropWatch& operator=(const DropWatch&) = delete;

  private:
    void wait_for_drops();
    void review();

    DropMonitor& monitor_;
    Engine& engine_;
    boost::asio::posix::stream_descriptor events_;  // a dup of the monitor's epoll fd
    boost::asio::steady_timer tick_;
    bool ticking_ = false;
};

}  // namespace xconnect
