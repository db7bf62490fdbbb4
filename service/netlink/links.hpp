#pragma once

// rtnetlink link messages, parsed with libmnl: the engine's view of links.

#include <linux/netlink.h>

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

// NETLINK_ROUTE socket bound to `groups` (0: none, only requests). Throws SystemError.
MnlSocket open_route_socket(unsigned groups);

// RTM_NEWLINK/RTM_DELLINK payload -> LinkInfo; nullopt for a message that is
// not a link or carries no name.
std::optional<LinkInfo> parse_link(const nlmsghdr* message);

// Every link in this network namespace, now. Throws SystemError.
std::vector<LinkInfo> dump_links();

}  // namespace xconnect::netlink
