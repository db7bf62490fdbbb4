#pragma once

// The control plane: reaction times, scale, idleness of xconnectd.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "generator.hpp"
#include "settings.hpp"
#include "topology.hpp"

namespace xconnect::bench {

// ---------------------------------------------------------- control plane

struct Latency {
    std::string what;
    std::vector<double> ms;
    double percentile(double p) const {
        auto sorted = ms;
        std::sort(sorted.begin(), sorted.end());
        if (sorted.empty()) {
            return 0;
        }
        const auto index = static_cast<size_t>(std::ceil(p / 100 * sorted.size())) - 1;
        return sorted[std::min(index, sorted.size() - 1)];
    }
};

struct ControlPlane {
    // Per attach mode: "generic" is what the default (auto) picks for veth.
    std::map<std::string, Latency> add_to_first_frame;
    std::map<std::string, Latency> created_to_active;
    int scale_pairs = 0;
    double scale_apply_s = 0;
    double scale_rss_mib = 0;
    int burst_events = 0;
    double burst_from_start_s = 0;
    double burst_from_end_s = 0;
    double idle_wakeups_per_s = 0;
};

// The first frame after AddPair comes from `generator`, running all along.
ControlPlane control_plane(const Settings& settings, Topology& topology,
                           const GeneratorSpec& generator);

}  // namespace xconnect::bench
