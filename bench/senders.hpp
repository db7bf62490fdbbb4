#pragma once

// The generator's ways of sending one frame over and over out of an
// interface, each until stop_requested() (SIGINT/SIGTERM). Each returns 0 on
// a stop and 1 after printing, on stderr, what failed (the syscall, the
// frame size and the kernel's errno text): the benchmark shows that text.
//
// Every sender announces itself with a line "generator: sending ..." once it
// is set up, so that the benchmark measures only a generator that runs.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#include "bench.skel.h"
#include "frames.hpp"
#include "loader/bpf_skeleton.hpp"

namespace xconnect::bench {

// The generator process's SIGINT and SIGTERM set what stop_requested() reads.
void stop_on_signals();
bool stop_requested();

// For the senders: prints "generator: WHAT: ERRNO TEXT" and returns 1.
int sender_failed(const std::string& what, int error = errno);
// Whether a send failed only because the path is full (the frames are
// dropped, which the rate measured at the far end shows).
bool congested(int error);
// "generator: sending N-byte frames (HOW) on CPU C", once a sender is set up.
void announce(const test::Frame& frame, const char* how);

// The frame every generator sends: IPv4/UDP of `size` bytes, 02:..:01 to
// 02:..:02 (what the sinks count, whatever it holds).
test::Frame generator_frame(size_t size);

// The generator's program, loaded to send every frame out of `ifindex`,
// run with BPF_F_TEST_XDP_LIVE_FRAMES. Throws SystemError if it cannot load.
class LiveFrames {
  public:
    explicit LiveFrames(unsigned ifindex);
    // One test run of `repeat` frames: 0, or the negative errno.
    int run(const test::Frame& frame, uint32_t repeat, uint32_t batch_size);

  private:
    BpfSkeleton<bench_bpf> skeleton_;
    unsigned ifindex_;
};

// BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: XDP frames straight into
// the veth's peer, no skb on the sending side; at most one page per frame.
int send_live_frames(unsigned ifindex, const test::Frame& frame);
// AF_PACKET, one sendmmsg() per batch of 64, PACKET_QDISC_BYPASS.
int send_from_packet_socket(unsigned ifindex, const test::Frame& frame);
// AF_PACKET with a TPACKET_V2 transmit ring: one send() flushes every frame
// queued in the memory-mapped ring, PACKET_QDISC_BYPASS.
int send_from_packet_ring(unsigned ifindex, const test::Frame& frame);
// AF_XDP in copy mode (XDP_COPY): descriptors into a memory-mapped TX ring,
// one sendto() kick per batch; the kernel builds an skb per frame.
int send_from_xsk(unsigned ifindex, const test::Frame& frame, unsigned queue);

}  // namespace xconnect::bench
