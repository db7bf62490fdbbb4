// Pairs follow their interfaces: xconnectd reacts to rtnetlink link events by
// itself, with nobody touching the config file.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>

#include "daemon_fixture.hpp"
#include "frames.hpp"

namespace xconnect {
namespace {

using namespace test;

std::string two_digits(int n) {
    return (n < 10 ? "0" : "") + std::to_string(n);
}

class LinkTrackingTest : public DaemonTest {
  protected:
    // A veth "name" in the host namespace, its peer in a namespace of its own
    // at `address`.
    Netns& add_host_veth(const std::string& name, const std::string& address) {
        extra_.push_back(std::make_unique<Netns>(name));
        add_veth(name, *extra_.back(), "peer", address);
        return *extra_.back();
    }
    void TearDown() override {
        DaemonTest::TearDown();  // stops the daemon first
        extra_.clear();
    }
    std::vector<std::unique_ptr<Netns>> extra_;
};

TEST_F(LinkTrackingTest, PairFollowsItsInterfacesThroughTheirLife) {
    start_daemon("links:\n  lt-a: lt-b\n");
    expect_log("lt-a<->lt-b: added, pending (lt-a and lt-b absent)");

    // Both appear: active, forwarding, without touching the file.
    Netns& a_side = add_host_veth("lt-a", "169.254.3.10/24");
    add_host_veth("lt-b", "169.254.3.20/24");
    expect_log("lt-a<->lt-b: active (generic)");
    EXPECT_TRUE(test::reachable(a_side, "169.254.3.20"));
    const uint32_t program = xdp_program_on("lt-a");
    EXPECT_NE(program, 0u);

    // One is deleted: pending, and nothing stays attached to the other.
    sh(host_->ip() + "link del lt-b");
    expect_log("lt-a<->lt-b: pending (lt-b absent)");
    EXPECT_EQ(xdp_program_on("lt-a"), 0u);

    // Recreated, with a new ifindex: active and forwarding again.
    add_veth("lt-b", *extra_.back(), "peer2", "169.254.3.21/24");
    expect_log("lt-a<->lt-b: active (generic)");
    EXPECT_TRUE(test::reachable(a_side, "169.254.3.21"));

    // Renamed away (pending), and back (active).
    sh(host_->ip() + "link set lt-b down");
    sh(host_->ip() + "link set lt-b name lt-renamed");
    expect_log("lt-a<->lt-b: pending (lt-b absent)");
    sh(host_->ip() + "link set lt-renamed name lt-b");
    sh(host_->ip() + "link set lt-b up");
    expect_log("lt-a<->lt-b: active (generic)");
    EXPECT_TRUE(test::reachable(a_side, "169.254.3.21"));

    // Down and up: logged; forwarding resumes by itself.
    sh(host_->ip() + "link set lt-a down");
    expect_log("lt-a<->lt-b: lt-a is down (forwarding resumes when it is up)");
    EXPECT_TRUE(test::unreachable(a_side, "169.254.3.21"));
    sh(host_->ip() + "link set lt-a up");
    expect_log("lt-a<->lt-b: lt-a is up");
    EXPECT_TRUE(test::reachable(a_side, "169.254.3.21"));
    EXPECT_EQ(daemon_->terminate(), 0);
}

TEST_F(LinkTrackingTest, UntouchedPairLosesNoFrameWhileAnotherChurns) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n  churn-a: churn-b\n");
    expect_log("xconnect-1<->xconnect-2: added, active");
    const uint32_t program = xdp_program_on("xconnect-1");
    PacketSocket ns1(*peers_[0], "xc-1");
    PacketSocket ns2(*peers_[1], "xc-2");
    auto sink = std::make_unique<Netns>("sink");

    std::vector<Frame> sent;
    for (int round = 0; round < 5; ++round) {
        for (int n = 0; n < 40; ++n) {
            sent.push_back(ipv4_udp_frame({2, 0, 0, 0, 1, 1}, {2, 0, 0, 0, 2, 2}, 64,
                                          static_cast<uint32_t>(sent.size())));
            ns1.send(sent.back());
            if (n == 10) {
                sh(host_->ip() + "link add name churn-a type veth peer name ca netns " +
                   sink->name());
                sh(host_->ip() + "link add name churn-b type veth peer name cb netns " +
                   sink->name());
            }
            if (n == 25) {
                ASSERT_NO_THROW(daemon_->expect_log("churn-a<->churn-b: active"));
                sh(host_->ip() + "link del churn-a");
                sh(host_->ip() + "link del churn-b");
            }
        }
        ASSERT_NO_THROW(daemon_->expect_log("churn-a<->churn-b: pending"));
    }
    for (size_t i = 0; i < sent.size(); ++i) {
        ASSERT_TRUE(ns2.receive_equal(sent[i]))
            << "frame " << i << " of " << sent.size() << " was lost";
    }
    EXPECT_EQ(xdp_program_on("xconnect-1"), program) << "the untouched pair was re-attached";
    EXPECT_FALSE(daemon_->logged("xconnect-1<->xconnect-2: pending"));
    EXPECT_FALSE(daemon_->logged("xconnect-1<->xconnect-2: removed"));
}

// 50 pairs for 100 absent interfaces, created and deleted in one `ip -batch`.
class BurstTest : public LinkTrackingTest {
  protected:
    static constexpr int pairs = 50;

    std::string config() const {
        std::string text = "links:\n";
        for (int n = 0; n < pairs; ++n) {
            text += "  bu" + two_digits(n) + "a: bu" + two_digits(n) + "b\n";
        }
        return text;
    }
    std::vector<std::string> lines(const std::string& state) const {
        std::vector<std::string> result;
        for (int n = 0; n < pairs; ++n) {
            result.push_back("bu" + two_digits(n) + "a<->bu" + two_digits(n) + "b: " + state);
        }
        return result;
    }
    void batch(const std::string& command_of_one) {
        const fs::path file = config_dir_ / "batch";
        std::ofstream out(file);
        for (int n = 0; n < pairs; ++n) {
            for (const char* side : {"a", "b"}) {
                std::string line = command_of_one;
                for (size_t at; (at = line.find("NAME")) != std::string::npos;) {
                    line.replace(at, 4, "bu" + two_digits(n) + side);
                }
                out << line << "\n";
            }
        }
        out.close();
        sh("ip -n " + host_->name() + " -batch " + file.string());
    }
    // `frozen`: the daemon is stopped (SIGSTOP) during each batch, so that
    // the events pile up in its socket: with a small buffer, an overrun.
    void churn_twice(bool frozen = false) {
        auto sink = std::make_unique<Netns>("sink");
        auto batch_while = [&](const std::string& command) {
            if (frozen) {
                daemon_->signal(SIGSTOP);
            }
            batch(command);
            if (frozen) {
                daemon_->signal(SIGCONT);
            }
        };
        for (int round = 0; round < 2; ++round) {
            SCOPED_TRACE("round " + std::to_string(round));
            batch_while("link add name NAME type veth peer name p-NAME netns " + sink->name());
            ASSERT_NO_THROW(daemon_->expect_logs(lines("active (generic)")));
            const uint32_t program = xdp_program_on("bu00a");
            EXPECT_NE(program, 0u);
            for (int n = 0; n < pairs; ++n) {
                EXPECT_EQ(xdp_program_on("bu" + two_digits(n) + "a"), program);
                EXPECT_EQ(xdp_program_on("bu" + two_digits(n) + "b"), program);
            }
            batch_while("link del NAME");
            ASSERT_NO_THROW(daemon_->expect_logs(lines("pending (")));
        }
    }
};

TEST_F(BurstTest, EveryPairEndsInTheRightState) {
    start_daemon(config());
    expect_applied();
    churn_twice();
    EXPECT_FALSE(daemon_->logged("overrun")) << "the default buffer should hold such a burst";
}

TEST_F(BurstTest, OverrunIsRepairedByAResync) {
    // A buffer far too small for the burst, and a daemon that cannot read
    // meanwhile: events are lost, the daemon notices (ENOBUFS), dumps again
    // and still gets every pair right.
    start_daemon(config(), {"--netlink-rcvbuf", "4096"});
    expect_applied();
    churn_twice(/*frozen=*/true);
    EXPECT_TRUE(daemon_->logged("receive buffer overrun")) << daemon_->log_text();
}

// Someone else meddles with an active pair's interfaces.
using InterferenceTest = ConnectedTest;

TEST_F(InterferenceTest, OurProgramRemovedBySomeoneElseIsReportedNotFought) {
    sh(host_->ip() + "link set dev xconnect-2 xdpgeneric off");
    expect_log(
        "xconnect-1<->xconnect-2: failed: xconnect-2: our XDP program was removed by "
        "someone else");
    EXPECT_EQ(xdp_program_on("xconnect-1"), 0u) << "no half-attached pair";
    // More news about the pair's interfaces does not make the daemon take it back.
    sh(host_->ip() + "link set xconnect-1 down");
    sh(host_->ip() + "link set xconnect-1 up");
    expect_log("xconnect-1<->xconnect-2: xconnect-1 is up");
    EXPECT_EQ(xdp_program_on("xconnect-2"), 0u);
    EXPECT_TRUE(unreachable(1, "169.254.1.20"));
    // A reload does.
    daemon_->signal(SIGHUP);
    expect_log("xconnect-1<->xconnect-2: active (generic)");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(InterferenceTest, ForeignProgramReplacingOursIsReportedAndLeftRunning) {
    // Replaces whatever is attached (ours), as someone else would.
    uint32_t foreign_id = 0;
    ASSERT_NO_THROW(foreign_id = attach_foreign_xdp_program("xconnect-1"));
    expect_log(
        "xconnect-1<->xconnect-2: failed: xconnect-1: our XDP program was replaced by "
        "program id " +
        std::to_string(foreign_id) + " (generic), attached by someone else");
    EXPECT_EQ(xdp_program_on("xconnect-1"), foreign_id) << "the foreign program was removed";
    EXPECT_EQ(xdp_program_on("xconnect-2"), 0u) << "no half-attached pair";
}

TEST_F(InterferenceTest, KilledDaemonKeepsForwardingAndTheNextTakesOver) {
    const uint32_t first = xdp_program_on("xconnect-1");
    daemon_->signal(SIGKILL);
    EXPECT_EQ(daemon_->wait_exit(), 128 + SIGKILL);
    // Fail-static: the programs and their maps outlive the process.
    EXPECT_EQ(xdp_program_on("xconnect-1"), first);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));

    // The same build: its program is kept running, not replaced.
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_log("kept XDP program id " + std::to_string(first));
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    EXPECT_EQ(xdp_program_on("xconnect-1"), first);
    EXPECT_EQ(xdp_program_on("xconnect-2"), first);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    EXPECT_EQ(daemon_->terminate(), 0);
    EXPECT_EQ(xdp_program_on("xconnect-1"), 0u);
    EXPECT_EQ(xdp_program_on("xconnect-2"), 0u);
}

}  // namespace
}  // namespace xconnect
