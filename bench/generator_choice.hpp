#pragma once

// Which generator the run uses. Live frames where the kernel runs them;
// where it refuses them, the fastest of the socket generators, each measured
// by the rate it delivers into m0 (its ceiling) at the start of the run.
// A full run measures every candidate's ceiling either way, so that results
// show what each would give on this machine.

#include <optional>
#include <string>
#include <vector>

#include "generator.hpp"
#include "settings.hpp"
#include "topology.hpp"

namespace xconnect::bench {

struct GeneratorChoice {
    GeneratorSpec frames;  // frames up to a page, out of g0
    GeneratorSpec jumbo;   // frames above a page (9000 bytes)
    // The kernel's answer to a live-frames test run; nullopt: it ran one.
    std::optional<std::string> live_frames_refused;
    std::vector<GeneratorCandidate> candidates;  // empty: none was measured
    std::string reason;                          // why these, in a sentence
};

GeneratorChoice choose_generator(const Settings& settings, Topology& topology);

}  // namespace xconnect::bench
