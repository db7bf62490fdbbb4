#pragma once

// Drop accounting (bpf/xconnect_drops.bpf.c): the kernel's count of frames
// redirected out of a pair's side that it did not deliver, by errno, from
// the xdp:xdp_redirect_err tracepoint (redirects refused, free while they
// succeed) and, where asked or needed, xdp:xdp_devmap_xmit (frames a driver
// left of a native batch; it fires once per batch). Its maps are pinned with
// the XDP program's, so the counts outlive a restart as the packet counters
// do. The programs are raw tracepoints: loading them needs CAP_PERFMON.

#include <bpf/libbpf.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bpf_skeleton.hpp"
#include "engine/dataplane.hpp"
#include "xconnect_drops.h"

struct xconnect_drops_bpf;

namespace xconnect {

class PinnedState;

class DropMonitor {
  public:
    // Loads and attaches the programs, their maps pinned in `state` (nullptr:
    // unpinned); xdp:xdp_devmap_xmit too with `count_ring_drops`, or where the
    // kernel checks native targets only when it transmits. Throws
    // SystemError, naming CAP_PERFMON when it is missing.
    DropMonitor(const PinnedState* state, bool count_ring_drops);
    ~DropMonitor();
    DropMonitor(const DropMonitor&) = delete;
    DropMonitor& operator=(const DropMonitor&) = delete;

    // Whether frames a driver left of a native batch are counted.
    bool counts_ring_drops() const { return counts_ring_drops_; }
    // What is counted, for the log.
    std::string description() const;

    // Counts the drops of frames entering `ingress` (armed: the first one
    // wakes the reader of events_fd()). Throws SystemError.
    void watch(uint32_t ingress);
    // Stops counting them, and forgets what was counted.
    void unwatch(uint32_t ingress) noexcept;
    // How many frames entering `ingress` were dropped, summed over CPUs: one
    // lookup. Throws SystemError.
    uint64_t dropped(uint32_t ingress) const;
    // What was dropped of every watched interface's frames, by errno: one walk.
    DropsByPort drops() const;

    // Readable when an armed interface dropped a frame; consume() then
    // empties it. Each interface wakes it once until rearm().
    int events_fd() const;
    void consume() noexcept;
    void rearm() noexcept;

  private:
    DropMonitor(const PinnedState* state, bool count_ring_drops, bool old_kernel);
    std::vector<xc_drop_key> drop_keys() const;

    struct RingBufferFree {
        void operator()(ring_buffer* ring) const noexcept { ring_buffer__free(ring); }
    };

    BpfSkeleton<xconnect_drops_bpf> skeleton_;
    std::unique_ptr<ring_buffer, RingBufferFree> events_;
    int possible_cpus_ = 0;
    bool counts_ring_drops_ = false;
    bool for_old_kernel_ = false;  // attached for a kernel without enqueue checks
};

// Whether this kernel refuses a native redirect to a target that cannot
// take it when the frame is queued (Linux 6.3's xdp_features, seen in its
// BTF), so xdp:xdp_redirect_err reports it; before, the driver refused the
// batch later, seen only by xdp:xdp_devmap_xmit.
bool kernel_checks_native_targets_at_enqueue();

}  // namespace xconnect
