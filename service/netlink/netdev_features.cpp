#include "netdev_features.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string_view>

#include "attributes.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "engine/model.hpp"

// Where the kernel's header exists (linux-libc-dev >= 6.3), our copy of its
// values must agree with it; Debian 12's has none.
#if __has_include(<linux/netdev.h>)
#include <linux/netdev.h>
namespace xconnect::netlink {
static_assert(std::string_view(netdev_genl::family_name) == NETDEV_FAMILY_NAME);
static_assert(netdev_genl::family_version == NETDEV_FAMILY_VERSION);
static_assert(std::string_view(netdev_genl::mgmt_group) == NETDEV_MCGRP_MGMT);
static_assert(netdev_genl::cmd_dev_get == NETDEV_CMD_DEV_GET);
static_assert(netdev_genl::cmd_dev_add_ntf == NETDEV_CMD_DEV_ADD_NTF);
static_assert(netdev_genl::cmd_dev_del_ntf == NETDEV_CMD_DEV_DEL_NTF);
static_assert(netdev_genl::cmd_dev_change_ntf == NETDEV_CMD_DEV_CHANGE_NTF);
static_assert(netdev_genl::attr_dev_ifindex == NETDEV_A_DEV_IFINDEX);
static_assert(netdev_genl::attr_dev_pad == NETDEV_A_DEV_PAD);
static_assert(netdev_genl::attr_dev_xdp_features == NETDEV_A_DEV_XDP_FEATURES);
static_assert(xdp_feature::basic == NETDEV_XDP_ACT_BASIC);
static_assert(xdp_feature::redirect == NETDEV_XDP_ACT_REDIRECT);
static_assert(xdp_feature::ndo_xmit == NETDEV_XDP_ACT_NDO_XMIT);
static_assert(xdp_feature::xsk_zerocopy == NETDEV_XDP_ACT_XSK_ZEROCOPY);
static_assert(xdp_feature::hw_offload == NETDEV_XDP_ACT_HW_OFFLOAD);
static_assert(xdp_feature::rx_sg == NETDEV_XDP_ACT_RX_SG);
static_assert(xdp_feature::ndo_xmit_sg == NETDEV_XDP_ACT_NDO_XMIT_SG);
}  // namespace xconnect::netlink
#endif

namespace xconnect::netlink {

// The engine names the bits it decides by (model.hpp): the same bits.
static_assert(xdp_feature::basic == xdp_feature_basic);
static_assert(xdp_feature::redirect == xdp_feature_redirect);
static_assert(xdp_feature::ndo_xmit == xdp_feature_ndo_xmit);
static_assert(xdp_feature::rx_sg == xdp_feature_rx_sg);
static_assert(xdp_feature::ndo_xmit_sg == xdp_feature_ndo_xmit_sg);

namespace {

std::optional<uint32_t> u32_attribute(const nlattr* attribute) {
    if (attribute == nullptr || mnl_attr_get_payload_len(attribute) != sizeof(uint32_t)) {
        return std::nullopt;
    }
    return mnl_attr_get_u32(attribute);
}

// A u64 as the spec declares it; 4 bytes are taken as well, as netlink's
// variable-width "uint" would send a small value (the kernel may move to it).
std::optional<uint64_t> u64_attribute(const nlattr* attribute) {
    if (attribute == nullptr) {
        return std::nullopt;
    }
    switch (mnl_attr_get_payload_len(attribute)) {
        case sizeof(uint64_t):
            return mnl_attr_get_u64(attribute);  // memcpy: the payload may be 4-aligned only
        case sizeof(uint32_t):
            return mnl_attr_get_u32(attribute);
        default:
            return std::nullopt;
    }
}

bool is_device_command(uint8_t command) {
    return command == netdev_genl::cmd_dev_get || command == netdev_genl::cmd_dev_add_ntf ||
           command == netdev_genl::cmd_dev_del_ntf || command == netdev_genl::cmd_dev_change_ntf;
}

// The errno of an NLMSG_ERROR or NLMSG_DONE payload (the kernel sends
// -errno); beyond MAX_ERRNO (4095) it is no errno, and -INT_MIN would overflow.
int errno_from_kernel(int code) {
    if (code < -4095 || code > 4095) {
        return EBADMSG;
    }
    return code < 0 ? -code : code;
}

// Walks the messages of one datagram as parse_link_datagram() does (see
// there why not mnl_cb_run()): lengths checked against the datagram, a
// message that stops short of its aligned end parsed from a zero-padded copy
// (libmnl walks attributes up to it). `visit` sees each message of the
// family range; control messages end the walk as their kind says.
template <typename Visit>
void walk_datagram(const char* data, size_t length, bool& broken, bool& done, bool& interrupted,
                   int& error, Visit visit) {
    size_t offset = 0;
    std::vector<char> padded;
    while (length - offset >= sizeof(nlmsghdr)) {
        const auto* message = reinterpret_cast<const nlmsghdr*>(data + offset);
        const size_t message_length = message->nlmsg_len;
        if (message_length < sizeof(nlmsghdr) || message_length > length - offset) {
            broken = true;
            return;
        }
        if (NLMSG_ALIGN(message_length) > length - offset) {
            padded.assign(NLMSG_ALIGN(message_length), '\0');
            std::memcpy(padded.data(), message, message_length);
            message = reinterpret_cast<const nlmsghdr*>(padded.data());
        }
        if (message->nlmsg_flags & NLM_F_DUMP_INTR) {
            interrupted = true;
        }
        if (message->nlmsg_type >= NLMSG_MIN_TYPE) {
            visit(message);
        } else if (message->nlmsg_type == NLMSG_DONE) {
            done = true;
            // A dump that failed midway says why in the DONE message.
            if (message_length >= NLMSG_LENGTH(sizeof(int))) {
                int code;
                std::memcpy(&code, mnl_nlmsg_get_payload(message), sizeof code);
                error = errno_from_kernel(code);
            }
            return;
        } else if (message->nlmsg_type == NLMSG_ERROR) {
            if (message_length < NLMSG_LENGTH(sizeof(nlmsgerr))) {
                broken = true;
            } else {
                const auto* header = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
                error = errno_from_kernel(header->error);
            }
            return;
        }
        offset += std::min(NLMSG_ALIGN(message_length), length - offset);
    }
}

constexpr std::array<const char*, 7> feature_names = {
    "basic", "redirect", "ndo-xmit", "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg"};

}  // namespace

std::string xdp_features_text(uint64_t features) {
    if (features == 0) {
        return "none";
    }
    std::ostringstream text;
    const char* separator = "";
    for (size_t bit = 0; bit < feature_names.size(); ++bit) {
        if (features & (uint64_t{1} << bit)) {
            text << separator << feature_names[bit];
            separator = ", ";
        }
    }
    if (const uint64_t unknown = features >> feature_names.size() << feature_names.size()) {
        text << separator << "0x" << std::hex << unknown;
    }
    return text.str();
}

std::optional<NetdevEvent> parse_netdev_message(const nlmsghdr* message, uint16_t family_id) {
    if (message->nlmsg_type != family_id || message->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
        return std::nullopt;
    }
    const auto* header = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(message));
    NetdevEvent event{};
    switch (header->cmd) {
        case netdev_genl::cmd_dev_get:
        case netdev_genl::cmd_dev_add_ntf:
            event.kind = NetdevEvent::Kind::present;
            break;
        case netdev_genl::cmd_dev_change_ntf:
            event.kind = NetdevEvent::Kind::changed;
            break;
        case netdev_genl::cmd_dev_del_ntf:
            event.kind = NetdevEvent::Kind::removed;
            break;
        default:
            return std::nullopt;  // page pools, queues, NAPIs: not devices
    }
    const nlattr* attributes[netdev_genl::attr_dev_max + 1] = {};
    mnl_attr_parse(message, GENL_HDRLEN, collect_attribute<netdev_genl::attr_dev_max>, attributes);
    const std::optional<uint32_t> ifindex =
        u32_attribute(attributes[netdev_genl::attr_dev_ifindex]);
    if (!ifindex || *ifindex == 0) {
        return std::nullopt;
    }
    event.device.ifindex = *ifindex;
    const std::optional<uint64_t> features =
        u64_attribute(attributes[netdev_genl::attr_dev_xdp_features]);
    if (features) {
        event.device.xdp_features = *features;
    } else if (event.kind != NetdevEvent::Kind::removed ||
               attributes[netdev_genl::attr_dev_xdp_features] != nullptr) {
        return std::nullopt;  // absent, or of the wrong size
    }
    return event;
}

ParsedNetdevDatagram parse_netdev_datagram(const char* data, size_t length, uint16_t family_id) {
    ParsedNetdevDatagram parsed;
    walk_datagram(data, length, parsed.broken, parsed.done, parsed.interrupted, parsed.error,
                  [&](const nlmsghdr* message) {
                      if (message->nlmsg_type != family_id) {
                          return;
                      }
                      if (message->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
                          ++parsed.malformed;
                          return;
                      }
                      const auto* header =
                          static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(message));
                      if (!is_device_command(header->cmd)) {
                          return;
                      }
                      if (auto event = parse_netdev_message(message, family_id)) {
                          parsed.events.push_back(*event);
                      } else {
                          ++parsed.malformed;
                      }
                  });
    return parsed;
}

namespace {

// One CTRL_ATTR_MCAST_GROUPS entry: {name, id}, when both are valid.
std::optional<std::pair<std::string, uint32_t>> multicast_group(const nlattr* entry) {
    const nlattr* group[CTRL_ATTR_MCAST_GRP_MAX + 1] = {};
    if (mnl_attr_parse_nested(entry, collect_attribute<CTRL_ATTR_MCAST_GRP_MAX>, group) < 0) {
        return std::nullopt;
    }
    const nlattr* name = group[CTRL_ATTR_MCAST_GRP_NAME];
    const std::optional<uint32_t> id = u32_attribute(group[CTRL_ATTR_MCAST_GRP_ID]);
    if (name == nullptr || !id) {
        return std::nullopt;
    }
    // The text up to its NUL, within the attribute: a message need not end it.
    const auto* text = static_cast<const char*>(mnl_attr_get_payload(name));
    return std::pair{std::string(text, strnlen(text, mnl_attr_get_payload_len(name))), *id};
}

struct GroupSearch {
    const std::string& name;
    std::optional<uint32_t> id;
};

// mnl_attr_parse_nested() callback over CTRL_ATTR_MCAST_GROUPS.
int find_group(const nlattr* entry, void* data) {
    auto* search = static_cast<GroupSearch*>(data);
    if (auto group = multicast_group(entry); group && group->first == search->name) {
        search->id = group->second;
        return MNL_CB_STOP;
    }
    return MNL_CB_OK;
}

}  // namespace

FamilyReply parse_family_reply(const char* data, size_t length, const std::string& group_name) {
    FamilyReply reply;
    bool seen_family = false;
    bool broken = false;
    bool done = false;
    bool interrupted = false;
    int error = 0;
    walk_datagram(data, length, broken, done, interrupted, error, [&](const nlmsghdr* message) {
        if (seen_family || message->nlmsg_type != GENL_ID_CTRL ||
            message->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
            return;
        }
        const auto* header = static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(message));
        if (header->cmd != CTRL_CMD_NEWFAMILY) {
            return;
        }
        seen_family = true;
        const nlattr* attributes[CTRL_ATTR_MAX + 1] = {};
        mnl_attr_parse(message, GENL_HDRLEN, collect_attribute<CTRL_ATTR_MAX>, attributes);
        const nlattr* id = attributes[CTRL_ATTR_FAMILY_ID];
        const nlattr* groups = attributes[CTRL_ATTR_MCAST_GROUPS];
        if (id == nullptr || mnl_attr_get_payload_len(id) != sizeof(uint16_t) ||
            groups == nullptr) {
            return;
        }
        GroupSearch search{group_name, std::nullopt};
        mnl_attr_parse_nested(groups, find_group, &search);
        if (search.id) {
            reply.family = GenericFamily{mnl_attr_get_u16(id), *search.id};
        }
    });
    if (reply.family) {
        return reply;
    }
    if (error != 0) {
        reply.error = error;
    } else if (broken) {
        reply.error = EBADMSG;
    } else {
        reply.error = EPROTO;  // no family message, or one without its id or that group
    }
    return reply;
}

FamilyReply resolve_generic_family(mnl_socket* socket, const std::string& family_name,
                                   const std::string& group_name) {
    const std::string context = "look up generic netlink family " + family_name;
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
    request->nlmsg_type = GENL_ID_CTRL;
    request->nlmsg_flags = NLM_F_REQUEST;
    request->nlmsg_seq = 1;
    auto* header = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(request, GENL_HDRLEN));
    header->cmd = CTRL_CMD_GETFAMILY;
    header->version = 1;
    mnl_attr_put_strz(request, CTRL_ATTR_FAMILY_NAME, family_name.c_str());
    if (mnl_socket_sendto(socket, request, request->nlmsg_len) < 0) {
        throw_errno(context, "mnl_socket_sendto(CTRL_CMD_GETFAMILY)");
    }
    const ssize_t received = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
    if (received < 0) {
        throw_errno(context, "mnl_socket_recvfrom");
    }
    return parse_family_reply(buffer.data(), static_cast<size_t>(received), group_name);
}

}  // namespace xconnect::netlink

namespace xconnect {

namespace {

netlink::MnlSocket open_generic_socket(int receive_buffer) {
    // Blocking: a dump reads until its end, and the monitor reads its news
    // with MSG_DONTWAIT.
    netlink::MnlSocket socket(mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC));
    if (!socket) {
        throw_errno("open netdev monitor", "mnl_socket_open2(NETLINK_GENERIC)");
    }
    const int fd = mnl_socket_get_fd(socket.get());
    // FORCE lifts net.core.rmem_max for a privileged daemon; without the
    // privilege, take what the sysctl allows.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) != 0) {
        throw_errno("size netdev monitor buffer", "setsockopt(SO_RCVBUF)");
    }
    if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw_errno("bind netdev monitor", "mnl_socket_bind");
    }
    return socket;
}

void apply(const netlink::NetdevEvent& event, std::map<uint32_t, uint64_t>& devices) {
    if (event.kind == netlink::NetdevEvent::Kind::removed) {
        devices.erase(event.device.ifindex);
    } else {
        devices[event.device.ifindex] = event.device.xdp_features;
    }
}

}  // namespace

NetdevFeaturesMonitor::NetdevFeaturesMonitor(boost::asio::io_context& io,
                                             NetdevFeaturesObserver& observer, int receive_buffer)
    : observer_(observer),
      socket_(open_generic_socket(receive_buffer)),
      descriptor_(io),
      retry_(io),
      buffer_(64 * 1024) {
    const netlink::FamilyReply reply = netlink::resolve_generic_family(
        socket_.get(), netlink::netdev_genl::family_name, netlink::netdev_genl::mgmt_group);
    if (!reply.family) {
        if (reply.error == ENOENT || reply.error == EPROTO) {
            // ENOENT: Linux < 6.3. EPROTO: a family without the group, which
            // no kernel has; either way nothing to follow.
            if (reply.error == EPROTO) {
                log::warning("netdev monitor: the kernel's netdev family has no \"",
                             netlink::netdev_genl::mgmt_group, "\" group; not following it");
            }
            socket_.reset();
            return;
        }
        throw SystemError("look up generic netlink family netdev", "CTRL_CMD_GETFAMILY",
                          reply.error);
    }
    family_ = reply.family;
    // Subscribe before the dump: a change the dump misses is queued meanwhile.
    int group = static_cast<int>(family_->group);
    if (mnl_socket_setsockopt(socket_.get(), NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
        throw_errno("subscribe to netdev group mgmt", "setsockopt(NETLINK_ADD_MEMBERSHIP)");
    }
    if (!dump_and_report()) {
        resync_later();
    }
    // Last, so that nothing above can throw with the fd owned twice.
    descriptor_.assign(mnl_socket_get_fd(socket_.get()));
    wait_for_events();
}

NetdevFeaturesMonitor::~NetdevFeaturesMonitor() {
    // The socket is socket_'s to close; release() also cancels the wait.
    if (descriptor_.is_open()) {
        descriptor_.release();
    }
}

void NetdevFeaturesMonitor::wait_for_events() {
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& error) {
                               if (error == boost::asio::error::operation_aborted) {
                                   return;
                               }
                               if (error) {
                                   log::error("netdev monitor: ", error.message());
                                   return;
                               }
                               read_events();
                               wait_for_events();
                           });
}

void NetdevFeaturesMonitor::read_events() {
    const int fd = mnl_socket_get_fd(socket_.get());
    for (;;) {
        // MSG_TRUNC: the length of the datagram even if it did not fit.
        const ssize_t length = recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_TRUNC);
        if (length < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                resync("receive buffer overrun, xdp-features changes were lost");
                continue;
            }
            log::error("netdev monitor: recv: ", errno_text(errno));
            return;
        }
        if (static_cast<size_t>(length) > buffer_.size()) {
            log::warning("netdev monitor: a ", length, "-byte message did not fit");
            resync("a message was lost");
            continue;
        }
        report(netlink::parse_netdev_datagram(buffer_.data(), static_cast<size_t>(length),
                                              family_->id));
    }
}

void NetdevFeaturesMonitor::report(const netlink::ParsedNetdevDatagram& parsed) {
    for (const netlink::NetdevEvent& event : parsed.events) {
        if (event.kind == netlink::NetdevEvent::Kind::removed) {
            observer_.device_removed(event.device.ifindex);
        } else {
            observer_.xdp_features_changed(event.device);
        }
    }
    if (parsed.malformed != 0 || parsed.broken) {
        log::warning("netdev monitor: skipped a malformed netlink message");
    }
}

void NetdevFeaturesMonitor::resync(const char* why) {
    ++resyncs_;
    log::warning("netdev monitor: ", why, "; resynchronising from a full dump");
    // What is queued is older than the dump, and news lost in between would
    // make replaying it wrong: drop it. Later news is replayed on top.
    const int fd = mnl_socket_get_fd(socket_.get());
    for (;;) {
        if (recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT) < 0 && errno != ENOBUFS &&
            errno != EINTR) {
            break;
        }
    }
    try {
        if (!dump_and_report()) {
            resync_later();
        }
    } catch (const std::exception& error) {
        log::error("netdev monitor: resynchronising: ", error.what());
    }
}

void NetdevFeaturesMonitor::resync_later() {
    retry_.expires_after(std::chrono::seconds(0));
    retry_.async_wait([this](const boost::system::error_code& error) {
        if (!error) {
            resync("changes were lost during the dump");
        }
    });
}

// The dump's replies and the group's news share the socket, in the order the
// kernel queued them, each as of its queueing: applied in that order, a
// notification the dump has already covered is overtaken by the dump's
// newer entry, and one after it is newer than the dump.
bool NetdevFeaturesMonitor::dump_and_report() {
    std::array<char, 64> request_buffer{};
    nlmsghdr* request = mnl_nlmsg_put_header(request_buffer.data());
    request->nlmsg_type = family_->id;
    request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request->nlmsg_seq = ++sequence_;
    auto* header = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(request, GENL_HDRLEN));
    header->cmd = netlink::netdev_genl::cmd_dev_get;
    header->version = netlink::netdev_genl::family_version;
    if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0) {
        throw_errno("dump netdev devices", "mnl_socket_sendto(NETDEV_CMD_DEV_GET)");
    }
    const int fd = mnl_socket_get_fd(socket_.get());
    std::map<uint32_t, uint64_t> devices;
    bool lost = false;
    for (;;) {
        const ssize_t length = recv(fd, buffer_.data(), buffer_.size(), MSG_TRUNC);
        if (length < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                lost = true;  // a second dump must wait for this one's end
                continue;
            }
            throw_errno("read netdev dump", "recv");
        }
        // A datagram cut short still holds whole messages before the cut
        // (the kernel keeps dump parts under 32 KiB: never, in practice).
        const size_t received = std::min(static_cast<size_t>(length), buffer_.size());
        lost = lost || received < static_cast<size_t>(length);
        const netlink::ParsedNetdevDatagram parsed =
            netlink::parse_netdev_datagram(buffer_.data(), received, family_->id);
        for (const netlink::NetdevEvent& event : parsed.events) {
            apply(event, devices);
        }
        if (parsed.malformed != 0 || parsed.broken) {
            log::warning("netdev monitor: skipped a malformed netlink message in the dump");
        }
        lost = lost || parsed.interrupted;
        if (parsed.error != 0) {
            throw SystemError("dump netdev devices", "NETDEV_CMD_DEV_GET", parsed.error);
        }
        if (parsed.done) {
            break;
        }
    }
    std::vector<netlink::DeviceFeatures> snapshot;
    snapshot.reserve(devices.size());
    for (const auto& [ifindex, features] : devices) {
        snapshot.push_back({ifindex, features});
    }
    observer_.xdp_features_snapshot(std::move(snapshot));
    return !lost;
}

}  // namespace xconnect
