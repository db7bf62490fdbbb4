#pragma once

// Which XDP mode each side of a pair runs in, in auto mode: native where a
// native redirect is delivered, generic everywhere else. Pure: what the
// kernel reports about the two devices in, two modes and the reasons out.
//
// The mode on an interface is the mode of the direction that enters it: a
// native program hands its frames to the target's ndo_xdp_xmit, so it needs a
// target that accepts them (xdp-features NDO_XMIT; for a veth, the kernel
// sets it only while the veth's peer runs NAPI: GRO on or an XDP program).
// A generic program hands them to the target's normal transmit, which every
// device has.

#include <optional>
#include <string>

#include "model.hpp"

namespace xconnect {

// One device as the choice sees it: its link and its xdp-features, nullopt
// when the kernel does not report them (no `netdev` family before Linux 6.3).
struct DeviceView {
    const LinkInfo& link;
    std::optional<XdpFeatures> features;
};

struct SideMode {
    AttachMode mode = AttachMode::generic;
    // Why, for ModeReason ("xc-1: generic: ..."); empty when the mode was asked for.
    std::string reason;
};

// The mode for the program on `ingress`, whose frames leave through `target`.
SideMode choose_side_mode(ModePolicy policy, const DeviceView& ingress, const DeviceView& target);

// The largest MTU whose frames fit one buffer in a native XDP program on a
// 4 KiB page (after XDP headroom and skb_shared_info, as veth counts it).
// Above it, native XDP needs multi-buffer support (rx-sg, ndo-xmit-sg).
inline constexpr uint32_t single_buffer_mtu = 3506;

// "frames above 1450 bytes are dropped: vx1 MTU 1450 < veth0 MTU 1500", or
// empty when both MTUs are the same (or unknown).
std::string mtu_mismatch_warning(const LinkInfo& left, const LinkInfo& right);

// What a refused native attach means, for the pair's Error and the log
// ("native XDP refused for MTU 9000 on xc-1: ..."), from the kernel's errno.
std::string native_refusal(const LinkInfo& link, int error_number);

}  // namespace xconnect
