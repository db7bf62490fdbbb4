#pragma once

// Forwarding: what each program costs per frame, and the rates of every
// method (xconnectd and the alternatives) from gen through mid to sink.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "settings.hpp"
#include "topology.hpp"

namespace xconnect::bench {

// ------------------------------------------------------- program costs

// What each program costs per frame on its own: BPF_PROG_TEST_RUN runs it
// `repeat` times on one frame and reports the mean (the redirect itself is
// not carried out). The difference between xconnect's program and the bare
// one is the price of the counters.
struct ProgramCost {
    double bare_ns = 0;
    double xconnect_ns = 0;
};

ProgramCost program_cost(Topology& topology);

// ------------------------------------------------------------ forwarding

struct Rate {
    std::string method;
    size_t size = 0;
    std::vector<double> mpps;
    double median() const {
        auto sorted = mpps;
        std::sort(sorted.begin(), sorted.end());
        return sorted.empty() ? 0 : sorted[sorted.size() / 2];
    }
    double min() const { return mpps.empty() ? 0 : *std::min_element(mpps.begin(), mpps.end()); }
    double max() const { return mpps.empty() ? 0 : *std::max_element(mpps.begin(), mpps.end()); }
};

// xconnectd in mid on `config`, in XDP `mode`, once it has logged `expect`.
std::shared_ptr<void> xconnectd(Topology& topology, const fs::path& config, const std::string& mode,
                                const std::string& expect);

std::vector<Rate> forwarding(const Settings& settings, Topology& topology);

}  // namespace xconnect::bench
