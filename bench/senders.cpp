#include "senders.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bench.skel.h"
#include "common/unique_fd.hpp"
#include "loader/bpf_skeleton.hpp"
#include "mapped_memory.hpp"

namespace xconnect::bench {

namespace {

volatile sig_atomic_t stop_flag = 0;

void request_stop(int) {
    stop_flag = 1;
}

// An AF_PACKET socket that sends straight to the driver's xmit: no qdisc in
// the way. (Bound for ETH_P_IP it would also queue IPv4 frames arriving on
// g0; nothing arrives there in this rig.)
UniqueFd packet_socket(const char* what) {
    UniqueFd socket_fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!socket_fd) {
        sender_failed(std::string(what) + ": socket(AF_PACKET)");
        return socket_fd;
    }
    const int one = 1;
    if (setsockopt(socket_fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) {
        sender_failed(std::string(what) + ": setsockopt(PACKET_QDISC_BYPASS)");
        return UniqueFd();
    }
    return socket_fd;
}

bool bind_packet_socket(const UniqueFd& socket_fd, unsigned ifindex, const char* what) {
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_IP);
    address.sll_ifindex = static_cast<int>(ifindex);
    if (bind(socket_fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        sender_failed(std::string(what) + ": bind(AF_PACKET)");
        return false;
    }
    return true;
}

}  // namespace

void stop_on_signals() {
    struct sigaction action {};
    action.sa_handler = request_stop;  // no SA_RESTART: a blocked call ends with EINTR
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() {
    return stop_flag != 0;
}

int sender_failed(const std::string& what, int error) {
    std::fprintf(stderr, "generator: %s: %s\n", what.c_str(), std::strerror(error));
    return 1;
}

bool congested(int error) {
    return error == EINTR || error == ENOBUFS || error == EAGAIN || error == EBUSY ||
           error == ENETDOWN;
}

void announce(const test::Frame& frame, const char* how) {
    std::fprintf(stderr, "generator: sending %zu-byte frames (%s) on CPU %d\n", frame.size(), how,
                 sched_getcpu());
}

test::Frame generator_frame(size_t size) {
    return test::ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, size, 1);
}

LiveFrames::LiveFrames(unsigned ifindex)
    : skeleton_(BpfSkeleton<bench_bpf>::open("live frames: open")), ifindex_(ifindex) {
    skeleton_->rodata->generator_egress = ifindex;
    skeleton_.load("live frames: load");
}

int LiveFrames::run(const test::Frame& frame, uint32_t repeat, uint32_t batch_size) {
    xdp_md context{};
    context.data_end = static_cast<uint32_t>(frame.size());
    context.ingress_ifindex = ifindex_;
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &context,
                .ctx_size_in = sizeof context, .repeat = static_cast<int>(repeat),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch_size);
    return bpf_prog_test_run_opts(bpf_program__fd(skeleton_->progs.generate), &options);
}

int send_live_frames(unsigned ifindex, const test::Frame& frame) {
    std::optional<LiveFrames> live;
    try {
        live.emplace(ifindex);
    } catch (const SystemError& error) {
        std::fprintf(stderr, "generator: %s\n", error.what());
        return 1;
    }
    announce(frame, "live frames");
    // Few, very long runs: each call costs a setup, so short ones cap the rate.
    while (!stop_requested()) {
        const int rc = live->run(frame, 1 << 30, 256);
        if (rc != 0 && rc != -EINTR && errno != EINTR) {
            return sender_failed(
                "BPF_PROG_TEST_RUN with " + std::to_string(frame.size()) + "-byte live frames",
                -rc);
        }
    }
    return 0;
}

int send_from_packet_socket(unsigned ifindex, const test::Frame& frame) {
    const UniqueFd socket_fd = packet_socket("packet socket");
    if (!socket_fd || !bind_packet_socket(socket_fd, ifindex, "packet socket")) {
        return 1;
    }
    // Room for many jumbo frames in flight, so that the socket never waits.
    const int send_buffer = 64 << 20;
    if (setsockopt(socket_fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &send_buffer, sizeof send_buffer) !=
        0) {
        return sender_failed("packet socket: setsockopt(SO_SNDBUFFORCE)");
    }
    // One syscall per batch, every message the same frame.
    constexpr size_t batch = 64;
    iovec io{const_cast<uint8_t*>(frame.data()), frame.size()};
    std::vector<mmsghdr> messages(batch);
    for (mmsghdr& message : messages) {
        message.msg_hdr.msg_iov = &io;
        message.msg_hdr.msg_iovlen = 1;
    }
    announce(frame, "packet socket");
    while (!stop_requested()) {
        if (sendmmsg(socket_fd.get(), messages.data(), batch, 0) < 0 && !congested(errno)) {
            return sender_failed("sendmmsg of " + std::to_string(frame.size()) + "-byte frames");
        }
    }
    return 0;
}

int send_from_packet_ring(unsigned ifindex, const test::Frame& frame) {
    const UniqueFd socket_fd = packet_socket("packet ring");
    if (!socket_fd) {
        return 1;
    }
    const int version = TPACKET_V2;
    if (setsockopt(socket_fd.get(), SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
        return sender_failed("packet ring: setsockopt(PACKET_VERSION, TPACKET_V2)");
    }
    // Where a frame's bytes start in its slot (the kernel's TX layout).
    constexpr size_t data_offset = TPACKET2_HDRLEN - sizeof(sockaddr_ll);
    // Slots of a power of two that hold header and frame; 4 MiB in all.
    unsigned slot = 2048;
    while (slot < data_offset + frame.size()) {
        slot *= 2;
    }
    const unsigned block = std::max(slot, 1u << 16);
    tpacket_req request{};
    request.tp_block_size = block;
    request.tp_block_nr = (4u << 20) / block;
    request.tp_frame_size = slot;
    request.tp_frame_nr = request.tp_block_nr * (block / slot);
    if (setsockopt(socket_fd.get(), SOL_PACKET, PACKET_TX_RING, &request, sizeof request) != 0) {
        return sender_failed("packet ring: setsockopt(PACKET_TX_RING)");
    }
    MappedMemory ring(socket_fd.get(), static_cast<size_t>(block) * request.tp_block_nr, 0);
    if (!ring) {
        return sender_failed("packet ring: mmap of the TX ring");
    }
    if (!bind_packet_socket(socket_fd, ifindex, "packet ring")) {
        return 1;
    }
    auto header = [&](unsigned index) {
        return reinterpret_cast<tpacket2_hdr*>(ring.data() + size_t{index} * slot);
    };
    for (unsigned index = 0; index < request.tp_frame_nr; ++index) {
        std::memcpy(reinterpret_cast<uint8_t*>(header(index)) + data_offset, frame.data(),
                    frame.size());
        header(index)->tp_len = static_cast<uint32_t>(frame.size());
    }
    announce(frame, "packet ring");
    unsigned next = 0;
    while (!stop_requested()) {
        // Queue every slot the kernel has given back (sent or dropped), in
        // ring order, then have it send them all in one call.
        for (;;) {
            tpacket2_hdr* slot_header = header(next);
            const uint32_t status = __atomic_load_n(&slot_header->tp_status, __ATOMIC_ACQUIRE);
            if (status == TP_STATUS_SEND_REQUEST || status == TP_STATUS_SENDING) {
                break;
            }
            __atomic_store_n(&slot_header->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
            next = (next + 1) % request.tp_frame_nr;
        }
        if (send(socket_fd.get(), nullptr, 0, MSG_DONTWAIT) < 0 && !congested(errno)) {
            return sender_failed("send on the packet ring, " + std::to_string(frame.size()) +
                                 "-byte frames");
        }
    }
    return 0;
}

}  // namespace xconnect::bench
