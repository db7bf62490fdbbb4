// The loss meter itself: it reports 0 lost across an active pair, it can say
// no (a pair removed mid-stream shows exactly which frames went missing), and
// it tells its own receiver's socket drops apart from forwarding loss.
#include "loss_meter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "daemon_fixture.hpp"

namespace xconnect {
namespace {

using namespace test;
using namespace std::chrono_literals;

TEST_F(ConnectedTest, LossMeterSeesEveryFrameAcrossAnActivePair) {
    LossMeter meter(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2", "169.254.1.20");
    meter.wait_until_flowing();
    std::this_thread::sleep_for(3s);  // the stream's length, not a synchronisation
    const LossReport report = meter.stop();
    std::cout << report.summary() << "\n";
    EXPECT_GT(report.sent, 0u);
    EXPECT_EQ(report.received, report.sent) << report.summary();
    EXPECT_TRUE(report.missing.empty()) << report.summary();
    EXPECT_EQ(report.duplicates, 0u) << report.summary();
    EXPECT_EQ(report.receiver_drops, 0u) << report.summary();
    EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
}

TEST_F(ConnectedTest, LossMeterReportsTheFramesLostWhenThePairGoes) {
    LossMeter meter(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2", "169.254.1.20");
    meter.wait_until_flowing();
    std::this_thread::sleep_for(500ms);
    replace_by_rename(config_, "links: {}\n");
    expect_log("xconnect-1<->xconnect-2: removed");
    expect_applied();
    std::this_thread::sleep_for(500ms);  // frames sent into the void
    const LossReport report = meter.stop();
    std::cout << report.summary() << "\n";
    EXPECT_GT(report.received, 0u) << report.summary();
    EXPECT_GT(report.forwarding_lost(), 0u) << report.summary();
    EXPECT_EQ(report.receiver_drops, 0u) << report.summary();
    ASSERT_FALSE(report.missing.empty()) << report.summary();
    // Everything from the removal on, and nothing before it.
    EXPECT_EQ(report.missing.back(), report.sent - 1) << report.summary();
    EXPECT_EQ(report.missing.back() - report.missing.front() + 1, report.missing.size())
        << report.summary();
    EXPECT_EQ(report.received + report.missing.size(), report.sent) << report.summary();
    EXPECT_NE(report.summary().find(std::to_string(report.missing.front()) + "-" +
                                    std::to_string(report.missing.back())),
              std::string::npos)
        << "the summary names the missing range: " << report.summary();
}

TEST_F(ConnectedTest, LossMeterTellsReceiverDropsFromForwardingLoss) {
    // The smallest receive buffer the kernel allows, and a receiver that stops
    // reading for a while: its socket must overflow.
    LossMeter meter(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2", "169.254.1.20", 10000,
                    /*receive_buffer_bytes=*/1);
    meter.wait_until_flowing();
    meter.pause_receiver(500ms);
    std::this_thread::sleep_for(1s);
    const LossReport report = meter.stop();
    std::cout << report.summary() << "\n";
    EXPECT_GT(report.received, 0u) << report.summary();
    EXPECT_GT(report.receiver_drops, 0u) << report.summary();
    EXPECT_EQ(report.missing.size(), report.receiver_drops) << report.summary();
    EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
}

TEST(LossReportTest, ForwardingLossIsMissingLessReceiverDropsNeverBelowZero) {
    LossReport report;
    report.sent = 10;
    report.received = 6;
    report.missing = {2, 3, 4, 8};
    report.receiver_drops = 1;
    EXPECT_EQ(report.forwarding_lost(), 3u);
    EXPECT_NE(report.summary().find("missing 4 (2-4, 8)"), std::string::npos) << report.summary();
    report.receiver_drops = 7;  // drops of datagrams that were not ours
    EXPECT_EQ(report.forwarding_lost(), 0u);
}

}  // namespace
}  // namespace xconnect
