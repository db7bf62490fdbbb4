#include "frames.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "common/error.hpp"

namespace xconnect::test {

using namespace std::chrono;

namespace {

void put16(Frame& frame, uint16_t value) {
    frame.push_back(static_cast<uint8_t>(value >> 8));
    frame.push_back(static_cast<uint8_t>(value));
}

void put32(Frame& frame, uint32_t value) {
    put16(frame, static_cast<uint16_t>(value >> 16));
    put16(frame, static_cast<uint16_t>(value));
}

Frame ethernet_header(const Mac& source, const Mac& destination) {
    Frame frame(destination.begin(), destination.end());
    frame.insert(frame.end(), source.begin(), source.end());
    return frame;
}

// Fills up to `size` with a pattern derived from the marker, so every byte is checked.
void pad(Frame& frame, size_t size, uint32_t marker) {
    for (size_t i = 0; frame.size() < size; ++i) {
        frame.push_back(static_cast<uint8_t>(marker * 31 + i * 7));
    }
}

}  // namespace

Frame ipv4_udp_frame(const Mac& source, const Mac& destination, size_t size, uint32_t marker) {
    Frame frame = ethernet_header(source, destination);
    put16(frame, ETH_P_IP);
    const auto ip_length = static_cast<uint16_t>(size - 14);
    // IPv4 header with a valid checksum (a bridge with br_netfilter checks it).
    const size_t ip_header = frame.size();
    put16(frame, 0x4500);
    put16(frame, ip_length);
    put32(frame, marker);
    put16(frame, 0x4011);  // TTL 64, UDP
    put16(frame, 0);
    put32(frame, 0xc0000201);  // 192.0.2.1 (TEST-NET-1)
    put32(frame, 0xc0000202);
    uint32_t sum = 0;
    for (size_t i = ip_header; i < ip_header + 20; i += 2) {
        sum += static_cast<uint32_t>(frame[i] << 8 | frame[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    const auto checksum = static_cast<uint16_t>(~sum);
    frame[ip_header + 10] = static_cast<uint8_t>(checksum >> 8);
    frame[ip_header + 11] = static_cast<uint8_t>(checksum);
    put16(frame, 4000);
    put16(frame, 4001);
    put16(frame, static_cast<uint16_t>(ip_length - 20));
    put16(frame, 0);
    put32(frame, marker);
    pad(frame, size, marker);
    return frame;
}

Frame vlan_frame(const Mac& source, const Mac& destination, uint16_t vlan_id, size_t size,
                 uint32_t marker) {
    Frame frame = ethernet_header(source, destination);
    put16(frame, ETH_P_8021Q);
    put16(frame, vlan_id);
    put16(frame, 0x88b5);  // IEEE local experimental ethertype
    put32(frame, marker);
    pad(frame, size, marker);
    return frame;
}

Frame ipv6_frame(const Mac& source, const Mac& destination, size_t size, uint32_t marker) {
    Frame frame = ethernet_header(source, destination);
    put16(frame, ETH_P_IPV6);
    put32(frame, 0x60000000);
    put16(frame, static_cast<uint16_t>(size - 14 - 40));
    put16(frame, 0x3b40);  // no next header, hop limit 64
    for (int i = 0; i < 2; ++i) {
        put32(frame, 0x20010db8);  // 2001:db8::/32 (documentation)
        put32(frame, 0);
        put32(frame, 0);
        put32(frame, marker + static_cast<uint32_t>(i));
    }
    pad(frame, size, marker);
    return frame;
}

Frame arp_request_frame(const Mac& source, uint32_t sender_ip, uint32_t target_ip) {
    Frame frame = ethernet_header(source, Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    put16(frame, ETH_P_ARP);
    put16(frame, 1);       // Ethernet
    put16(frame, 0x0800);  // IPv4
    put16(frame, 0x0604);
    put16(frame, 1);  // request
    frame.insert(frame.end(), source.begin(), source.end());
    put32(frame, sender_ip);
    frame.insert(frame.end(), 6, 0);
    put32(frame, target_ip);
    frame.resize(60, 0);  // minimum Ethernet frame
    return frame;
}

Frame qinq_frame(const Mac& source, const Mac& destination, uint16_t outer_tci, uint16_t inner_tci,
                 size_t size, uint32_t marker) {
    Frame frame = ipv4_udp_frame(source, destination, size - 8, marker);
    Frame tags;
    put16(tags, ETH_P_8021AD);
    put16(tags, outer_tci);
    put16(tags, ETH_P_8021Q);
    put16(tags, inner_tci);
    frame.insert(frame.begin() + 12, tags.begin(), tags.end());
    return frame;
}

namespace {

// Pads with zeros to the 60-byte minimum, as a sending NIC would.
void pad_to_minimum(Frame& frame) {
    if (frame.size() < 60) {
        frame.resize(60, 0);
    }
}

// A marker where the protocol has no field for one: right after the PDU,
// in what is padding to the receiver.
void marker_in_padding(Frame& frame, uint32_t marker) {
    put32(frame, marker);
    pad_to_minimum(frame);
}

}  // namespace

Frame stp_config_bpdu(const Mac& source, uint32_t marker) {
    Frame frame = ethernet_header(source, kStpGroup);
    put16(frame, 3 + 35);   // 802.3 length: LLC header and the BPDU
    frame.push_back(0x42);  // DSAP: spanning tree
    frame.push_back(0x42);  // SSAP
    frame.push_back(0x03);  // UI
    put16(frame, 0x0000);   // protocol identifier
    frame.push_back(0x00);  // version: STP
    frame.push_back(0x00);  // type: configuration
    frame.push_back(0x00);  // flags
    for (int id = 0; id < 2; ++id) {
        if (id == 1) {
            put32(frame, marker);  // root path cost, between root id and bridge id
        }
        put16(frame, 0xf000);  // priority 61440, system id extension 0
        frame.insert(frame.end(), source.begin(), source.end());
    }
    put16(frame, 0x8001);    // port id: priority 128, port 1
    put16(frame, 0);         // message age, 1/256 s
    put16(frame, 20 * 256);  // max age
    put16(frame, 2 * 256);   // hello time
    put16(frame, 15 * 256);  // forward delay
    pad_to_minimum(frame);
    return frame;
}

Frame pause_frame(const Mac& source, uint16_t quanta, uint32_t marker) {
    Frame frame = ethernet_header(source, kPauseGroup);
    put16(frame, 0x8808);  // MAC control
    put16(frame, 0x0001);  // PAUSE
    put16(frame, quanta);
    marker_in_padding(frame, marker);
    return frame;
}

Frame lacpdu(const Mac& source, uint32_t marker) {
    Frame frame = ethernet_header(source, kSlowProtocolsGroup);
    put16(frame, 0x8809);   // slow protocols
    frame.push_back(0x01);  // subtype: LACP
    frame.push_back(0x01);  // version
    // Actor information: the sender, active, short timeout, aggregatable, in sync.
    frame.push_back(0x01);
    frame.push_back(20);
    put16(frame, 32768);  // system priority
    frame.insert(frame.end(), source.begin(), source.end());
    put16(frame, static_cast<uint16_t>(marker >> 16));  // key
    put16(frame, 255);                                  // port priority
    put16(frame, static_cast<uint16_t>(marker));        // port number
    frame.push_back(0x0f);
    frame.insert(frame.end(), 3, 0);
    // Partner information: none known yet.
    frame.push_back(0x02);
    frame.push_back(20);
    frame.insert(frame.end(), 18, 0);
    // Collector information.
    frame.push_back(0x03);
    frame.push_back(16);
    put16(frame, 0);  // collector max delay
    frame.insert(frame.end(), 12, 0);
    // Terminator, and the reserved octets that fill the LACPDU to 110 bytes.
    frame.push_back(0x00);
    frame.push_back(0x00);
    frame.insert(frame.end(), 50, 0);
    return frame;
}

Frame eapol_start(const Mac& source, uint32_t marker) {
    Frame frame = ethernet_header(source, kPaeGroup);
    put16(frame, 0x888e);   // EAPOL
    frame.push_back(0x02);  // 802.1X-2004
    frame.push_back(0x01);  // EAPOL-Start
    put16(frame, 0);        // body length
    marker_in_padding(frame, marker);
    return frame;
}

Frame lldp_frame(const Mac& source, uint32_t marker) {
    Frame frame = ethernet_header(source, kLldpGroup);
    put16(frame, 0x88cc);  // LLDP
    auto tlv = [&frame](uint8_t type, const Frame& value) {
        put16(frame, static_cast<uint16_t>(type << 9 | value.size()));
        frame.insert(frame.end(), value.begin(), value.end());
    };
    Frame chassis{4};  // subtype: MAC address
    chassis.insert(chassis.end(), source.begin(), source.end());
    tlv(1, chassis);
    const std::string port = "port-" + std::to_string(marker);
    Frame port_id{7};  // subtype: locally assigned
    port_id.insert(port_id.end(), port.begin(), port.end());
    tlv(2, port_id);
    tlv(3, Frame{0, 120});  // time to live, seconds
    tlv(0, Frame{});        // end of LLDPDU
    pad_to_minimum(frame);
    return frame;
}

std::string hex(const Frame& frame) {
    std::ostringstream out;
    out << frame.size() << " bytes:";
    for (size_t i = 0; i < frame.size() && i < 64; ++i) {
        out << (i % 16 == 0 ? "\n  " : " ") << std::hex << (frame[i] >> 4) << (frame[i] & 15);
    }
    return out.str();
}

PacketSocket::PacketSocket(const Netns& netns, const std::string& ifname) {
    NetnsScope inside(netns);
    socket_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    if (!socket_) {
        throw_errno("packet socket on " + ifname, "socket");
    }
    ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) {
        throw_errno("packet socket on " + ifname, "if_nametoindex");
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = ifindex_;
    if (bind(socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw_errno("packet socket on " + ifname, "bind");
    }
    const int on = 1;
    if (setsockopt(socket_.get(), SOL_PACKET, PACKET_AUXDATA, &on, sizeof on) != 0) {
        throw_errno("packet socket on " + ifname, "setsockopt(PACKET_AUXDATA)");
    }
}

void PacketSocket::send(const Frame& frame) {
    if (::send(socket_.get(), frame.data(), frame.size(), 0) !=
        static_cast<ssize_t>(frame.size())) {
        throw_errno("send frame", "send");
    }
}

std::optional<Frame> PacketSocket::receive(milliseconds timeout) {
    pollfd poll_fd{.fd = socket_.get(), .events = POLLIN, .revents = 0};
    if (poll(&poll_fd, 1, static_cast<int>(timeout.count())) <= 0) {
        return std::nullopt;
    }
    Frame frame(65536);
    sockaddr_ll from{};
    iovec io{.iov_base = frame.data(), .iov_len = frame.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(socket_.get(), &message, 0);
    if (n < 0) {
        throw_errno("receive frame", "recvmsg");
    }
    frame.resize(static_cast<size_t>(n));
    if (from.sll_pkttype == PACKET_OUTGOING) {
        return Frame{};  // our own transmission: not a received frame
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) {
            continue;
        }
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (aux.tp_status & TP_STATUS_VLAN_VALID) {
            const uint16_t tpid =
                (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
            const uint8_t tag[4] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                    static_cast<uint8_t>(aux.tp_vlan_tci >> 8),
                                    static_cast<uint8_t>(aux.tp_vlan_tci)};
            frame.insert(frame.begin() + 12, tag, tag + 4);
        }
    }
    return frame;
}

bool PacketSocket::receive_equal(const Frame& wanted, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        auto frame = receive(left);
        if (!frame) {
            return false;
        }
        if (frame->empty()) {
            continue;
        }
        if (*frame == wanted) {
            return true;
        }
        received_.push_back(std::move(*frame));
    }
}

TapDevice::TapDevice(const Netns& netns, const std::string& ifname) {
    NetnsScope inside(netns);
    fd_.reset(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd_) {
        throw_errno("create tap " + ifname, "open(/dev/net/tun)");
    }
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(request.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd_.get(), TUNSETIFF, &request) != 0) {
        throw_errno("create tap " + ifname, "ioctl(TUNSETIFF)");
    }
}

void TapDevice::write_frame(const Frame& frame) {
    if (::write(fd_.get(), frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) {
        throw_errno("write frame to tap", "write");
    }
}

bool TapDevice::read_equal(const Frame& wanted, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    Frame frame(65536);
    for (;;) {
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        pollfd poll_fd{.fd = fd_.get(), .events = POLLIN, .revents = 0};
        if (left.count() <= 0 || poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        const ssize_t n = ::read(fd_.get(), frame.data(), frame.size());
        if (n < 0) {
            throw_errno("read frame from tap", "read");
        }
        if (static_cast<size_t>(n) == wanted.size() &&
            std::equal(wanted.begin(), wanted.end(), frame.begin())) {
            return true;
        }
    }
}

}  // namespace xconnect::test
