#include "generator.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

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

std::string to_string(GeneratorKind kind) {
    return kind == GeneratorKind::live_frames ? "live-frames" : "packet-socket";
}

GeneratorKind generator_kind(const std::string& text) {
    if (text == "live-frames") {
        return GeneratorKind::live_frames;
    }
    if (text == "packet-socket") {
        return GeneratorKind::packet_socket;
    }
    throw std::invalid_argument("unknown generator kind " + text);
}

namespace {

int send_live_frames(unsigned ifindex, const test::Frame& frame) {
    std::optional<BpfSkeleton<bench_bpf>> skeleton;
    try {
        skeleton.emplace(BpfSkeleton<bench_bpf>::open("generator: open"));
        (*skeleton)->rodata->generator_egress = ifindex;
        skeleton->load("generator: load");
    } catch (const SystemError& error) {
        std::fprintf(stderr, "%s\n", error.what());
        return 1;
    }
    xdp_md context{};
    context.data_end = static_cast<uint32_t>(frame.size());
    context.ingress_ifindex = ifindex;
    std::fprintf(stderr, "generator: sending %zu-byte frames (live frames) on CPU %d\n",
                 frame.size(), sched_getcpu());
    // Few, very long runs: each call costs a setup, so short ones cap the rate.
    while (!stop_requested) {
        LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(),
                    .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &context,
                    .ctx_size_in = sizeof context, .repeat = 1 << 30,
                    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 256);
        const int rc =
            bpf_prog_test_run_opts(bpf_program__fd((*skeleton)->progs.generate), &options);
        if (rc != 0 && rc != -EINTR && errno != EINTR) {
            std::fprintf(stderr, "generator: BPF_PROG_TEST_RUN with %zu-byte live frames: %s\n",
                         frame.size(), std::strerror(-rc));
            return 1;
        }
    }
    return 0;
}

int send_from_packet_socket(unsigned ifindex, const test::Frame& frame) {
    // Protocol 0: this socket only sends, it sees nothing that arrives.
    UniqueFd socket_fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!socket_fd) {
        std::perror("generator: socket(AF_PACKET)");
        return 1;
    }
    // Straight to the driver's xmit: no qdisc in the way, as with live frames.
    const int one = 1;
    // Room for many jumbo frames in flight, so that the socket never waits.
    const int send_buffer = 64 << 20;
    if (setsockopt(socket_fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0 ||
        setsockopt(socket_fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &send_buffer, sizeof send_buffer) !=
            0) {
        std::perror("generator: setsockopt(PACKET_QDISC_BYPASS, SO_SNDBUFFORCE)");
        return 1;
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_IP);
    address.sll_ifindex = static_cast<int>(ifindex);
    if (bind(socket_fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        std::perror("generator: bind(AF_PACKET)");
        return 1;
    }
    // One syscall per batch, every message the same frame.
    constexpr size_t batch = 64;
    iovec io{const_cast<uint8_t*>(frame.data()), frame.size()};
    std::vector<mmsghdr> messages(batch);
    for (mmsghdr& message : messages) {
        message.msg_hdr.msg_iov = &io;
        message.msg_hdr.msg_iovlen = 1;
    }
    std::fprintf(stderr, "generator: sending %zu-byte frames (packet socket) on CPU %d\n",
                 frame.size(), sched_getcpu());
    while (!stop_requested) {
        if (sendmmsg(socket_fd.get(), messages.data(), batch, 0) < 0 && errno != EINTR &&
            errno != ENOBUFS && errno != EAGAIN) {
            // ENOBUFS: the veth dropped one (its peer's ring was full), as
            // live frames are dropped there; the rate measured shows it.
            std::fprintf(stderr, "generator: sendmmsg of %zu-byte frames: %s\n", frame.size(),
                         std::strerror(errno));
            return 1;
        }
    }
    return 0;
}

}  // namespace

int run_generator(const std::string& netns_path, const std::string& ifname, size_t frame_size,
                  int cpu, GeneratorKind kind) {
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
        std::perror(("generator: if_nametoindex(" + ifname + ")").c_str());
        return 1;
    }
    const test::Frame frame =
        test::ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, frame_size, 1);
    return kind == GeneratorKind::live_frames ? send_live_frames(ifindex, frame)
                                              : send_from_packet_socket(ifindex, frame);
}

Generator::Generator(const std::string& self, const test::Netns& netns, const std::string& ifname,
                     size_t frame_size, int cpu, GeneratorKind kind)
    : process_(std::make_unique<test::ChildProcess>(
          self,
          std::vector<std::string>{"generate", netns.path(), ifname, std::to_string(frame_size),
                                   std::to_string(cpu), to_string(kind)},
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
