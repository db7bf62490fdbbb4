#pragma once

// Traffic through the rig and how fast it arrives: the generator out of g0
// counted by a sink, and the measurement every rate in the benchmark uses.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "generator.hpp"
#include "settings.hpp"
#include "topology.hpp"

namespace xconnect::bench {

// Frames sent for as long as `source` lives; `arrived()` counts them where
// they end up (a sink's counter, a reader's); `failure()` is what stopped
// the source, if it stopped ("" while it sends).
struct Traffic {
    std::shared_ptr<void> source;
    std::function<uint64_t()> arrived;
    std::function<std::string()> failure = [] { return std::string(); };
};

// Million frames per second arriving, over settings.measure_time() after a
// warm-up; throws, with what the source printed, if the source stopped.
double measure_mpps(const Settings& settings, const std::function<Traffic()>& start);

// Traffic of `size`-byte frames from `generator` out of g0, counted by
// `sink`, or for the ceiling (what the generator delivers) by a sink of its
// own on m0.
using TrafficSource = std::function<Traffic(size_t size, bool ceiling)>;
TrafficSource from_g0(const Settings& settings, Topology& topology, const Sink& sink,
                      const GeneratorSpec& generator);

}  // namespace xconnect::bench
