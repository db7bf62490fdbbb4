#include "mode_choice.hpp"

#include <algorithm>
#include <cerrno>

#include "common/error.hpp"

namespace xconnect {

namespace {

bool is_veth_or_tap(const LinkInfo& link) {
    return link.kind == "veth" || link.kind == "tun";
}

bool is_tunnel(const LinkInfo& link) {
    return link.kind == "vxlan" || link.kind == "geneve" || link.kind == "gretap" ||
           link.kind == "ip6gretap" || link.kind == "erspan" || link.kind == "ip6erspan";
}

SideMode generic_because(const LinkInfo& ingress, const std::string& why) {
    return {AttachMode::generic, ingress.name + ": generic: " + why};
}

// Why `target` takes no native redirect, in words a person can act on.
std::string refuses_native_redirects(const LinkInfo& target) {
    std::string why = target.name + " does not accept native redirects";
    if (target.kind == "veth") {
        return why + " (a veth whose peer has no NAPI: GRO off, no XDP program)";
    }
    if (is_tunnel(target)) {
        return why + " (a " + target.kind + " tunnel has no ndo_xdp_xmit)";
    }
    return why + " (no ndo_xdp_xmit)";
}

}  // namespace

SideMode choose_side_mode(ModePolicy policy, const DeviceView& ingress, const DeviceView& target) {
    if (policy == ModePolicy::native) {
        return {AttachMode::native, {}};
    }
    if (policy == ModePolicy::generic) {
        return {AttachMode::generic, {}};
    }
    const LinkInfo& in = ingress.link;
    const LinkInfo& out = target.link;
    if (!ingress.features || !target.features) {
        // Without xdp-features, the rule before Linux 6.3: a native redirect
        // into a veth is dropped unless its peer runs NAPI, which nothing here
        // can see, so veth and tap pairs stay generic.
        if (is_veth_or_tap(in) || is_veth_or_tap(out)) {
            return generic_because(in,
                                   "the kernel does not report xdp-features (no netdev netlink "
                                   "family before Linux 6.3), so pairs with a veth or tap stay "
                                   "generic");
        }
        return {AttachMode::native,
                in.name + ": native: tried first (the kernel does not report xdp-features)"};
    }
    if (!(*ingress.features & xdp_feature_basic)) {
        return generic_because(in, "its driver has no native XDP");
    }
    if (!(*target.features & xdp_feature_ndo_xmit)) {
        return generic_because(in, refuses_native_redirects(out));
    }
    if (std::min(in.mtu, out.mtu) > single_buffer_mtu) {
        // Frames above one buffer cross natively only in several buffers.
        if (!(*ingress.features & xdp_feature_rx_sg)) {
            return generic_because(in, "MTU " + std::to_string(in.mtu) +
                                           " needs multi-buffer XDP, which its driver lacks "
                                           "(no rx-sg)");
        }
        if (!(*target.features & xdp_feature_ndo_xmit_sg)) {
            return generic_because(in, "MTU " + std::to_string(out.mtu) +
                                           " needs multi-buffer "
                                           "XDP, which " +
                                           out.name + " does not accept (no ndo-xmit-sg)");
        }
    }
    return {AttachMode::native, in.name + ": native: " + out.name + " accepts native redirects" +
                                    (out.kind == "veth" ? " (its peer runs NAPI)" : "")};
}

std::string mtu_mismatch_warning(const LinkInfo& left, const LinkInfo& right) {
    if (left.mtu == 0 || right.mtu == 0 || left.mtu == right.mtu) {
        return {};
    }
    const LinkInfo& smaller = left.mtu < right.mtu ? left : right;
    const LinkInfo& larger = left.mtu < right.mtu ? right : left;
    return "frames above " + std::to_string(smaller.mtu) + " bytes are dropped: " + smaller.name +
           " MTU " + std::to_string(smaller.mtu) + " < " + larger.name + " MTU " +
           std::to_string(larger.mtu);
}

std::string native_refusal(const LinkInfo& link, int error_number) {
    switch (error_number) {
        case ERANGE:
            return "native XDP refused for MTU " + std::to_string(link.mtu) + " on " + link.name +
                   ": its driver does not take frames that large in native mode (ERANGE)";
        case EOPNOTSUPP:
            return "native XDP refused on " + link.name +
                   ": its driver has no native XDP (EOPNOTSUPP)";
        default:
            return "native XDP refused on " + link.name + ": " + errno_text(error_number);
    }
}

}  // namespace xconnect
