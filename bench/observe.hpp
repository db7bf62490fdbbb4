#pragma once

// The cost of seeing the wire (docs/capture.md, docs/drops.md): xconnectd as
// built against the same daemon built without the capture hook (the program
// before capture existed), and without drop accounting (no CAP_PERFMON);
// and the pair's rate while `xconnectctl capture -w FILE` writes everything
// that crosses, with what the capture wrote and lost.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "topology.hpp"

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
// xconnectd on a private bus in mid, with `xconnectctl capture LEFT -w FILE`
// running (FILE in `scratch`) until the result dies; then what the capture
// wrote, received and lost joins capture_notes(), headed `what`.
std::shared_ptr<void> xconnectd_capturing(Topology& topology, const std::filesystem::path& config,
                                          const std::string& mode, const std::string& label,
                                          const std::filesystem::path& scratch, std::string what);

// One line per capture measured: "capture-native 64 B: 812345 frames written
// in 1.00 s (0.81 Mpps), 1020400 received, 208055 lost (ring or reader full)"
// (the size is the first frame's).
const std::vector<std::string>& capture_notes();

}  // namespace xconnect::bench
