// The drop-accounting maps as the daemon walks and changes them, on the real
// kernel: no traffic (tests/dbus/drop_test.cpp counts real drops).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "loader/drop_monitor.hpp"
#include "netns.hpp"
#include "xconnect_maps.h"

namespace xconnect {
namespace {

using namespace test;

class DropMonitorTest : public testing::Test {
  protected:
    void SetUp() override {
        XCONNECT_REQUIRE_ROOT();
        if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
            GTEST_SKIP() << "this kernel has no BTF (/sys/kernel/btf/vmlinux): the drop-accounting "
                            "programs read struct net_device through CO-RE";
        }
        netns_ = std::make_unique<Netns>("drops");
        inside_ = std::make_unique<NetnsScope>(*netns_);
        monitor_ = std::make_unique<DropMonitor>(nullptr);
    }
    void TearDown() override {
        monitor_.reset();
        inside_.reset();
        netns_.reset();
    }

    std::unique_ptr<Netns> netns_;
    std::unique_ptr<NetnsScope> inside_;
    std::unique_ptr<DropMonitor> monitor_;
};

TEST_F(DropMonitorTest, RearmingAFullMapEnds) {
    // Enough ports that keys share hash buckets whatever the map's seed: an
    // update while walking moved each to its bucket's head, and the walk went
    // round those of one bucket for ever.
    for (uint32_t ingress = 1; ingress <= XC_MAX_PORTS; ++ingress) {
        monitor_->watch(ingress);
    }
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        alarm(20);  // a walk that never ends is killed, and fails the test
        for (int round = 0; round < 10; ++round) {
            monitor_->rearm();
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "rearm() did not end: killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

TEST_F(DropMonitorTest, NothingDroppedReadsAsZero) {
    monitor_->watch(7);
    EXPECT_EQ(monitor_->dropped(7), 0u);
    EXPECT_EQ(monitor_->dropped(8), 0u);
    EXPECT_TRUE(monitor_->drops().empty());
    monitor_->unwatch(7);
    EXPECT_EQ(monitor_->dropped(7), 0u);
}

}  // namespace
}  // namespace xconnect
