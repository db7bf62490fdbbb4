#pragma once

// rtnetlink link messages, parsed with libmnl: the engine's view of links.

#include <linux/netlink.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "engine/model.hpp"

struct mnl_socket;

namespace xconnect::netlink {

// Link monitor socket buffer: big enough that a burst of a few thousand link
// events normally fits (an RTM_NEWLINK costs a few KiB of buffer).
inline constexpr int default_monitor_buffer = 8 * 1024 * 1024;

struct MnlSocketCloser {
    void operator()(mnl_socket* socket) const noexcept;
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlSocketCloser>;

// NETLINK_ROUTE socket for requests (no multicast groups). Throws SystemError.
MnlSocket open_route_socket();

// RTM_NEWLINK/RTM_DELLINK payload -> LinkInfo; nullopt for a message that is
// not a link or carries no name.
std::optional<LinkInfo> parse_link(const nlmsghdr* message);

// What one rtnetlink message on the link monitor socket says.
struct LinkEvent {
    enum class Kind { changed, removed };
    Kind kind;
    LinkInfo link;  // changed: all of it; removed: ifindex only
    bool operator==(const LinkEvent&) const = default;
};

struct ParsedDatagram {
    std::vector<LinkEvent> events;  // in the order of the messages
    // Set when a malformed message (or an NLMSG_ERROR) stopped the parse:
    // events holds what came before it. The errno value, as libmnl reports it.
    int error = 0;
};

// One datagram as received from an RTMGRP_LINK socket (multicast news:
// sequence and port 0), each RTM_NEWLINK a changed link, each RTM_DELLINK a
// removed ifindex; other messages and families are skipped. `data` must be
// aligned as a receive buffer (NLMSG_ALIGNTO). The one parser the link
// monitor uses, and what fuzz-netlink feeds.
ParsedDatagram parse_link_datagram(const char* data, size_t length);

// Every link in this network namespace, now. Throws SystemError.
std::vector<LinkInfo> dump_links();

}  // namespace xconnect::netlink
