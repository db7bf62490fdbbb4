// Drop accounting against the real daemon and the real kernel: exactly N
// frames the kernel must drop (target down, a VXLAN target's smaller MTU, a
// native redirect into a veth whose peer has no NAPI) raise
// LeftToRightDropped by exactly N, with DropReason saying why, in every
// front end; a healthy pair carrying 100 000 frames counts none.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "bus_fixture.hpp"
#include "frames.hpp"
#include "user_readable.hpp"

namespace xconnect {
namespace {

using namespace test;

const Mac kLeftMac{2, 0, 0, 0, 0xd0, 1};
const Mac kRightMac{2, 0, 0, 0, 0xd0, 2};
const std::string kPair = "/org/xconnect/pair/xconnect_2d1";

class DropTest : public BusTest {
  protected:
    void SetUp() override {
        if (!fs::exists("/sys/kernel/btf/vmlinux")) {
            GTEST_SKIP() << "this kernel has no BTF (/sys/kernel/btf/vmlinux): the drop-accounting "
                            "programs (CO-RE) cannot load; the systemd VM tier checks they start "
                            "in Debian's stock kernel";
        }
        BusTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        // Only the test's frames cross: the peers' own stacks keep quiet
        // (IPv6 would send router and neighbour solicitations).
        for (int n = 1; n <= 2; ++n) {
            sh(peers_[n - 1]->exec() + "sysctl -qw net.ipv6.conf.xc-" + std::to_string(n) +
               ".disable_ipv6=1");
        }
    }
    Outcome ctl(const std::string& args) {
        return run(xconnectctl_.string() + " " + args + " </dev/null");
    }
    void gro(int peer, bool on) {
        sh(peers_[peer - 1]->exec() + "ethtool -K xc-" + std::to_string(peer) + " gro " +
           (on ? "on" : "off"));
    }
    // Sends `count` frames of `size` bytes in at xc-1.
    void send_left(size_t count, size_t size, uint32_t first_marker = 0) {
        PacketSocket socket(*peers_[0], "xc-1");
        for (uint32_t i = 0; i < count; ++i) {
            socket.send(ipv4_udp_frame(kLeftMac, kRightMac, size, first_marker + i));
        }
    }
    // The counter once it has stopped moving: the frames sent are processed
    // in softirqs after send() returned. Fails if it does not reach `at_least`.
    uint64_t settled(const std::string& name, uint64_t at_least) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        uint64_t value = counter(kPair, name);
        while (value < at_least && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            value = counter(kPair, name);
        }
        // And stays there: nothing counted twice or late.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return counter(kPair, name);
    }
    // The log says when the spell began (with the frames seen by then);
    // DropReason follows the count, read again within a second.
    void expect_reason(const std::string& reason,
                       const std::string& label = "xconnect-1<->xconnect-2") {
        ASSERT_NO_THROW(bus_->log().expect_log(label + ": losing frames: "));
        std::string quoted;  // as busctl prints it
        for (char c : reason) {
            quoted += c == '\'' ? std::string("\\'") : std::string(1, c);
        }
        const std::string wanted = "s \"" + quoted + "\"\n";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        std::string shown = property(kPair, "DropReason");
        while (shown != wanted && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            shown = property(kPair, "DropReason");
        }
        EXPECT_EQ(shown, wanted);
    }

    const UserReadableCopy installed_{{XCONNECTCTL_PATH}};
    const fs::path xconnectctl_ = installed_["xconnectctl"];
};

class DropModeTest : public DropTest, public testing::WithParamInterface<bool> {};

TEST_P(DropModeTest, FramesToATargetThatIsDownAreCountedWithTheReason) {
    const bool native = GetParam();
    gro(1, native);
    gro(2, native);
    ASSERT_EQ(ctl("add xconnect-1 xconnect-2").status, 0);
    EXPECT_EQ(property(kPair, "Mode"),
              std::string("s \"") + (native ? "native" : "generic") + "\"\n");
    sh(host_->ip() + "link set xconnect-2 down");
    constexpr uint64_t sent = 50;
    send_left(sent, 200);
    EXPECT_EQ(settled("LeftToRightDropped", sent), sent);
    EXPECT_EQ(counter(kPair, "RightToLeftDropped"), 0u);
    expect_reason("left to right: xconnect-2 is down");

    // Every front end: the CLI's table, status and JSON, and GetAllStatistics.
    const Outcome table = ctl("list");
    EXPECT_NE(table.output.find("DROPPED"), std::string::npos) << table.output;
    const Outcome status = ctl("status xconnect-1");
    EXPECT_NE(status.output.find("Dropping: left to right: xconnect-2 is down"), std::string::npos)
        << status.output;
    EXPECT_NE(status.output.find("bytes, 50 dropped; now"), std::string::npos) << status.output;
    const Outcome json = ctl("--json list");
    EXPECT_NE(json.output.find("\"drop_reason\": \"left to right: xconnect-2 is down\""),
              std::string::npos)
        << json.output;
    EXPECT_NE(json.output.find("\"dropped\": 50"), std::string::npos) << json.output;
    const std::string statistics = busctl(std::string("call ") + manager + "GetAllStatistics");
    EXPECT_NE(statistics.find("\"LeftToRightDropped\" 50"), std::string::npos) << statistics;

    // A spell ends a few seconds after its last drop; the count stays.
    ASSERT_NO_THROW(bus_->log().expect_log("xconnect-1<->xconnect-2: no longer losing frames"));
    EXPECT_EQ(property(kPair, "DropReason"), "s \"\"\n");
    EXPECT_EQ(counter(kPair, "LeftToRightDropped"), sent);
}

TEST_P(DropModeTest, AHealthyPairCarryingAHundredThousandFramesCountsNone) {
    const bool native = GetParam();
    gro(1, native);
    gro(2, native);
    ASSERT_EQ(ctl("add xconnect-1 xconnect-2").status, 0);
    constexpr uint64_t sent = 100'000;
    send_left(sent, 64);
    EXPECT_GE(settled("LeftToRightPackets", sent), sent);
    EXPECT_EQ(counter(kPair, "LeftToRightDropped"), 0u);
    EXPECT_EQ(counter(kPair, "RightToLeftDropped"), 0u);
    EXPECT_EQ(property(kPair, "DropReason"), "s \"\"\n");
    EXPECT_FALSE(bus_->log().logged("losing frames"));
}

INSTANTIATE_TEST_SUITE_P(Modes, DropModeTest, testing::Bool(),
                         [](const auto& info) { return info.param ? "native" : "generic"; });

TEST_F(DropTest, FramesLongerThanAVxlanTargetsMtuAreCountedExactly) {
    sh(host_->ip() + "link add vx-d0 mtu 1450 type vxlan id 4242 dstport 4789 remote 192.0.2.1");
    sh(host_->ip() + "link set vx-d0 up");
    ASSERT_EQ(ctl("add xconnect-1 vx-d0").status, 0);
    constexpr uint64_t too_long = 30;
    send_left(10, 1000);  // these fit: sent on into the tunnel
    send_left(too_long, 1514, 100);
    EXPECT_EQ(settled("LeftToRightDropped", too_long), too_long);
    expect_reason("left to right: 30 frames longer than vx-d0's MTU 1450", "xconnect-1<->vx-d0");
}

TEST_F(DropTest, NativeRedirectsIntoAVethWhosePeerHasNoNapiAreCounted) {
    gro(1, false);
    gro(2, false);
    replace_by_rename(config_, "links:\n  xconnect-1: {peer: xconnect-2, xdp-mode: native}\n");
    ASSERT_EQ(ctl("list").status, 0);  // activates the daemon with that file
    ASSERT_NO_THROW(bus_->log().expect_log("xconnect-1<->xconnect-2: added, active (native)"));
    constexpr uint64_t sent = 40;
    send_left(sent, 300);
    EXPECT_EQ(settled("LeftToRightDropped", sent), sent);
    expect_reason("left to right: xconnect-2 cannot take native redirects (its peer has no NAPI)");
}

}  // namespace
}  // namespace xconnect
