#pragma once

// The engine's vocabulary: what a pair is, the states it goes through, and what
// the kernel tells us about links. This is what the D-Bus contract exposes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xconnect {

// XDP attach mode in use on an interface.
enum class AttachMode { native, generic };

// Attach mode asked for: by the daemon option, or per pair in the config file.
enum class ModePolicy { automatic, native, generic };

enum class PairState { pending, active, failed };

// IFLA_OPERSTATE, RFC 2863 names.
enum class OperState { unknown, notpresent, down, lowerlayerdown, testing, dormant, up };

std::string_view to_string(AttachMode mode);
std::string_view to_string(ModePolicy policy);
std::string_view to_string(PairState state);
std::string_view to_string(OperState state);
std::optional<ModePolicy> parse_mode_policy(std::string_view text);

// One cross-connect as configured: interface names as given, and the mode
// forced for this pair (nullopt: the daemon's default policy).
struct PairSpec {
    std::string left;
    std::string right;
    std::optional<ModePolicy> mode;

    bool is_self_pair() const { return left == right; }
    bool holds(std::string_view ifname) const { return left == ifname || right == ifname; }
    // The same cross-connect: same two interfaces (either order) and same mode.
    bool same_connection(const PairSpec& other) const;
    // "veth0<->veth1", the name used in every log line about the pair.
    std::string label() const;
    bool operator==(const PairSpec&) const = default;
};

// A link as the kernel reports it (rtnetlink).
struct LinkInfo {
    uint32_t ifindex = 0;
    std::string name;
    std::string kind;  // IFLA_INFO_KIND: "veth", "tun", ... ; empty for physical NICs
    OperState oper_state = OperState::unknown;
    uint32_t xdp_program_id = 0;  // IFLA_XDP: the XDP program attached, 0 for none
    uint32_t mtu = 0;             // IFLA_MTU; 0 when not reported
    bool operator==(const LinkInfo&) const = default;
};

// What a device's driver can do with XDP, as the kernel's generic netlink
// family `netdev` reports it (`xdp-features`, Linux >= 6.3): the bits of
// enum netdev_xdp_act in include/uapi/linux/netdev.h.
enum XdpFeature : uint64_t {
    xdp_feature_basic = 1u << 0,        // runs a program natively (XDP_PASS, DROP, TX, ABORTED)
    xdp_feature_redirect = 1u << 1,     // a native program may redirect out of it
    xdp_feature_ndo_xmit = 1u << 2,     // accepts natively redirected frames (ndo_xdp_xmit)
    xdp_feature_rx_sg = 1u << 5,        // receives multi-buffer frames natively
    xdp_feature_ndo_xmit_sg = 1u << 6,  // accepts natively redirected multi-buffer frames
};
using XdpFeatures = uint64_t;

struct Counters {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    // Frames redirected that the kernel then failed to deliver (drop accounting).
    uint64_t dropped = 0;
    Counters& operator+=(const Counters& other) {
        packets += other.packets;
        bytes += other.bytes;
        dropped += other.dropped;
        return *this;
    }
    Counters operator-(const Counters& other) const {
        return {packets - other.packets, bytes - other.bytes, dropped - other.dropped};
    }
    bool operator==(const Counters&) const = default;
};

// What the engine shows of one pair: the contract's org.xconnect.Pair properties.
struct PairStatus {
    PairSpec spec;
    PairState state = PairState::pending;
    std::optional<AttachMode> mode;        // nullopt while not attached; generic if either side is
    std::optional<AttachMode> left_mode;   // our program's mode on the left interface
    std::optional<AttachMode> right_mode;  // ... on the right one (a self-pair: left_mode)
    std::string mode_reason;               // why each side got its mode; empty: nothing to say
    std::string error;                     // why failed, or the last attach problem
    std::string warning;        // a condition that loses frames while active (MTU mismatch)
    std::string drop_reason;    // what caused the frames the kernel dropped lately; empty: none
    uint32_t left_ifindex = 0;  // 0 while absent
    uint32_t right_ifindex = 0;
    std::optional<OperState> left_oper;  // nullopt while absent
    std::optional<OperState> right_oper;
};

// Validates a name the way Linux's dev_valid_name() does (its isspace()
// includes byte 0xa0), plus control characters (C0, DEL, C1) and UTF-8: a
// name D-Bus and YAML cannot carry is refused. Returns the reason, with the
// name quoted bounded (common/quote.hpp), or nullopt when it is valid.
std::optional<std::string> invalid_interface_name_reason(std::string_view name);

// Problems that make a set of pairs unusable; index refers into the input.
struct SpecProblem {
    size_t index;
    std::string message;
};

// Every interface name valid and in at most one pair.
std::vector<SpecProblem> validate_pairs(const std::vector<PairSpec>& pairs);

}  // namespace xconnect
