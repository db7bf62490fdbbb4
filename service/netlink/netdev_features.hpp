#pragma once

// Each device's XDP features, from the generic netlink family "netdev"
// (Linux >= 6.3), with a notification whenever they change. NDO_XMIT says
// whether a native XDP_REDIRECT into the device is delivered: a tap always,
// a veth only while its peer (wherever it sits) has GRO on or a native XDP
// program. Debian's stock 6.1 kernel has no such family; the monitor then
// says it is unavailable and stays silent.
//
// The kernel (6.18, veth.c) re-evaluates a veth's NDO_XMIT when GRO changes
// at its peer while the peer is up, when a native (not generic) program is
// attached to or detached from the peer, and when the veth itself comes up.
// GRO turned on at a peer that is down shows only once the veth goes up
// again; turned off there, NDO_XMIT stays set until then although the peer,
// brought up, has no NAPI and native redirects into the veth are dropped.

#include <linux/netlink.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "links.hpp"

struct mnl_socket;

namespace xconnect::netlink {

// The family's uapi, include/uapi/linux/netdev.h (generated from
// Documentation/netlink/specs/netdev.yaml), unchanged since Linux 6.3 and
// missing from Debian 12's linux-libc-dev (6.1). Our own names: the kernel's
// are macros and enumerators that a newer header would clash with. Where that
// header exists, netdev_features.cpp checks every value against it.
namespace netdev_genl {
inline constexpr char family_name[] = "netdev";  // NETDEV_FAMILY_NAME
inline constexpr uint8_t family_version = 1;     // NETDEV_FAMILY_VERSION
inline constexpr char mgmt_group[] = "mgmt";     // NETDEV_MCGRP_MGMT
// Commands (NETDEV_CMD_*).
inline constexpr uint8_t cmd_dev_get = 1;
inline constexpr uint8_t cmd_dev_add_ntf = 2;
inline constexpr uint8_t cmd_dev_del_ntf = 3;
inline constexpr uint8_t cmd_dev_change_ntf = 4;
// Attributes of the "dev" set (NETDEV_A_DEV_*).
inline constexpr uint16_t attr_dev_ifindex = 1;  // u32
inline constexpr uint16_t attr_dev_pad = 2;
inline constexpr uint16_t attr_dev_xdp_features = 3;  // u64 of xdp_feature bits
inline constexpr uint16_t attr_dev_xdp_zc_max_segs = 4;
inline constexpr uint16_t attr_dev_xdp_rx_metadata_features = 5;
inline constexpr uint16_t attr_dev_xsk_features = 6;
inline constexpr uint16_t attr_dev_max = attr_dev_xsk_features;
}  // namespace netdev_genl

// The bits of xdp-features (enum netdev_xdp_act, NETDEV_XDP_ACT_*).
namespace xdp_feature {
inline constexpr uint64_t basic = 1u << 0;         // XDP_ABORTED, DROP, PASS, TX
inline constexpr uint64_t redirect = 1u << 1;      // its own program may XDP_REDIRECT
inline constexpr uint64_t ndo_xmit = 1u << 2;      // native redirects into it are delivered
inline constexpr uint64_t xsk_zerocopy = 1u << 3;  // AF_XDP zero copy
inline constexpr uint64_t hw_offload = 1u << 4;
inline constexpr uint64_t rx_sg = 1u << 5;        // multi-buffer frames on receive
inline constexpr uint64_t ndo_xmit_sg = 1u << 6;  // ... and redirected into it
}  // namespace xdp_feature

// "basic, redirect, ndo-xmit": the spec's names in bit order, any unknown
// bits together in hex ("0x180"), "none" for 0. For log lines.
std::string xdp_features_text(uint64_t features);

struct DeviceFeatures {
    uint32_t ifindex = 0;
    uint64_t xdp_features = 0;

    bool accepts_native_redirect() const { return (xdp_features & xdp_feature::ndo_xmit) != 0; }
    bool operator==(const DeviceFeatures&) const = default;
};

// What one netdev message says about one device.
struct NetdevEvent {
    // present: a dump reply or DEV_ADD_NTF; changed: DEV_CHANGE_NTF;
    // removed: DEV_DEL_NTF (the kernel sends the last features along).
    enum class Kind { present, changed, removed };
    Kind kind;
    DeviceFeatures device;
    bool operator==(const NetdevEvent&) const = default;
};

// One message of the family `family_id` (nlctrl assigns it at boot),
// readable up to NLMSG_ALIGN(nlmsg_len) (parse_netdev_datagram() sees to it).
// nullopt for another family or command, and for a device message without a
// valid ifindex (u32, not 0) or, unless removed, xdp-features (u64; 4 bytes
// are taken too, as netlink's variable-width uint would send them).
std::optional<NetdevEvent> parse_netdev_message(const nlmsghdr* message, uint16_t family_id);

struct ParsedNetdevDatagram {
    std::vector<NetdevEvent> events;  // in the order of the messages
    size_t malformed = 0;             // device messages skipped by parse_netdev_message()
    bool broken = false;              // a length that does not fit the datagram stopped the walk
    bool done = false;                // NLMSG_DONE: the end of a dump
    bool interrupted = false;         // NLM_F_DUMP_INTR: the dump is inconsistent
    // The errno of an NLMSG_ERROR, or of a dump that ended in error (NLMSG_DONE
    // carries it): the request failed. 0 otherwise (and for an ACK). Either
    // ends the walk, events holding what came before.
    int error = 0;
};

// One datagram as received on a NETLINK_GENERIC socket: dump replies and
// notifications of the family, anything else skipped. `data` must be aligned
// as a receive buffer (NLMSG_ALIGNTO). What the monitor runs on every
// datagram, and what a fuzzer can feed.
ParsedNetdevDatagram parse_netdev_datagram(const char* data, size_t length, uint16_t family_id);

// A generic netlink family as nlctrl names it: its id and the id of one of
// its multicast groups.
struct GenericFamily {
    uint16_t id = 0;
    uint32_t group = 0;
    bool operator==(const GenericFamily&) const = default;
};

// nlctrl's reply to CTRL_CMD_GETFAMILY: the family with the id of the group
// `group_name`, or an errno: the NLMSG_ERROR's (ENOENT: no such family),
// EPROTO for a reply without the family id or that group, EBADMSG for a
// malformed datagram.
struct FamilyReply {
    std::optional<GenericFamily> family;
    int error = 0;
};
FamilyReply parse_family_reply(const char* data, size_t length, const std::string& group_name);

// Asks nlctrl over `socket` (NETLINK_GENERIC, bound, blocking, in no
// multicast group yet) for the family and its group: nlctrl's answer as
// parse_family_reply() reads it. Throws SystemError when the question cannot
// be asked or answered (send, receive).
FamilyReply resolve_generic_family(mnl_socket* socket, const std::string& family_name,
                                   const std::string& group_name);

}  // namespace xconnect::netlink

namespace xconnect {

// What the monitor tells; called on the io_context's thread.
class NetdevFeaturesObserver {
  public:
    virtual ~NetdevFeaturesObserver() = default;
    // Every device of the namespace, by ifindex, from a full dump: at start
    // and after events were lost. Replaces whatever was known before.
    virtual void xdp_features_snapshot(std::vector<netlink::DeviceFeatures> devices) = 0;
    // A device appeared, or its features changed (to equal ones, rarely).
    virtual void xdp_features_changed(netlink::DeviceFeatures device) = 0;
    // A device was unregistered or left for another namespace.
    virtual void device_removed(uint32_t ifindex) = 0;
};

// Follows the netdev family's "mgmt" group in this network namespace (the
// one current when it is constructed): subscribes first, then dumps, so no
// change can fall between the two. A receive-buffer overrun (ENOBUFS) is
// answered with another full dump, as LinkMonitor does.
class NetdevFeaturesMonitor {
  public:
    // Hands the observer its first snapshot before returning, or, where the
    // kernel has no netdev family, nothing ever (available() is false).
    // Throws SystemError.
    NetdevFeaturesMonitor(boost::asio::io_context& io, NetdevFeaturesObserver& observer,
                          int receive_buffer = netlink::default_monitor_buffer);
    ~NetdevFeaturesMonitor();
    NetdevFeaturesMonitor(const NetdevFeaturesMonitor&) = delete;
    NetdevFeaturesMonitor& operator=(const NetdevFeaturesMonitor&) = delete;

    // False on a kernel without the family (Linux < 6.3): no device's
    // features are known, and the caller keeps its rule without them.
    bool available() const { return family_.has_value(); }
    // How many times lost events forced a full dump after the first.
    size_t resyncs() const { return resyncs_; }

  private:
    void wait_for_events();
    void read_events();
    void report(const netlink::ParsedNetdevDatagram& parsed);
    // Drops what is queued, then dumps again; `why` for the log line.
    void resync(const char* why);
    // Dumps every device and reports the snapshot. False when events were
    // lost meanwhile, so that the snapshot may be stale.
    bool dump_and_report();
    // Another resync from the io_context, not from within this one's handler.
    void resync_later();

    NetdevFeaturesObserver& observer_;
    netlink::MnlSocket socket_;  // owns the fd; descriptor_ only waits on it
    boost::asio::posix::stream_descriptor descriptor_;
    boost::asio::steady_timer retry_;
    std::optional<netlink::GenericFamily> family_;
    std::vector<char> buffer_;
    uint32_t sequence_ = 0;
    size_t resyncs_ = 0;
};

}  // namespace xconnect
