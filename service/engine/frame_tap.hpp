#pragma once

// The capture's seam at the kernel boundary: which interfaces' frames the XDP
// program copies to user space, and the frames it copied. The loader
// implements it (loader/capture_ring.hpp); capture/ uses it and never touches
// a map.

#include <cstdint>
#include <functional>
#include <set>
#include <span>

namespace xconnect {

// One frame as the program copied it, as it entered `ifindex`.
struct CapturedFrame {
    uint32_t ifindex = 0;
    uint64_t timestamp_ns = 0;  // CLOCK_REALTIME, nanoseconds since the epoch
    uint32_t length = 0;        // the frame's length; bytes may hold less (snaplen)
    std::span<const uint8_t> bytes;
};

class FrameTap {
  public:
    using Deliver = std::function<void(const CapturedFrame&)>;

    virtual ~FrameTap() = default;

    // The most bytes of a frame the program can copy.
    virtual uint32_t max_snaplen() const = 0;
    // How many interfaces can be captured at once.
    virtual size_t port_capacity() const = 0;

    // From now on, frames entering `ifindexes` are copied (up to `snaplen`
    // bytes) and handed to `deliver`; any other interface's no longer. An
    // empty set stops copying altogether. Throws SystemError.
    virtual void capture(const std::set<uint32_t>& ifindexes, uint32_t snaplen) = 0;

    // Frames entering `ifindex` the program could not copy (its ring was
    // full) since `ifindex` was last added to the captured set; 0 if it is
    // not captured.
    virtual uint64_t lost(uint32_t ifindex) const = 0;

    // Where copied frames go; set before the first capture().
    virtual void set_delivery(Deliver deliver) = 0;
};

}  // namespace xconnect
