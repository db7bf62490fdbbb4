// The drop-accounting maps as the daemon walks and changes them, on the real
// kernel: no traffic (tests/dbus/drop_test.cpp counts real drops).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <sys/utsname.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "loader/drop_monitor.hpp"
#include "netns.hpp"
#include "xconnect_maps.h"

namespace xconnect {
namespace {

using namespace test;

class DropMonitorTest : public testing::Test {
  protected:
    void SetUp() override { SetUp(false); }
    void SetUp(bool count_ring_drops) {
        XCONNECT_REQUIRE_ROOT();
        if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
            GTEST_SKIP() << "this kernel has no BTF (/sys/kernel/btf/vmlinux): the drop-accounting "
                            "programs read struct net_device through CO-RE";
        }
        netns_ = std::make_unique<Netns>("drops");
        inside_ = std::make_unique<NetnsScope>(*netns_);
        monitor_ = std::make_unique<DropMonitor>(nullptr, count_ring_drops);
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

// The tracepoints this process's raw-tracepoint links are attached to: its
// fds that are BPF links (their fdinfo names the link), as the kernel
// describes each.
std::set<std::string> attached_tracepoints() {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
        std::ifstream fdinfo(entry.path());
        std::string line;
        bool link = false;
        while (std::getline(fdinfo, line)) {
            link = link || line.starts_with("link_id:");
        }
        if (!link) {
            continue;
        }
        bpf_link_info info{};
        char name[64] = {};
        info.raw_tracepoint.tp_name = reinterpret_cast<uint64_t>(name);
        info.raw_tracepoint.tp_name_len = sizeof name;
        uint32_t length = sizeof info;
        const int fd = std::stoi(entry.path().filename().string());
        if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0 &&
            info.type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
            names.insert(name);
        }
    }
    return names;
}

// Linux 6.3 checks a native redirect's target when the frame is queued; the
// kernel's release says so apart from the BTF probe the daemon uses.
bool linux_6_3_or_later() {
    utsname name{};
    uname(&name);
    int major = 0;
    int minor = 0;
    std::sscanf(name.release, "%d.%d", &major, &minor);
    return major > 6 || (major == 6 && minor >= 3);
}

TEST_F(DropMonitorTest, BatchesAreTracedOnlyWhereAskedOrNeeded) {
    EXPECT_EQ(kernel_checks_native_targets_at_enqueue(), linux_6_3_or_later());
    const bool needed = !linux_6_3_or_later();
    EXPECT_EQ(monitor_->counts_ring_drops(), needed);
    EXPECT_TRUE(attached_tracepoints().contains("xdp_redirect_err"));
    EXPECT_EQ(attached_tracepoints().contains("xdp_devmap_xmit"), needed)
        << monitor_->description();

    TearDown();
    SetUp(true);
    EXPECT_TRUE(monitor_->counts_ring_drops());
    EXPECT_TRUE(attached_tracepoints().contains("xdp_devmap_xmit")) << monitor_->description();
}

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
