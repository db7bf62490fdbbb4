#pragma once

// The cost of seeing the wire (docs/capture.md, docs/drops.md): xconnectd as
// built against the same daemon built without the capture hook (the program
// before capture existed), without drop accounting (no CAP_PERFMON), and
// counting full rings too (--count-ring-drops);
// and the pair's rate while `xconnectctl capture -w FILE` writes everything
// that crosses, with what the capture wrote and lost.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "topology.hpp"
#include "traffic.hpp"

namespace xconnect::bench {

// xconnectd built without the XDP program's capture hook (XC_NO_CAPTURE).
std::shared_ptr<void> xconnectd_before_capture(Topology& topology,
                                               const std::filesystem::path& config,
                                               const std::string& mode, const std::string& label);
// xconnectd with CAP_NET_ADMIN and CAP_BPF only: no drop accounting.
std::shared_ptr<void> xconnectd_without_drop_accounting(Topology& topology,
                                                        const std::filesystem::path& config,
                                                        const std::string& mode,
                                                        const std::string& label);
// xconnectd --count-ring-drops: every native batch traced (xdp:xdp_devmap_xmit).
std::shared_ptr<void> xconnectd_counting_ring_drops(Topology& topology,
                                                    const std::filesystem::path& config,
                                                    const std::string& mode,
                                                    const std::string& label);
// xconnectd on a private bus in mid, with `xconnectctl capture LEFT -w FILE`
// running (FILE in `scratch`) until the result dies; then what the capture
// wrote, received and lost joins capture_notes(), headed `what`.
std::shared_ptr<void> xconnectd_capturing(Topology& topology, const std::filesystem::path& config,
                                          const std::string& mode, const std::string& label,
                                          const std::filesystem::path& scratch, std::string what);

// How often the drop-accounting programs ran per frame the XDP program
// handled, as the kernel counts runs (BPF_ENABLE_STATS), over a second of
// `traffic` while what `forwarder` starts runs, kept in drop_trace_counts().
// Exact where rates are not: the mechanism behind the observe rows' cost.
struct DropTraceCount {
    std::string name;
    uint64_t frames = 0;  // runs of the XDP program
    uint64_t redirect_err_runs = 0;
    uint64_t devmap_xmit_runs = 0;
    std::string error;  // why nothing was counted
    std::string text() const;
};
void count_drop_traces(const std::string& name, Topology& topology,
                       const std::function<std::shared_ptr<void>(Topology&)>& forwarder,
                       const std::function<Traffic()>& traffic);
const std::vector<DropTraceCount>& drop_trace_counts();

// One line per capture measured: "capture-native 64 B: 812345 frames written
// in 1.00 s (0.81 Mpps), 1020400 received, 208055 lost (ring or reader full)"
// (the size is the first frame's).
const std::vector<std::string>& capture_notes();

}  // namespace xconnect::bench
