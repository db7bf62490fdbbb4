// The XDP program itself, run by the kernel on hand-built frames through
// BPF_PROG_TEST_RUN (as katran's BpfTester does): no traffic, no attach.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>

#include <memory>

#include "frames.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netns.hpp"
#include "xconnect_maps.h"

namespace xconnect {
namespace {

using namespace test;

class XdpProgramTest : public testing::Test {
  protected:
    void SetUp() override {
        XCONNECT_REQUIRE_ROOT();
        netns_ = std::make_unique<Netns>("prog");
        sh(netns_->ip() + "link add name in0 type veth peer name out0");
        // An ifindex above the original's 1024-entry DEVMAP.
        sh(netns_->ip() + "link add name big index 4000 type veth peer name big-peer");
        // The same counter slot as 4000 (the low 10 bits): counted in the hash map.
        static_assert(XC_COUNTER_SLOTS == 1024);
        sh(netns_->ip() + "link add name big2 index 5024 type veth peer name big2-peer");
        inside_ = std::make_unique<NetnsScope>(*netns_);
        dataplane_ =
            std::make_unique<KernelDataplane>(std::nullopt, KernelDataplane::OnExit::detach);
    }
    void TearDown() override {
        dataplane_.reset();
        inside_.reset();
        netns_.reset();
    }

    // Runs the program `repeat` times on `frame` arriving on `ingress`; returns the action.
    uint32_t run(uint32_t ingress, const Frame& frame, uint32_t repeat = 1) {
        xdp_md context{};
        context.data_end = static_cast<uint32_t>(frame.size());
        context.ingress_ifindex = ingress;
        LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(),
                    .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &context,
                    .ctx_size_in = sizeof context, .repeat = static_cast<int>(repeat));
        const int rc = bpf_prog_test_run_opts(dataplane_->program_fd(), &options);
        EXPECT_EQ(rc, 0) << "BPF_PROG_TEST_RUN failed: " << errno;
        return options.retval;
    }

    static uint32_t ifindex(const char* name) { return if_nametoindex(name); }

    const Frame frame_ = ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, 64, 1);
    std::unique_ptr<Netns> netns_;
    std::unique_ptr<NetnsScope> inside_;
    std::unique_ptr<KernelDataplane> dataplane_;
};

TEST_F(XdpProgramTest, RedirectsAMappedIngressAndCountsIt) {
    dataplane_->connect(ifindex("in0"), ifindex("out0"));
    EXPECT_EQ(run(ifindex("in0"), frame_), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("in0")), (Counters{1, 64}));
    EXPECT_EQ(run(ifindex("in0"), frame_, 9), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("in0")), (Counters{10, 640}));
    EXPECT_EQ(dataplane_->counters(ifindex("out0")), (Counters{})) << "out0 is not connected";
}

TEST_F(XdpProgramTest, UnmappedIngressGetsTheMissActionAndIsNotCounted) {
    static_assert(XC_MISS_ACTION == XDP_PASS, "the README documents XDP_PASS on a miss");
    dataplane_->connect(ifindex("in0"), ifindex("out0"));
    EXPECT_EQ(run(ifindex("out0"), frame_), XDP_PASS);
    EXPECT_EQ(dataplane_->counters(ifindex("out0")), (Counters{}));
}

TEST_F(XdpProgramTest, DisconnectedIngressPassesAgain) {
    dataplane_->connect(ifindex("in0"), ifindex("out0"));
    dataplane_->disconnect(ifindex("in0"));
    EXPECT_EQ(run(ifindex("in0"), frame_), XDP_PASS);
    EXPECT_EQ(dataplane_->counters(ifindex("in0")), (Counters{}));
}

TEST_F(XdpProgramTest, IfindexAbove1024IsRedirected) {
    ASSERT_EQ(ifindex("big"), 4000u);
    dataplane_->connect(ifindex("big"), ifindex("in0"));
    EXPECT_EQ(run(ifindex("big"), frame_), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("big")), (Counters{1, 64}));
}

TEST_F(XdpProgramTest, IfindexesSharingACounterSlotAreCountedApart) {
    dataplane_->connect(ifindex("big"), ifindex("in0"));
    dataplane_->connect(ifindex("big2"), ifindex("in0"));
    EXPECT_EQ(run(ifindex("big"), frame_, 3), XDP_REDIRECT);
    EXPECT_EQ(run(ifindex("big2"), frame_, 5), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("big")), (Counters{3, 192}));
    EXPECT_EQ(dataplane_->counters(ifindex("big2")), (Counters{5, 320}));
    // The slot's owner goes; the other keeps its own count and counting.
    dataplane_->disconnect(ifindex("big"));
    EXPECT_EQ(dataplane_->counters(ifindex("big")), (Counters{}));
    EXPECT_EQ(run(ifindex("big2"), frame_), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("big2")), (Counters{6, 384}));
    // Connecting again does not reset counters that exist.
    dataplane_->connect(ifindex("big2"), ifindex("out0"));
    EXPECT_EQ(dataplane_->counters(ifindex("big2")), (Counters{6, 384}));
    dataplane_->connect(ifindex("big"), ifindex("in0"));
    EXPECT_EQ(run(ifindex("big"), frame_), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("big")), (Counters{1, 64}));
}

TEST_F(XdpProgramTest, CountsBytesOfEveryFrameSize) {
    dataplane_->connect(ifindex("in0"), ifindex("in0"));
    uint64_t bytes = 0;
    for (size_t size : {60, 64, 1514}) {
        EXPECT_EQ(
            run(ifindex("in0"), ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, size, 2)),
            XDP_REDIRECT);
        bytes += size;
    }
    EXPECT_EQ(dataplane_->counters(ifindex("in0")), (Counters{3, bytes}));
}

TEST_F(XdpProgramTest, CountsEveryBufferOfAMultiBufferFrame) {
    // A frame larger than a page reaches the program in several buffers;
    // the kernel runs it so only for a frags-aware program (EINVAL otherwise).
    dataplane_->connect(ifindex("in0"), ifindex("out0"));
    const Frame jumbo = ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, 9014, 3);
    EXPECT_EQ(run(ifindex("in0"), jumbo), XDP_REDIRECT);
    EXPECT_EQ(dataplane_->counters(ifindex("in0")), (Counters{1, 9014})) << "the whole frame";
}

}  // namespace
}  // namespace xconnect
