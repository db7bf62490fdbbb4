#pragma once

// Forwarding: what each program costs per frame, and the rates of every
// method (xconnectd and the alternatives) from gen through mid to sink.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "generator_choice.hpp"
#include "rates.hpp"
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

// Where a rate was measured: the interfaces in mid, the traffic, the sink.
// "veth": m0 (from g0's live frames) -> m1 -> a native sink on s0.
// "gro-veth": the same with GRO on every veth (so each accepts native redirects).
// "tap": a writer into tap ta -> tb -> a reader of tb's fd.
// "jumbo": "veth" at MTU 9000, frames from an AF_PACKET socket on g0.
// "vxlan": m0 -> vx0, a VXLAN device -> its underlay u0 -> a native sink on u1.
struct Group {
    std::string id;           // in results.json and rates.dat
    std::string description;  // in results.md
};
const std::vector<Group>& groups();

// xconnectd in mid on `config`, in XDP `mode`, once it has logged `expect`.
std::shared_ptr<void> xconnectd(Topology& topology, const fs::path& config, const std::string& mode,
                                const std::string& expect);
// xconnectd in mid on `config` (one pair, `label`: "m0<->m1"), in XDP `mode`,
// once it has added the pair; throws (with its log) unless the pair went
// "active (`modes`)", e.g. "native" or "m0 native, m1 generic".
std::shared_ptr<void> xconnectd_pair(Topology& topology, const fs::path& config,
                                     const std::string& mode, const std::string& label,
                                     const std::string& modes);

// Every setup's rates, frames from `generator`.
std::vector<Rate> forwarding(const Settings& settings, Topology& topology,
                             const GeneratorChoice& generator);

}  // namespace xconnect::bench
