#include "generator.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "bench.skel.h"
#include "common/unique_fd.hpp"
#include "frames.hpp"
#include "loader/bpf_skeleton.hpp"

namespace xconnect::bench {

namespace {

volatile sig_atomic_t stop_requested = 0;

void request_stop(int) {
    stop_requested = 1;
}

}  // namespace

int run_generator(const std::string& netns_path, const std::string& ifname, size_t frame_size,
                  int cpu) {
    // Stopped by SIGINT/SIGTERM: the kernel ends a running test run with EINTR.
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    UniqueFd netns(open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns || setns(netns.get(), CLONE_NEWNET) != 0) {
        std::perror("generator: setns");
        return 1;
    }
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(cpu, &cpus);
    if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
        std::perror("generator: sched_setaffinity");
        return 1;
    }
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) {
        std::perror("generator: if_nametoindex");
        return 1;
    }
    std::optional<BpfSkeleton<bench_bpf>> skeleton;
    try {
        skeleton.emplace(BpfSkeleton<bench_bpf>::open("generator: open"));
        (*skeleton)->rodata->generator_egress = ifindex;
        skeleton->load("generator: load");
    } catch (const SystemError& error) {
        std::fprintf(stderr, "%s\n", error.what());
        return 1;
    }
    const test::Frame frame =
        test::ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, frame_size, 1);
    xdp_md context{};
    context.data_end = static_cast<uint32_t>(frame.size());
    context.ingress_ifindex = ifindex;
    std::fprintf(stderr, "generator: sending %zu-byte frames out of %s on CPU %d\n", frame_size,
                 ifname.c_str(), cpu);
    // Few, very long runs: each call costs a setup, so short ones cap the rate.
    while (!stop_requested) {
        LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(),
                    .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &context,
                    .ctx_size_in = sizeof context, .repeat = 1 << 30,
                    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 256);
        const int rc =
            bpf_prog_test_run_opts(bpf_program__fd((*skeleton)->progs.generate), &options);
        if (rc != 0 && rc != -EINTR && errno != EINTR) {
            std::fprintf(stderr, "generator: BPF_PROG_TEST_RUN: %s\n", std::strerror(-rc));
            return 1;
        }
    }
    return 0;
}

Generator::Generator(const std::string& self, const test::Netns& netns, const std::string& ifname,
                     size_t frame_size, int cpu)
    : process_(std::make_unique<test::ChildProcess>(
          self,
          std::vector<std::string>{"generate", netns.path(), ifname, std::to_string(frame_size),
                                   std::to_string(cpu)},
          nullptr)) {
    process_->expect_log("generator: sending");
}

Generator::~Generator() {
    if (process_) {
        process_->signal(SIGINT);
        process_->wait_exit();
    }
}

}  // namespace xconnect::bench
