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

std::string hex(const Frame& frame);

// An AF_PACKET socket bound to one interface of a namespace, seeing every frame
// it receives (with a VLAN tag the kernel moved out of band put back in place).
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
