// AF_XDP in copy mode, transmit only, with the raw socket API (linux/if_xdp.h):
// libbpf 1.x no longer carries xsk.h, and libxdp would bring its dispatcher,
// which this benchmark does not want near the interfaces it measures.
#include <linux/if_xdp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/unique_fd.hpp"
#include "mapped_memory.hpp"
#include "senders.hpp"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace xconnect::bench {

namespace {

constexpr uint32_t ring_size = 2048;   // descriptors per ring, a power of two
constexpr uint32_t chunk_size = 4096;  // one umem chunk per frame, at most a page
constexpr uint32_t chunks = ring_size;

// One of the socket's rings as mapped: the kernel's producer and consumer
// indexes and the descriptors (struct xdp_desc on TX, __u64 addresses on the
// completion ring).
struct Ring {
    MappedMemory memory;
    uint32_t* producer = nullptr;
    uint32_t* consumer = nullptr;
    void* descriptors = nullptr;

    Ring(int fd, const xdp_ring_offset& offsets, size_t descriptor_size, off_t page_offset)
        : memory(fd, offsets.desc + ring_size * descriptor_size, page_offset) {
        if (memory) {
            producer = reinterpret_cast<uint32_t*>(memory.data() + offsets.producer);
            consumer = reinterpret_cast<uint32_t*>(memory.data() + offsets.consumer);
            descriptors = memory.data() + offsets.desc;
        }
    }
};

int failed(const std::string& what) {
    return sender_failed("AF_XDP: " + what);
}

}  // namespace

int send_from_xsk(unsigned ifindex, const test::Frame& frame, unsigned queue) {
    if (frame.size() > chunk_size) {
        std::fprintf(stderr, "generator: AF_XDP: a %zu-byte frame exceeds its %u-byte chunk\n",
                     frame.size(), chunk_size);
        return 1;
    }
    const UniqueFd socket_fd(socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!socket_fd) {
        return failed("socket(AF_XDP)");
    }
    // Every chunk holds the frame from the start: copy mode copies it into
    // an skb when it is sent, so a chunk is never written again.
    MappedMemory umem(-1, size_t{chunks} * chunk_size, 0);
    if (!umem) {
        return failed("mmap of the umem");
    }
    for (uint32_t chunk = 0; chunk < chunks; ++chunk) {
        std::memcpy(umem.data() + size_t{chunk} * chunk_size, frame.data(), frame.size());
    }
    xdp_umem_reg registration{};
    registration.addr = reinterpret_cast<uint64_t>(umem.data());
    registration.len = umem.size();
    registration.chunk_size = chunk_size;
    const int fd = socket_fd.get();
    // The kernel refuses to bind a umem without both its rings, even to send.
    if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &registration, sizeof registration) != 0 ||
        setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring_size, sizeof ring_size) != 0 ||
        setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring_size, sizeof ring_size) != 0 ||
        setsockopt(fd, SOL_XDP, XDP_TX_RING, &ring_size, sizeof ring_size) != 0) {
        return failed("setsockopt(XDP_UMEM_REG, the fill, completion and TX rings)");
    }
    xdp_mmap_offsets offsets{};
    socklen_t length = sizeof offsets;
    if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &offsets, &length) != 0) {
        return failed("getsockopt(XDP_MMAP_OFFSETS)");
    }
    Ring tx(fd, offsets.tx, sizeof(xdp_desc), XDP_PGOFF_TX_RING);
    Ring completion(fd, offsets.cr, sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING);
    if (!tx.memory || !completion.memory) {
        return failed("mmap of the TX and completion rings");
    }
    sockaddr_xdp address{};
    address.sxdp_family = AF_XDP;
    address.sxdp_ifindex = ifindex;
    address.sxdp_queue_id = queue;
    address.sxdp_flags = XDP_COPY;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        return failed("bind(XDP_COPY, queue " + std::to_string(queue) + ")");
    }
    announce(frame, "AF_XDP copy mode");

    auto* descriptors = static_cast<xdp_desc*>(tx.descriptors);
    uint32_t produced = 0;   // our TX producer index, also the count of frames queued
    uint32_t completed = 0;  // our completion consumer index
    while (!stop_requested()) {
        // Take back what the kernel has sent, so that it never runs out of
        // completion slots (it stops sending then).
        const uint32_t done = __atomic_load_n(completion.producer, __ATOMIC_ACQUIRE);
        if (done != completed) {
            completed = done;
            __atomic_store_n(completion.consumer, completed, __ATOMIC_RELEASE);
        }
        // Queue as many as both the TX ring and the frames in flight allow.
        const uint32_t in_flight = produced - completed;
        const uint32_t tx_free =
            ring_size - (produced - __atomic_load_n(tx.consumer, __ATOMIC_ACQUIRE));
        const uint32_t batch = std::min(tx_free, chunks - in_flight);
        for (uint32_t n = 0; n < batch; ++n, ++produced) {
            xdp_desc& descriptor = descriptors[produced % ring_size];
            descriptor.addr = uint64_t{produced % chunks} * chunk_size;
            descriptor.len = static_cast<uint32_t>(frame.size());
            descriptor.options = 0;
        }
        __atomic_store_n(tx.producer, produced, __ATOMIC_RELEASE);
        // The kick: in copy mode the kernel sends a budget of frames per call.
        if (sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && !congested(errno)) {
            return failed("sendto (the TX kick) with " + std::to_string(frame.size()) +
                          "-byte frames");
        }
    }
    return 0;
}

}  // namespace xconnect::bench
