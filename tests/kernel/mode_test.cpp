// Auto mode per side, from what the kernel's netdev family reports: veths
// whose peers run NAPI (GRO on) and taps run native, a change at a peer
// re-decides the side it concerns, and frames cross in every mix.
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <net/if.h>

#include "daemon_fixture.hpp"
#include "frames.hpp"

namespace xconnect {
namespace {

using namespace test;

class ModeTest : public DaemonTest {
  protected:
    void gro(int peer, bool on) {
        sh("nsenter --net=" + peers_[peer - 1]->path() + " ethtool -K xc-" + std::to_string(peer) +
           " gro " + (on ? "on" : "off"));
    }
    uint8_t attach_mode_of(const std::string& ifname) {
        NetnsScope in_host(*host_);
        LIBBPF_OPTS(bpf_xdp_query_opts, query);
        EXPECT_EQ(bpf_xdp_query(static_cast<int>(if_nametoindex(ifname.c_str())), 0, &query), 0);
        return query.attach_mode;
    }
    void expect_crossing(PacketSocket& ns1, PacketSocket& ns2, uint32_t marker) {
        const Frame there = ipv4_udp_frame(mac1_, mac2_, 1000, marker);
        ns1.send(there);
        EXPECT_TRUE(ns2.receive_equal(there)) << "xc-1 -> xc-2";
        const Frame back = ipv4_udp_frame(mac2_, mac1_, 1000, marker + 1);
        ns2.send(back);
        EXPECT_TRUE(ns1.receive_equal(back)) << "xc-2 -> xc-1";
    }
    const Mac mac1_{2, 0, 0, 0, 7, 1};
    const Mac mac2_{2, 0, 0, 0, 7, 2};
};

TEST_F(ModeTest, VethsWhosePeersRunGroGoNativeAndFollowAChangeAtAPeer) {
    gro(1, true);
    gro(2, true);
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_log("xconnect-1<->xconnect-2: added, active (native)");
    expect_log(
        "xconnect-1<->xconnect-2: why this mode: xconnect-1: native: xconnect-2 accepts "
        "native redirects (its peer runs NAPI); xconnect-2: native: xconnect-1 accepts "
        "native redirects (its peer runs NAPI)");
    EXPECT_EQ(attach_mode_of("xconnect-1"), XDP_ATTACHED_DRV);
    EXPECT_EQ(attach_mode_of("xconnect-2"), XDP_ATTACHED_DRV);
    PacketSocket ns1(*peers_[0], "xc-1");
    PacketSocket ns2(*peers_[1], "xc-2");
    expect_crossing(ns1, ns2, 700);

    // xc-2 stops running NAPI: native redirects into xconnect-2 would be
    // dropped, so the side that sends into it turns generic; the other stays.
    gro(2, false);
    expect_log("xconnect-1<->xconnect-2: active (xconnect-1 generic, xconnect-2 native)");
    EXPECT_EQ(attach_mode_of("xconnect-1"), XDP_ATTACHED_SKB);
    EXPECT_EQ(attach_mode_of("xconnect-2"), XDP_ATTACHED_DRV);
    expect_crossing(ns1, ns2, 710);

    gro(2, true);
    expect_log("xconnect-1<->xconnect-2: active (native)");
    expect_crossing(ns1, ns2, 720);
}

TEST_F(ModeTest, DefaultVethsStayGenericSayingWhy) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    expect_log(
        "xconnect-1<->xconnect-2: why this mode: xconnect-1: generic: xconnect-2 does not "
        "accept native redirects (a veth whose peer has no NAPI: GRO off, no XDP program)");
}

TEST_F(ModeTest, TwoTapsAsTwoVmsRunNative) {
    TapDevice vm1(*host_, "tap-vm1");
    TapDevice vm2(*host_, "tap-vm2");
    sh(host_->ip() + "link set tap-vm1 up");
    sh(host_->ip() + "link set tap-vm2 up");
    start_daemon("links:\n  tap-vm1: tap-vm2\n");
    expect_log("tap-vm1<->tap-vm2: added, active (native)");
    EXPECT_EQ(attach_mode_of("tap-vm1"), XDP_ATTACHED_DRV);
    EXPECT_EQ(attach_mode_of("tap-vm2"), XDP_ATTACHED_DRV);
    for (size_t size : {size_t{60}, size_t{1514}}) {
        const Frame there = ipv4_udp_frame(mac1_, mac2_, size, 730);
        vm1.write_frame(there);
        EXPECT_TRUE(vm2.read_equal(there)) << "vm1 -> vm2, " << size << " bytes";
        const Frame back = ipv4_udp_frame(mac2_, mac1_, size, 731);
        vm2.write_frame(back);
        EXPECT_TRUE(vm1.read_equal(back)) << "vm2 -> vm1, " << size << " bytes";
    }
}

}  // namespace
}  // namespace xconnect
