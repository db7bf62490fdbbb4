#pragma once

// Raw Ethernet frames, sent and captured with AF_PACKET sockets inside test
// namespaces, and a tap device standing in for a VM.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "netns.hpp"

namespace xconnect::test {

using Frame = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

// Frames whose payload carries `marker`, padded to exactly `size` bytes
// (Ethernet header included, no FCS).
Frame ipv4_udp_frame(const Mac& source, const Mac& destination, size_t size, uint32_t marker);
Frame vlan_frame(const Mac& source, const Mac& destination, uint16_t vlan_id, size_t size,
                 uint32_t marker);
Frame ipv6_frame(const Mac& source, const Mac& destination, size_t size, uint32_t marker);
Frame arp_request_frame(const Mac& source, uint32_t sender_ip, uint32_t target_ip);

// QinQ (IEEE 802.1ad): an S-tag (TPID 0x88a8) outside a C-tag (TPID 0x8100)
// around an IPv4/UDP packet carrying `marker`, `size` bytes in all (a frame
// with a full 1500-byte payload is 1522). A TCI is PCP (3 bits), DEI (1), VID (12).
Frame qinq_frame(const Mac& source, const Mac& destination, uint16_t outer_tci, uint16_t inner_tci,
                 size_t size, uint32_t marker);

// Link-local control frames, each to its IEEE 802.1D/802.1Q reserved group
// address (01:80:c2:00:00:0X), which a Linux bridge does not forward by
// default. Each carries `marker` in a field of its own protocol (or, where the
// protocol has none, in the padding up to the 60-byte minimum), so that two
// frames of one kind are told apart.
inline constexpr Mac kStpGroup{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};    // bridge group address
inline constexpr Mac kPauseGroup{0x01, 0x80, 0xc2, 0x00, 0x00, 0x01};  // 802.3 MAC control
inline constexpr Mac kSlowProtocolsGroup{0x01, 0x80, 0xc2, 0x00, 0x00, 0x02};  // LACP
inline constexpr Mac kPaeGroup{0x01, 0x80, 0xc2, 0x00, 0x00, 0x03};            // 802.1X
inline constexpr Mac kLldpGroup{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};           // nearest bridge

// STP configuration BPDU: an 802.3 frame (length field, not an ethertype) with
// LLC 42 42 03; root and bridge id from `source` at priority 61440 (the worst,
// so a bridge receiving it stays root), `marker` as the root path cost.
Frame stp_config_bpdu(const Mac& source, uint32_t marker);
// 802.3 MAC control PAUSE (ethertype 0x8808, opcode 1), `marker` in the padding.
Frame pause_frame(const Mac& source, uint16_t quanta, uint32_t marker);
// LACPDU (slow protocols, ethertype 0x8809, subtype 1, version 1): actor,
// partner, collector and terminator TLVs, 124 bytes; `marker` as the actor's
// key (high 16 bits) and port number (low 16).
Frame lacpdu(const Mac& source, uint32_t marker);
// 802.1X EAPOL-Start (ethertype 0x888e, version 2, type 1, no body), `marker`
// in the padding.
Frame eapol_start(const Mac& source, uint32_t marker);
// LLDPDU (ethertype 0x88cc): chassis id (MAC address), port id (locally
// assigned, "port-<marker>"), TTL 120, end of LLDPDU.
Frame lldp_frame(const Mac& source, uint32_t marker);

std::string hex(const Frame& frame);

// An AF_PACKET socket bound to one interface of a namespace, seeing every frame
// it receives, as it was on the wire: the receiving stack moves the outermost
// VLAN tag (802.1Q or 802.1ad) into the skb before a packet socket sees the
// frame, and this puts it back in place with its own TPID (PACKET_AUXDATA).
class PacketSocket {
  public:
    PacketSocket(const Netns& netns, const std::string& ifname);
    void send(const Frame& frame);
    // Waits for a received frame equal to `wanted`; false if none came in time.
    bool receive_equal(const Frame& wanted,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Everything received so far, for failure messages.
    const std::vector<Frame>& received() const { return received_; }

  private:
    std::optional<Frame> receive(std::chrono::milliseconds timeout);
    UniqueFd socket_;
    int ifindex_ = 0;
    std::vector<Frame> received_;
};

// A tap device with its file descriptor held, as a VM's would be: what the
// test writes enters the host through the tap; what the host sends is read.
class TapDevice {
  public:
    TapDevice(const Netns& netns, const std::string& ifname);
    void write_frame(const Frame& frame);
    bool read_equal(const Frame& wanted,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

  private:
    UniqueFd fd_;
};

}  // namespace xconnect::test
