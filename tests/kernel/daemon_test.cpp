// xconnectd end to end: the real binary, real XDP on veth and tap devices in
// network namespaces, driven through its config file and signals, checked
// with ping, raw frames and what the kernel reports.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "daemon_fixture.hpp"
#include "frames.hpp"

namespace xconnect {
namespace {

using namespace test;

TEST_F(DaemonTest, TheOriginalDemo) {
    // Self-loop: a frame sent out of xc-1 comes straight back to it.
    start_daemon("links:\n  xconnect-1: xconnect-1\n");
    expect_log("xconnect-1<->xconnect-1: added, active (generic)");
    {
        PacketSocket ns1(*peers_[0], "xc-1");
        const Frame frame = ipv4_udp_frame({2, 0, 0, 0, 0, 0x10}, {2, 0, 0, 0, 0, 0x11}, 98, 7);
        ns1.send(frame);
        EXPECT_TRUE(ns1.receive_equal(frame)) << "the self-loop did not reflect the frame";
    }

    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
    expect_log("xconnect-1<->xconnect-1: removed");
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));

    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-3\n");
    expect_log("xconnect-1<->xconnect-3: added, active (generic)");
    EXPECT_TRUE(reachable(1, "169.254.1.30"));
    EXPECT_TRUE(unreachable(1, "169.254.1.20"));
    EXPECT_EQ(xdp_program_on("xconnect-2"), 0u) << "xconnect-2 left no program behind";

    // A malformed file is reported with file and line, and changes nothing.
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n  xconnect-3: [\n");
    expect_log(config_.string() + ":4: not valid YAML");
    EXPECT_TRUE(daemon_->logged("keeping the last good configuration (1 pair)"));
    EXPECT_TRUE(reachable(1, "169.254.1.30"));

    // A pair naming an interface that does not exist (yet) is pending.
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-3\n  xconnect-2: xconnect-asd\n");
    expect_log("xconnect-2<->xconnect-asd: added, pending (xconnect-asd absent)");
    EXPECT_EQ(xdp_program_on("xconnect-2"), 0u) << "nothing attached for a pending pair";
    EXPECT_TRUE(reachable(1, "169.254.1.30"));

    // SIGTERM detaches everything and exits cleanly.
    EXPECT_NE(xdp_program_on("xconnect-1"), 0u);
    EXPECT_EQ(daemon_->terminate(), 0) << daemon_->log_text();
    for (const char* ifname : {"xconnect-1", "xconnect-2", "xconnect-3"}) {
        EXPECT_EQ(xdp_program_on(ifname), 0u) << ifname << " still has an XDP program";
    }
    EXPECT_TRUE(unreachable(1, "169.254.1.30"));
}

TEST_F(DaemonTest, UnchangedPairKeepsForwardingWhileAnotherChanges) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_log("xconnect-1<->xconnect-2: added, active");
    const uint32_t program = xdp_program_on("xconnect-1");
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n  xconnect-3: xconnect-3\n");
    expect_log("xconnect-3<->xconnect-3: added, active");
    expect_applied();
    EXPECT_FALSE(daemon_->logged("xconnect-1<->xconnect-2: removed"));
    EXPECT_EQ(xdp_program_on("xconnect-1"), program);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(DaemonTest, PairBetweenIfindexesAbove1024Forwards) {
    auto ns4 = std::make_unique<Netns>("ns4");
    auto ns5 = std::make_unique<Netns>("ns5");
    add_veth("high-1", *ns4, "hp-1", "169.254.2.10/24", "index 2001");
    add_veth("high-2", *ns5, "hp-2", "169.254.2.20/24", "index 3002");
    start_daemon("links:\n  high-1: high-2\n");
    expect_log("high-1<->high-2: added, active (generic)");
    EXPECT_TRUE(test::reachable(*ns4, "169.254.2.20"));
    daemon_.reset();
}

TEST_F(DaemonTest, TapOfAVmForwardsBothWaysWithAVeth) {
    TapDevice vm(*host_, "tap-vm");
    sh(host_->ip() + "link set tap-vm up");
    start_daemon("links:\n  tap-vm: xconnect-1\n");
    // The tap accepts native redirects, the veth (its peer without NAPI) not.
    expect_log("tap-vm<->xconnect-1: added, active (tap-vm generic, xconnect-1 native)");

    PacketSocket ns1(*peers_[0], "xc-1");
    const Mac vm_mac{2, 0, 0, 0, 0, 0x42};
    const Mac ns1_mac{2, 0, 0, 0, 0, 0x43};
    const Frame from_vm = ipv4_udp_frame(vm_mac, ns1_mac, 200, 11);
    vm.write_frame(from_vm);
    EXPECT_TRUE(ns1.receive_equal(from_vm)) << "VM -> veth";
    const Frame to_vm = ipv4_udp_frame(ns1_mac, vm_mac, 300, 12);
    ns1.send(to_vm);
    EXPECT_TRUE(vm.read_equal(to_vm)) << "veth -> VM";
}

TEST_F(DaemonTest, ForeignXdpProgramIsLeftAloneAndThePairFails) {
    // Someone else's program, attached the legacy way.
    uint32_t foreign_id = 0;
    ASSERT_NO_THROW(foreign_id = attach_foreign_xdp_program("xconnect-2"));
    ASSERT_NE(foreign_id, 0u);

    start_daemon("links:\n  xconnect-1: xconnect-2\n  xconnect-3: xconnect-3\n");
    expect_log("xconnect-1<->xconnect-2: added, failed: xconnect-2: XDP program id " +
               std::to_string(foreign_id) +
               " (generic) is already attached by someone else; not replacing it");
    expect_applied();
    EXPECT_EQ(xdp_program_on("xconnect-2"), foreign_id) << "the foreign program was replaced";
    EXPECT_EQ(xdp_program_on("xconnect-1"), 0u) << "half a pair is attached";
    EXPECT_TRUE(daemon_->logged("xconnect-3<->xconnect-3: added, active"));
    EXPECT_TRUE(unreachable(1, "169.254.1.20"));
}

class FrameTest : public ConnectedTest {
  protected:
    void SetUp() override {
        ConnectedTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        ns1_ = std::make_unique<PacketSocket>(*peers_[0], "xc-1");
        ns2_ = std::make_unique<PacketSocket>(*peers_[1], "xc-2");
    }
    void TearDown() override {
        ns1_.reset();
        ns2_.reset();
        ConnectedTest::TearDown();
    }
    void expect_crosses(const Frame& frame, PacketSocket& from, PacketSocket& to) {
        from.send(frame);
        EXPECT_TRUE(to.receive_equal(frame))
            << "sent " << hex(frame) << "\nreceived " << to.received().size()
            << " other frames; the last of its size, or the last: " << nearest(to, frame);
    }
    // What came instead: a frame of the same size shows which bytes differ
    // (the kernel's own IPv6 chatter would not).
    static std::string nearest(const PacketSocket& socket, const Frame& frame) {
        const auto& got = socket.received();
        for (auto it = got.rbegin(); it != got.rend(); ++it) {
            if (it->size() == frame.size()) {
                return hex(*it);
            }
        }
        return got.empty() ? "-" : hex(got.back());
    }

    const Mac mac1_{2, 0, 0, 0, 1, 1};
    const Mac mac2_{2, 0, 0, 0, 2, 2};
    std::unique_ptr<PacketSocket> ns1_;
    std::unique_ptr<PacketSocket> ns2_;
};

TEST_F(FrameTest, EverySizeUpToTheMtuCrossesUnchanged) {
    uint32_t marker = 100;
    for (size_t size : {60, 64, 65, 128, 512, 1000, 1514}) {
        SCOPED_TRACE("frame of " + std::to_string(size) + " bytes");
        expect_crosses(ipv4_udp_frame(mac1_, mac2_, size, ++marker), *ns1_, *ns2_);
        expect_crosses(ipv4_udp_frame(mac2_, mac1_, size, ++marker), *ns2_, *ns1_);
    }
}

TEST_F(FrameTest, VlanTaggedFramesCrossUnchanged) {
    expect_crosses(vlan_frame(mac1_, mac2_, 100, 64, 201), *ns1_, *ns2_);
    expect_crosses(vlan_frame(mac2_, mac1_, 4094, 1518, 202), *ns2_, *ns1_);
}

TEST_F(FrameTest, ArpAndIpv6CrossUnchanged) {
    expect_crosses(arp_request_frame(mac1_, 0xa9fe010a, 0xa9fe0114), *ns1_, *ns2_);
    expect_crosses(ipv6_frame(mac1_, mac2_, 94, 301), *ns1_, *ns2_);
    expect_crosses(ipv6_frame(mac2_, mac1_, 1514, 302), *ns2_, *ns1_);
}

// A patch cable carries what a Linux bridge keeps to itself by default: the
// link-local control frames to 01:80:c2:00:00:0X (bench/results/transparency.md
// has what a bridge and tc mirred do with each) and QinQ.
TEST_F(FrameTest, StpBpduCrossesUnchangedBothWays) {
    expect_crosses(stp_config_bpdu(mac1_, 401), *ns1_, *ns2_);
    expect_crosses(stp_config_bpdu(mac2_, 402), *ns2_, *ns1_);
}

TEST_F(FrameTest, LacpduCrossesUnchangedBothWays) {
    expect_crosses(lacpdu(mac1_, 0x00010001), *ns1_, *ns2_);
    expect_crosses(lacpdu(mac2_, 0x00020002), *ns2_, *ns1_);
}

TEST_F(FrameTest, EapolStartCrossesUnchangedBothWays) {
    expect_crosses(eapol_start(mac1_, 501), *ns1_, *ns2_);
    expect_crosses(eapol_start(mac2_, 502), *ns2_, *ns1_);
}

TEST_F(FrameTest, LldpduCrossesUnchangedBothWays) {
    expect_crosses(lldp_frame(mac1_, 601), *ns1_, *ns2_);
    expect_crosses(lldp_frame(mac2_, 602), *ns2_, *ns1_);
}

// Byte for byte with both tags: the outer one (TPID 0x88a8, PCP and DEI set)
// is read back from PACKET_AUXDATA, where the receiving stack moved it. Up to
// 1514 bytes: beyond the MTU a packet socket sends only an 0x8100-tagged frame.
TEST_F(FrameTest, QinQFramesCrossUnchangedWithBothTagsBothWays) {
    uint32_t marker = 700;
    for (size_t size : {64, 65, 512, 1514}) {
        SCOPED_TRACE("QinQ frame of " + std::to_string(size) + " bytes");
        expect_crosses(qinq_frame(mac1_, mac2_, 0xb000 | 100, 0x2000 | 200, size, ++marker), *ns1_,
                       *ns2_);
        expect_crosses(qinq_frame(mac2_, mac1_, 4094, 0xe000 | 1, size, ++marker), *ns2_, *ns1_);
    }
}

// A 1500-byte payload inside two tags is 1522 bytes, one tag more than the
// kernel lets through a 1500-MTU interface (MTU + header + 4): carrier links
// run at MTU 1504 for it, and so do the pair's interfaces here. The sending
// peers need 1508, because a packet socket allows those 4 bytes beyond the MTU
// to an 0x8100 tag only.
TEST_F(FrameTest, FullSizeQinQOf1522BytesCrossesUnchangedBothWaysAtMtu1504) {
    for (int n = 1; n <= 2; ++n) {
        sh(host_->ip() + "link set xconnect-" + std::to_string(n) + " mtu 1504");
        sh(peers_[n - 1]->ip() + "link set xc-" + std::to_string(n) + " mtu 1508");
    }
    expect_crosses(qinq_frame(mac1_, mac2_, 100, 200, 1522, 801), *ns1_, *ns2_);
    expect_crosses(qinq_frame(mac2_, mac1_, 100, 200, 1522, 802), *ns2_, *ns1_);
}

class EditorTest : public ConnectedTest {
  protected:
    const std::string to_three_ = "links:\n  xconnect-1: xconnect-3\n";
};

TEST_F(EditorTest, RenameOver) {
    replace_by_rename(config_, to_three_);
    expect_log("xconnect-1<->xconnect-3: added, active");
    EXPECT_TRUE(reachable(1, "169.254.1.30"));
}

TEST_F(EditorTest, CopyOver) {
    const fs::path source = config_dir_ / "elsewhere.yaml";
    write_whole(source, to_three_, O_CREAT | O_TRUNC);
    fs::copy_file(source, config_, fs::copy_options::overwrite_existing);
    expect_log("xconnect-1<->xconnect-3: added, active");
    EXPECT_TRUE(reachable(1, "169.254.1.30"));
}

TEST_F(EditorTest, TruncateThenWrite) {
    // An empty file in between is invalid and changes nothing ...
    write_whole(config_, "", O_TRUNC);
    write_whole(config_, to_three_, O_TRUNC);
    expect_log("xconnect-1<->xconnect-3: added, active");
    EXPECT_TRUE(reachable(1, "169.254.1.30"));
}

TEST_F(EditorTest, WriteInPiecesIsReadOnceWhole) {
    // ... and a file written in pieces is read when the writer closes it:
    // the first piece alone would name an absent interface "xconn".
    {
        UniqueFd fd(open(config_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
        ASSERT_TRUE(fd);
        const std::string first = to_three_.substr(0, 20);
        const std::string rest = to_three_.substr(20);
        ASSERT_EQ(write(fd.get(), first.data(), first.size()), ssize_t(first.size()));
        ASSERT_EQ(fsync(fd.get()), 0);
        ASSERT_EQ(write(fd.get(), rest.data(), rest.size()), ssize_t(rest.size()));
    }
    expect_log("xconnect-1<->xconnect-3: added, active");
    EXPECT_FALSE(daemon_->logged("xconn<->")) << daemon_->log_text();
    EXPECT_FALSE(daemon_->logged("<->xconn ")) << daemon_->log_text();
}

TEST_F(EditorTest, DeletedFileKeepsThePairsAndItsReturnIsApplied) {
    fs::remove(config_);
    expect_log("does not exist; keeping the running 1 pair");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    replace_by_rename(config_, to_three_);
    expect_log("xconnect-1<->xconnect-3: added, active");
}

TEST_F(EditorTest, SighupReloads) {
    daemon_->signal(SIGHUP);
    expect_log("SIGHUP: reloading");
    expect_applied();
    EXPECT_FALSE(daemon_->logged("xconnect-1<->xconnect-2: removed"));
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(DaemonTest, MissingFileAtStartIsWaitedFor) {
    daemon_ = start_xconnectd({"--no-bus", "-conf", config_.string()});
    expect_log("does not exist; keeping the running 0 pairs");
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
    expect_log("xconnect-1<->xconnect-2: added, active");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(DaemonTest, BadCommandLineExitsWithUsage) {
    ChildProcess bad(XCONNECTD_PATH, {"--xdp-mode", "fast"}, host_.get());
    EXPECT_NO_THROW(bad.expect_log("--xdp-mode must be auto, native or generic"));
    EXPECT_EQ(bad.wait_exit(), 2);
}

TEST_F(DaemonTest, ItSaysWhoItRunsAsAndWithWhichCapabilities) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_log("running as user root (uid 0) with CAP_NET_ADMIN CAP_PERFMON CAP_BPF");
    expect_log("xconnect-1<->xconnect-2: added, active");
}

// Each of the two capabilities forwarding needs taken away in turn: the daemon refuses
// to start, naming the one it lacks and what needs it, and leaves nothing
// attached; the kernel alone would say EPERM.
TEST_F(DaemonTest, AMissingCapabilityIsNamedNotABareEperm) {
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"+bpf",
         "missing capability CAP_NET_ADMIN, needed to load an XDP program, to create the "
         "DEVMAP"},
        {"+net_admin", "missing capability CAP_BPF, needed to load the XDP program"}};
    for (const auto& [kept, message] : cases) {
        ChildProcess confined("/usr/bin/setpriv",
                              {"--inh-caps=-all," + kept, "--ambient-caps=-all," + kept,
                               "--bounding-set=-all," + kept, "--", XCONNECTD_PATH, "--no-bus",
                               "--config", config_.string()},
                              host_.get());
        EXPECT_NO_THROW(confined.expect_log(message)) << "with only " << kept;
        EXPECT_EQ(confined.wait_exit(), 1) << "with only " << kept;
        EXPECT_FALSE(confined.logged("Operation not permitted")) << confined.log_text();
        EXPECT_EQ(xdp_program_on("xconnect-1"), 0u);
    }
}

}  // namespace
}  // namespace xconnect
