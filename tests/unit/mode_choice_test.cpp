#include "engine/mode_choice.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace xconnect {
namespace {

LinkInfo device(std::string name, std::string kind, uint32_t mtu = 1500) {
    LinkInfo link{1, std::move(name), std::move(kind), OperState::up};
    link.mtu = mtu;
    return link;
}

// As the kernel reports them (checked on Linux 6.18): a veth whose peer has
// no NAPI, one whose peer has GRO on, a tap, a VXLAN device.
constexpr XdpFeatures veth_without_napi =
    xdp_feature_basic | xdp_feature_redirect | xdp_feature_rx_sg;
constexpr XdpFeatures veth_with_napi =
    veth_without_napi | xdp_feature_ndo_xmit | xdp_feature_ndo_xmit_sg;
constexpr XdpFeatures tap = xdp_feature_basic | xdp_feature_redirect | xdp_feature_ndo_xmit;
constexpr XdpFeatures tunnel = 0;

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(ModeChoiceTest, WithoutXdpFeaturesVethAndTapPairsStayGeneric) {
    const LinkInfo a = device("a", "veth");
    const LinkInfo eth = device("eth0", "");
    const SideMode choice = choose_side_mode(ModePolicy::automatic, {eth, {}}, {a, {}});
    EXPECT_EQ(choice.mode, AttachMode::generic);
    EXPECT_TRUE(has(choice.reason, "eth0: generic: the kernel does not report xdp-features"))
        << choice.reason;
    const LinkInfo tap0 = device("tap0", "tun");
    EXPECT_EQ(choose_side_mode(ModePolicy::automatic, {tap0, {}}, {eth, {}}).mode,
              AttachMode::generic);
}

TEST(ModeChoiceTest, WithoutXdpFeaturesOtherDevicesTryNativeFirst) {
    const LinkInfo eth0 = device("eth0", "");
    const LinkInfo eth1 = device("eth1", "");
    const SideMode choice = choose_side_mode(ModePolicy::automatic, {eth0, {}}, {eth1, {}});
    EXPECT_EQ(choice.mode, AttachMode::native);
    EXPECT_TRUE(has(choice.reason, "tried first")) << choice.reason;
}

TEST(ModeChoiceTest, VethIsANativeTargetOnlyWhileItsPeerRunsNapi) {
    const LinkInfo a = device("a", "veth");
    const LinkInfo b = device("b", "veth");
    const SideMode without =
        choose_side_mode(ModePolicy::automatic, {a, veth_with_napi}, {b, veth_without_napi});
    EXPECT_EQ(without.mode, AttachMode::generic);
    EXPECT_EQ(without.reason,
              "a: generic: b does not accept native redirects (a veth whose peer has no NAPI: "
              "GRO off, no XDP program)");
    const SideMode with =
        choose_side_mode(ModePolicy::automatic, {a, veth_without_napi}, {b, veth_with_napi});
    EXPECT_EQ(with.mode, AttachMode::native);
    EXPECT_EQ(with.reason, "a: native: b accepts native redirects (its peer runs NAPI)");
}

TEST(ModeChoiceTest, TapToTapIsNative) {
    const LinkInfo vm1 = device("vm1", "tun");
    const LinkInfo vm2 = device("vm2", "tun");
    EXPECT_EQ(choose_side_mode(ModePolicy::automatic, {vm1, tap}, {vm2, tap}).mode,
              AttachMode::native);
}

TEST(ModeChoiceTest, RedirectsIntoATunnelAreGeneric) {
    const LinkInfo a = device("a", "veth");
    const LinkInfo vx = device("vx1", "vxlan", 1450);
    const SideMode into =
        choose_side_mode(ModePolicy::automatic, {a, veth_with_napi}, {vx, tunnel});
    EXPECT_EQ(into.mode, AttachMode::generic);
    EXPECT_EQ(into.reason,
              "a: generic: vx1 does not accept native redirects (a vxlan tunnel has no "
              "ndo_xdp_xmit)");
    const SideMode out_of =
        choose_side_mode(ModePolicy::automatic, {vx, tunnel}, {a, veth_with_napi});
    EXPECT_EQ(out_of.mode, AttachMode::generic);
    EXPECT_EQ(out_of.reason, "vx1: generic: its driver has no native XDP");
}

TEST(ModeChoiceTest, JumboFramesNeedMultiBufferOnBothEnds) {
    const LinkInfo a = device("a", "veth", 9000);
    const LinkInfo b = device("b", "veth", 9000);
    EXPECT_EQ(
        choose_side_mode(ModePolicy::automatic, {a, veth_with_napi}, {b, veth_with_napi}).mode,
        AttachMode::native);
    const LinkInfo tap9000 = device("tap9000", "tun", 9000);
    const SideMode no_sg =
        choose_side_mode(ModePolicy::automatic, {a, veth_with_napi}, {tap9000, tap});
    EXPECT_EQ(no_sg.mode, AttachMode::generic);
    EXPECT_TRUE(has(no_sg.reason, "MTU 9000 needs multi-buffer XDP, which tap9000 does not accept"))
        << no_sg.reason;
    // Frames above the smaller MTU are dropped anyway: one buffer is enough.
    const LinkInfo small = device("small", "veth", 1500);
    EXPECT_EQ(choose_side_mode(ModePolicy::automatic, {a, veth_with_napi}, {small, tap}).mode,
              AttachMode::native);
}

TEST(ModeChoiceTest, AForcedModeIsTakenAsIs) {
    const LinkInfo a = device("a", "veth");
    const LinkInfo b = device("b", "veth");
    const SideMode native = choose_side_mode(ModePolicy::native, {a, {}}, {b, veth_without_napi});
    EXPECT_EQ(native.mode, AttachMode::native);
    EXPECT_EQ(native.reason, "");
    const SideMode generic = choose_side_mode(ModePolicy::generic, {a, tap}, {b, tap});
    EXPECT_EQ(generic.mode, AttachMode::generic);
    EXPECT_EQ(generic.reason, "");
}

TEST(ModeChoiceTest, MtuMismatchNamesBothMtus) {
    EXPECT_EQ(mtu_mismatch_warning(device("veth0", "veth", 1500), device("vx1", "vxlan", 1450)),
              "frames above 1450 bytes are dropped: vx1 MTU 1450 < veth0 MTU 1500");
    EXPECT_EQ(mtu_mismatch_warning(device("a", "veth", 9000), device("b", "veth", 9000)), "");
    EXPECT_EQ(mtu_mismatch_warning(device("a", "veth", 0), device("b", "veth", 1500)), "")
        << "an MTU the kernel did not report is not a mismatch";
}

TEST(ModeChoiceTest, ARefusedNativeAttachIsSaidInWords) {
    EXPECT_EQ(native_refusal(device("j1", "veth", 9000), ERANGE),
              "native XDP refused for MTU 9000 on j1: its driver does not take frames that large "
              "in native mode (ERANGE)");
    EXPECT_EQ(native_refusal(device("eth0", ""), EOPNOTSUPP),
              "native XDP refused on eth0: its driver has no native XDP (EOPNOTSUPP)");
    EXPECT_EQ(native_refusal(device("eth0", ""), EINVAL),
              "native XDP refused on eth0: Invalid argument (EINVAL)")
        << "what the kernel said, at least";
}

}  // namespace
}  // namespace xconnect
