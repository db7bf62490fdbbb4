#include "links.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "attributes.hpp"
#include "common/error.hpp"

namespace xconnect::netlink {

void MnlSocketCloser::operator()(mnl_socket* socket) const noexcept {
    mnl_socket_close(socket);
}

MnlSocket open_route_socket() {
    MnlSocket socket(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
    if (!socket) {
        throw_errno("open rtnetlink socket", "mnl_socket_open2");
    }
    if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
        throw_errno("bind rtnetlink socket", "mnl_socket_bind");
    }
    return socket;
}

namespace {

OperState oper_state_from_kernel(uint8_t value) {
    // IF_OPER_* values are RFC 2863 order, which OperState mirrors.
    return value <= IF_OPER_UP ? static_cast<OperState>(value) : OperState::unknown;
}

// IFLA_XDP_PROG_ID when one program is attached; with programs in several
// modes (XDP_ATTACHED_MULTI), the first of driver, generic, hardware.
uint32_t attached_xdp_program(const nlattr* xdp) {
    const nlattr* info[IFLA_XDP_MAX + 1] = {};
    if (mnl_attr_parse_nested(xdp, collect_attribute<IFLA_XDP_MAX>, info) < 0) {
        return 0;
    }
    for (int type :
         {IFLA_XDP_PROG_ID, IFLA_XDP_DRV_PROG_ID, IFLA_XDP_SKB_PROG_ID, IFLA_XDP_HW_PROG_ID}) {
        if (info[type] != nullptr && mnl_attr_validate(info[type], MNL_TYPE_U32) == 0) {
            return mnl_attr_get_u32(info[type]);
        }
    }
    return 0;
}

int collect_link(const nlmsghdr* message, void* data) {
    if (auto link = parse_link(message)) {
        static_cast<std::vector<LinkInfo>*>(data)->push_back(std::move(*link));
    }
    return MNL_CB_OK;
}

// One RTM_NEWLINK or RTM_DELLINK message, as an event (other kinds: none).
void add_event(const nlmsghdr* message, std::vector<LinkEvent>& events) {
    if (message->nlmsg_type == RTM_NEWLINK) {
        if (auto link = parse_link(message)) {
            events.push_back({LinkEvent::Kind::changed, std::move(*link)});
        }
    } else if (message->nlmsg_type == RTM_DELLINK &&
               message->nlmsg_len >= NLMSG_LENGTH(sizeof(ifinfomsg))) {
        const auto* header = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
        if (header->ifi_family == AF_UNSPEC) {
            LinkInfo removed;
            removed.ifindex = static_cast<uint32_t>(header->ifi_index);
            events.push_back({LinkEvent::Kind::removed, std::move(removed)});
        }
    }
}

// A string attribute's text up to its first NUL or its end: the kernel
// terminates them, but a message need not (MNL_TYPE_STRING does not check).
std::string attribute_text(const nlattr* attribute) {
    const auto* text = static_cast<const char*>(mnl_attr_get_payload(attribute));
    return std::string(text, strnlen(text, mnl_attr_get_payload_len(attribute)));
}

}  // namespace

// Walks the messages itself rather than with mnl_cb_run(): libmnl 1.0.4's
// mnl_nlmsg_ok() compares the length as a signed int, so a message claiming
// 2^31 bytes or more passes and the walk jumps out of the buffer (fuzz-netlink
// found it). Otherwise the same rules: NLMSG_DONE and an ACK stop, NLMSG_ERROR
// and an interrupted dump are errors, other control messages are skipped.
ParsedDatagram parse_link_datagram(const char* data, size_t length) {
    ParsedDatagram parsed;
    size_t offset = 0;
    std::vector<char> padded;
    while (length - offset >= sizeof(nlmsghdr)) {
        const auto* message = reinterpret_cast<const nlmsghdr*>(data + offset);
        const size_t message_length = message->nlmsg_len;
        if (message_length < sizeof(nlmsghdr) || message_length > length - offset) {
            parsed.error = EBADMSG;  // a length that does not fit the datagram
            break;
        }
        // libmnl walks attributes up to the aligned end of the message: a
        // datagram that stops short of it is parsed from a zero-padded copy.
        if (NLMSG_ALIGN(message_length) > length - offset) {
            padded.assign(NLMSG_ALIGN(message_length), '\0');
            std::memcpy(padded.data(), message, message_length);
            message = reinterpret_cast<const nlmsghdr*>(padded.data());
        }
        if (message->nlmsg_flags & NLM_F_DUMP_INTR) {
            parsed.error = EINTR;
            break;
        }
        if (message->nlmsg_type >= NLMSG_MIN_TYPE) {
            add_event(message, parsed.events);
        } else if (message->nlmsg_type == NLMSG_DONE) {
            break;
        } else if (message->nlmsg_type == NLMSG_ERROR) {
            if (message_length < NLMSG_LENGTH(sizeof(nlmsgerr))) {
                parsed.error = EBADMSG;
            } else {
                const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
                // The kernel sends -errno (0: an ACK); beyond MAX_ERRNO (4095)
                // it is no errno, and -INT_MIN would overflow.
                const int code = error->error;
                parsed.error = code < -4095 || code > 4095 ? EBADMSG : (code < 0 ? -code : code);
            }
            break;
        }
        offset += std::min(NLMSG_ALIGN(message_length), length - offset);
    }
    return parsed;
}

std::optional<LinkInfo> parse_link(const nlmsghdr* message) {
    if ((message->nlmsg_type != RTM_NEWLINK && message->nlmsg_type != RTM_DELLINK) ||
        message->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) {
        return std::nullopt;
    }
    const auto* header = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
    if (header->ifi_family != AF_UNSPEC) {
        return std::nullopt;  // e.g. AF_BRIDGE port news, not about the device itself
    }
    const nlattr* attributes[IFLA_MAX + 1] = {};
    if (mnl_attr_parse(message, sizeof(ifinfomsg), collect_attribute<IFLA_MAX>, attributes) < 0) {
        return std::nullopt;
    }
    const nlattr* name = attributes[IFLA_IFNAME];
    if (name == nullptr || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0) {
        return std::nullopt;
    }
    LinkInfo link;
    link.ifindex = static_cast<uint32_t>(header->ifi_index);
    link.name = attribute_text(name);
    if (const nlattr* oper = attributes[IFLA_OPERSTATE];
        oper != nullptr && mnl_attr_validate(oper, MNL_TYPE_U8) == 0) {
        link.oper_state = oper_state_from_kernel(mnl_attr_get_u8(oper));
    }
    if (const nlattr* mtu = attributes[IFLA_MTU];
        mtu != nullptr && mnl_attr_validate(mtu, MNL_TYPE_U32) == 0) {
        link.mtu = mnl_attr_get_u32(mtu);
    }
    if (const nlattr* xdp = attributes[IFLA_XDP]) {
        link.xdp_program_id = attached_xdp_program(xdp);
    }
    if (const nlattr* linkinfo = attributes[IFLA_LINKINFO]) {
        const nlattr* info[IFLA_INFO_MAX + 1] = {};
        if (mnl_attr_parse_nested(linkinfo, collect_attribute<IFLA_INFO_MAX>, info) >= 0 &&
            info[IFLA_INFO_KIND] != nullptr &&
            mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_STRING) == 0) {
            link.kind = attribute_text(info[IFLA_INFO_KIND]);
        }
    }
    return link;
}

std::vector<LinkInfo> dump_links() {
    MnlSocket socket = open_route_socket();
    // 32 KiB: what the kernel sends per dump part at most (MNL_SOCKET_DUMP_SIZE in newer libmnl).
    std::vector<char> buffer(32768);
    nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
    request->nlmsg_type = RTM_GETLINK;
    request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    const auto sequence = static_cast<uint32_t>(time(nullptr));
    request->nlmsg_seq = sequence;
    auto* header = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
    header->ifi_family = AF_UNSPEC;
    if (mnl_socket_sendto(socket.get(), request, request->nlmsg_len) < 0) {
        throw_errno("request link dump", "mnl_socket_sendto");
    }
    const unsigned port = mnl_socket_get_portid(socket.get());
    std::vector<LinkInfo> links;
    for (;;) {
        const ssize_t received = mnl_socket_recvfrom(socket.get(), buffer.data(), buffer.size());
        if (received < 0) {
            throw_errno("read link dump", "mnl_socket_recvfrom");
        }
        const int result =
            mnl_cb_run(buffer.data(), received, sequence, port, collect_link, &links);
        if (result == MNL_CB_STOP) {
            return links;
        }
        if (result < 0) {
            throw_errno("parse link dump", "mnl_cb_run");
        }
    }
}

}  // namespace xconnect::netlink
