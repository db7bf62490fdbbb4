#include "link_monitor.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "engine/engine.hpp"
#include "links.hpp"

namespace xconnect {

namespace {

UniqueFd subscribe_to_links(int receive_buffer) {
    UniqueFd socket(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
    if (!socket) {
        throw_errno("open link monitor", "socket(AF_NETLINK)");
    }
    // FORCE lifts net.core.rmem_max for a privileged daemon; without the
    // privilege, take what the sysctl allows.
    if (setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                   sizeof receive_buffer) != 0 &&
        setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) !=
            0) {
        throw_errno("size link monitor buffer", "setsockopt(SO_RCVBUF)");
    }
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_groups = RTMGRP_LINK;
    if (bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw_errno("subscribe to link events", "bind(RTMGRP_LINK)");
    }
    return socket;
}

}  // namespace

LinkMonitor::LinkMonitor(boost::asio::io_context& io, Engine& engine, int receive_buffer)
    : engine_(engine),
      socket_(io, subscribe_to_links(receive_buffer).release()),
      buffer_(64 * 1024) {
    engine_.set_links(netlink::dump_links());
    wait_for_events();
}

void LinkMonitor::wait_for_events() {
    socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& error) {
                           if (error == boost::asio::error::operation_aborted) {
                               return;
                           }
                           if (error) {
                               log::error("link monitor: ", error.message());
                               return;
                           }
                           read_events();
                           wait_for_events();
                       });
}

void LinkMonitor::read_events() {
    for (;;) {
        // MSG_TRUNC: the length of the datagram even if it did not fit.
        const ssize_t length =
            recv(socket_.native_handle(), buffer_.data(), buffer_.size(), MSG_TRUNC);
        if (length < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }
            if (errno == ENOBUFS) {
                resync_after_overrun();
                continue;
            }
            log::error("link monitor: recv: ", errno_text(errno));
            return;
        }
        if (static_cast<size_t>(length) > buffer_.size()) {
            log::warning("link monitor: a ", length, "-byte message did not fit");
            resync_after_overrun();
            continue;
        }
        handle_datagram(buffer_.data(), static_cast<size_t>(length));
    }
}

void LinkMonitor::handle_datagram(const char* data, size_t length) {
    const netlink::ParsedDatagram parsed = netlink::parse_link_datagram(data, length);
    for (const netlink::LinkEvent& event : parsed.events) {
        if (event.kind == netlink::LinkEvent::Kind::changed) {
            engine_.link_changed(event.link);
        } else {
            engine_.link_removed(event.link.ifindex);
        }
    }
    if (parsed.error != 0) {
        log::warning("link monitor: malformed netlink message: ", errno_text(parsed.error));
    }
}

void LinkMonitor::resync_after_overrun() {
    ++resyncs_;
    log::warning(
        "link monitor: receive buffer overrun, link events were lost; "
        "resynchronising from a full dump");
    // What is still queued is older than the dump, and news lost in between
    // would make replaying it wrong: drop it. Later news is replayed on top.
    while (recv(socket_.native_handle(), buffer_.data(), buffer_.size(), 0) > 0 ||
           errno == ENOBUFS || errno == EINTR) {
    }
    try {
        engine_.set_links(netlink::dump_links());
    } catch (const std::exception& error) {
        log::error("link monitor: resynchronising: ", error.what());
    }
}

}  // namespace xconnect
