// MTUs at the edges of the wire. Jumbo frames: 9000-MTU veth pairs in native
// and generic mode, frames of 9000 bytes crossing byte for byte, and a driver
// that refuses native XDP at that MTU named as such (the program is
// frags-aware; a build of it that is not stands in for a driver without
// multi-buffer support). And two different MTUs: the frames the kernel drops
// for their size are said, and the warning goes when the MTUs agree.
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <algorithm>
#include <memory>

#include "daemon_fixture.hpp"
#include "frames.hpp"

namespace xconnect {
namespace {

using namespace test;

constexpr uint32_t jumbo_mtu = 9000;
constexpr size_t jumbo_frame = jumbo_mtu + 14;  // the Ethernet header on top

class JumboTest : public DaemonTest {
  protected:
    void SetUp() override {
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        for (int n : {1, 2}) {
            const std::string side = std::to_string(n);
            sh(host_->ip() + "link set xconnect-" + side + " mtu " + std::to_string(jumbo_mtu));
            sh(peers_[n - 1]->ip() + "link set xc-" + side + " mtu " + std::to_string(jumbo_mtu));
        }
    }
    void TearDown() override {
        ns1_.reset();
        ns2_.reset();
        DaemonTest::TearDown();
    }

    // A native redirect into a veth is delivered only if its peer runs NAPI.
    void gro_on_the_peers() {
        for (int n : {1, 2}) {
            sh("nsenter --net=" + peers_[n - 1]->path() + " ethtool -K xc-" + std::to_string(n) +
               " gro on");
        }
    }

    void open_sockets() {
        ns1_ = std::make_unique<PacketSocket>(*peers_[0], "xc-1");
        ns2_ = std::make_unique<PacketSocket>(*peers_[1], "xc-2");
    }

    uint8_t attach_mode_of(const std::string& ifname) {
        NetnsScope in_host(*host_);
        LIBBPF_OPTS(bpf_xdp_query_opts, query);
        EXPECT_EQ(bpf_xdp_query(static_cast<int>(if_nametoindex(ifname.c_str())), 0, &query), 0);
        return query.attach_mode;
    }

    void expect_every_size_crosses_both_ways() {
        uint32_t marker = 900;
        // One buffer, a page and more, the whole MTU.
        for (size_t size : {size_t{64}, size_t{1514}, size_t{4000}, size_t{8000}, jumbo_frame}) {
            SCOPED_TRACE("frame of " + std::to_string(size) + " bytes");
            expect_crosses(ipv4_udp_frame(mac1_, mac2_, size, ++marker), *ns1_, *ns2_);
            expect_crosses(ipv4_udp_frame(mac2_, mac1_, size, ++marker), *ns2_, *ns1_);
        }
    }

    void expect_crosses(const Frame& frame, PacketSocket& from, PacketSocket& to) {
        from.send(frame);
        EXPECT_TRUE(to.receive_equal(frame))
            << "sent " << frame.size() << " bytes; received " << to.received().size()
            << " other frames, last of "
            << (to.received().empty() ? 0 : to.received().back().size()) << " bytes";
    }

    const Mac mac1_{2, 0, 0, 0, 9, 1};
    const Mac mac2_{2, 0, 0, 0, 9, 2};
    std::unique_ptr<PacketSocket> ns1_;
    std::unique_ptr<PacketSocket> ns2_;
};

TEST_F(JumboTest, NineThousandByteFramesCrossInNativeMode) {
    gro_on_the_peers();
    start_daemon("links:\n  xconnect-1: xconnect-2\n", {"--xdp-mode", "native"});
    expect_log("xconnect-1<->xconnect-2: added, active (native)");
    EXPECT_EQ(attach_mode_of("xconnect-1"), XDP_ATTACHED_DRV);
    EXPECT_EQ(attach_mode_of("xconnect-2"), XDP_ATTACHED_DRV);
    open_sockets();
    expect_every_size_crosses_both_ways();
}

TEST_F(JumboTest, NineThousandByteFramesCrossInGenericMode) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n", {"--xdp-mode", "generic"});
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    EXPECT_EQ(attach_mode_of("xconnect-1"), XDP_ATTACHED_SKB);
    open_sockets();
    expect_every_size_crosses_both_ways();
}

TEST_F(JumboTest, ADriverThatRefusesNativeXdpAtThisMtuIsNamed) {
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
    std::vector<std::string> command = xconnectd_as_the_unit_runs_it(
        {"--no-bus", "--config", config_.string(), "--xdp-mode", "native"});
    std::replace(command.begin(), command.end(), std::string(XCONNECTD_PATH),
                 std::string(XCONNECTD_SINGLE_BUFFER_PATH));
    const std::string program = command.front();
    command.erase(command.begin());
    daemon_ = std::make_unique<ChildProcess>(program, command, host_.get());
    expect_log(
        "xconnect-1<->xconnect-2: added, failed: native XDP refused for MTU 9000 on "
        "xconnect-1: its driver does not take frames that large in native mode (ERANGE)");
    EXPECT_EQ(xdp_program_on("xconnect-1"), 0u) << "no half-attached pair";
    EXPECT_EQ(xdp_program_on("xconnect-2"), 0u);
}

TEST_F(DaemonTest, DifferentMtusAreWarnedOfAndTheWarningGoesWhenTheyAgree) {
    sh(host_->ip() + "link set xconnect-2 mtu 1400");
    sh(peers_[1]->ip() + "link set xc-2 mtu 1400");
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    expect_log(
        "xconnect-1<->xconnect-2: frames above 1400 bytes are dropped: xconnect-2 MTU 1400 "
        "< xconnect-1 MTU 1500");

    // What the warning says: the kernel drops the larger frames, silently.
    PacketSocket ns1(*peers_[0], "xc-1");
    PacketSocket ns2(*peers_[1], "xc-2");
    const Mac mac1{2, 0, 0, 0, 8, 1};
    const Mac mac2{2, 0, 0, 0, 8, 2};
    const Frame fits = ipv4_udp_frame(mac1, mac2, 1414, 801);
    ns1.send(fits);
    EXPECT_TRUE(ns2.receive_equal(fits));
    // Frames of one flow keep their order: once the one after it is in,
    // the large one is lost.
    const Frame too_large = ipv4_udp_frame(mac1, mac2, 1514, 802);
    const Frame after_it = ipv4_udp_frame(mac1, mac2, 1414, 804);
    ns1.send(too_large);
    ns1.send(after_it);
    EXPECT_TRUE(ns2.receive_equal(after_it));
    EXPECT_EQ(std::count(ns2.received().begin(), ns2.received().end(), too_large), 0);
    const Frame back = ipv4_udp_frame(mac2, mac1, 1414, 803);
    ns2.send(back);
    EXPECT_TRUE(ns1.receive_equal(back)) << "the smaller side's frames fit the larger one";

    sh(host_->ip() + "link set xconnect-1 mtu 1400");  // the usual fix
    expect_log("xconnect-1<->xconnect-2: no frames are dropped for their size any more");
}

}  // namespace
}  // namespace xconnect
