#pragma once

// The capture half of the XDP program (bpf/xconnect_capture.h) seen from user
// space: its switch and port maps set from the captured set, and its ring
// read as the kernel fills it (the ring's epoll fd in the io_context: no
// polling). An earlier xconnectd's capture is switched off at construction
// (a killed daemon cannot have), and this one's at destruction, so that a
// program left forwarding for the next xconnectd copies nothing.

#include <bpf/libbpf.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>

#include "engine/frame_tap.hpp"

namespace xconnect {

// The program's capture maps, owned by the loaded program's skeleton.
struct CaptureMaps {
    int control = -1;  // xc_capture_switch
    int ports = -1;    // xc_capture_ports
    int ring = -1;     // xc_capture_ring
};

class CaptureRing final : public FrameTap {
  public:
    // Throws SystemError.
    CaptureRing(boost::asio::io_context& io, CaptureMaps maps);
    ~CaptureRing() override;
    CaptureRing(const CaptureRing&) = delete;
    CaptureRing& operator=(const CaptureRing&) = delete;

    uint32_t max_snaplen() const override;
    size_t port_capacity() const override;
    void capture(const std::set<uint32_t>& ifindexes, uint32_t snaplen) override;
    uint64_t lost(uint32_t ifindex) const override;
    void set_delivery(Deliver deliver) override { deliver_ = std::move(deliver); }

  private:
    struct RingBufferFree {
        void operator()(ring_buffer* ring) const noexcept { ring_buffer__free(ring); }
    };

    void switch_to(uint32_t snaplen);
    void clear_ports() noexcept;
    void wait_for_frames();
    static int on_record(void* self, void* data, size_t size);

    CaptureMaps maps_;
    std::set<uint32_t> captured_;
    Deliver deliver_;
    std::unique_ptr<ring_buffer, RingBufferFree> ring_;
    boost::asio::posix::stream_descriptor ready_;  // a dup of the ring's epoll fd
    int64_t realtime_offset_ns_ = 0;               // CLOCK_REALTIME - CLOCK_MONOTONIC
};

}  // namespace xconnect
