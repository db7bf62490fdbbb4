#include "capture_ring.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <time.h>

#include <boost/asio/posix/descriptor_base.hpp>
#include <cstring>
#include <vector>

#include "common/error.hpp"
#include "common/log.hpp"
#include "xconnect_maps.h"

namespace xconnect {

namespace {

int64_t nanoseconds(clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

CaptureRing::CaptureRing(boost::asio::io_context& io, CaptureMaps maps) : maps_(maps), ready_(io) {
    // Whatever an earlier xconnectd captured ends with it.
    switch_to(0);
    clear_ports();
    ring_.reset(ring_buffer__new(maps_.ring, &CaptureRing::on_record, this, nullptr));
    if (!ring_) {
        throw_errno("open the capture ring", "ring_buffer__new");
    }
    const int ready = fcntl(ring_buffer__epoll_fd(ring_.get()), F_DUPFD_CLOEXEC, 0);
    if (ready < 0) {
        throw_errno("watch the capture ring", "fcntl(F_DUPFD_CLOEXEC)");
    }
    ready_.assign(ready);
    // Anything an earlier xconnectd left in the ring is nobody's.
    deliver_ = nullptr;
    ring_buffer__consume(ring_.get());
    wait_for_frames();
}

CaptureRing::~CaptureRing() {
    try {
        switch_to(0);
    } catch (const SystemError& error) {
        log::warning("capture: ", error.what(),
                     "; the XDP program may go on copying frames nobody reads");
    }
    clear_ports();
}

uint32_t CaptureRing::max_snaplen() const {
    return XC_CAPTURE_MAX_BYTES;
}

size_t CaptureRing::port_capacity() const {
    return XC_MAX_CAPTURED_PORTS;
}

void CaptureRing::switch_to(uint32_t snaplen) {
    const uint32_t key = 0;
    const xc_capture_switch value{.snaplen = snaplen, .reserved = 0};
    if (bpf_map_update_elem(maps_.control, &key, &value, BPF_ANY) != 0) {
        throw_errno("set the capture snaplen to " + std::to_string(snaplen),
                    "bpf_map_update_elem(xc_capture_switch)");
    }
}

void CaptureRing::clear_ports() noexcept {
    uint32_t key = 0;
    // Deleting the key just read: always start again from the first.
    while (bpf_map_get_next_key(maps_.ports, nullptr, &key) == 0) {
        if (bpf_map_delete_elem(maps_.ports, &key) != 0) {
            log::warning("capture: cannot stop capturing ifindex ", key, ": ", errno_text(errno));
            return;
        }
    }
    captured_.clear();
}

void CaptureRing::capture(const std::set<uint32_t>& ifindexes, uint32_t snaplen) {
    if (ifindexes.size() > XC_MAX_CAPTURED_PORTS) {
        throw SystemError("capture " + std::to_string(ifindexes.size()) + " interfaces", "capture",
                          ENOSPC);
    }
    // Off first when shrinking to nothing, so the program stops looking;
    // new ports are in place before a larger snaplen lets it copy them.
    if (ifindexes.empty()) {
        switch_to(0);
    }
    for (uint32_t ifindex : captured_) {
        if (!ifindexes.contains(ifindex) && bpf_map_delete_elem(maps_.ports, &ifindex) != 0 &&
            errno != ENOENT) {
            throw_errno("stop capturing ifindex " + std::to_string(ifindex),
                        "bpf_map_delete_elem(xc_capture_ports)");
        }
    }
    std::set<uint32_t> now;
    for (uint32_t ifindex : captured_) {
        if (ifindexes.contains(ifindex)) {
            now.insert(ifindex);
        }
    }
    captured_ = std::move(now);
    for (uint32_t ifindex : ifindexes) {
        if (captured_.contains(ifindex)) {
            continue;
        }
        const xc_capture_port fresh{};
        if (bpf_map_update_elem(maps_.ports, &ifindex, &fresh, BPF_NOEXIST) != 0) {
            throw_errno("capture ifindex " + std::to_string(ifindex),
                        "bpf_map_update_elem(xc_capture_ports)");
        }
        captured_.insert(ifindex);
    }
    if (!ifindexes.empty()) {
        realtime_offset_ns_ = nanoseconds(CLOCK_REALTIME) - nanoseconds(CLOCK_MONOTONIC);
        switch_to(std::min(snaplen, max_snaplen()));
    }
}

uint64_t CaptureRing::lost(uint32_t ifindex) const {
    xc_capture_port port{};
    if (bpf_map_lookup_elem(maps_.ports, &ifindex, &port) != 0) {
        return 0;
    }
    return port.lost;
}

void CaptureRing::wait_for_frames() {
    ready_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                      [this](const boost::system::error_code& error) {
                          if (error) {
                              return;  // cancelled: destroyed
                          }
                          // The clocks drift apart (NTP): measured per batch.
                          realtime_offset_ns_ =
                              nanoseconds(CLOCK_REALTIME) - nanoseconds(CLOCK_MONOTONIC);
                          if (const int rc = ring_buffer__consume(ring_.get()); rc < 0) {
                              log::warning("capture: reading the ring: ", errno_text(-rc));
                          }
                          wait_for_frames();
                      });
}

int CaptureRing::on_record(void* context, void* data, size_t size) {
    auto& self = *static_cast<CaptureRing*>(context);
    xc_capture_header header{};
    if (size < sizeof header) {
        return 0;
    }
    std::memcpy(&header, data, sizeof header);
    if (header.captured > size - sizeof header || !self.deliver_) {
        return 0;
    }
    const CapturedFrame frame{
        .ifindex = header.ifindex,
        .timestamp_ns =
            static_cast<uint64_t>(int64_t(header.timestamp_ns) + self.realtime_offset_ns_),
        .length = header.length,
        .bytes = {static_cast<const uint8_t*>(data) + sizeof header, header.captured},
    };
    self.deliver_(frame);
    return 0;
}

}  // namespace xconnect
