#pragma once

// Follows every link of this network namespace as the kernel announces it
// (rtnetlink RTMGRP_LINK) and feeds the engine: interfaces that appear,
// vanish, get recreated, renamed, go down or up, or whose XDP program changes.
// Subscribes first, then dumps, so no event can fall between the two; a
// receive-buffer overrun (ENOBUFS) drops what is queued and dumps again.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <vector>

#include "links.hpp"

namespace xconnect {

class Engine;

class LinkMonitor {
  public:
    // Subscribes, then hands the engine a full dump. Throws SystemError.
    LinkMonitor(boost::asio::io_context& io, Engine& engine,
                int receive_buffer = netlink::default_monitor_buffer);
    LinkMonitor(const LinkMonitor&) = delete;
    LinkMonitor& operator=(const LinkMonitor&) = delete;

    // How many times an overrun forced a full resynchronisation.
    size_t resyncs() const { return resyncs_; }

  private:
    void wait_for_events();
    void read_events();
    void handle_datagram(const char* data, size_t length);
    void resync_after_overrun();

    Engine& engine_;
    boost::asio::posix::stream_descriptor socket_;  // owns the netlink socket
    std::vector<char> buffer_;
    size_t resyncs_ = 0;
};

}  // namespace xconnect
