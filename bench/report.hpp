#pragma once

// results.md, results.json and rates.dat from one run's figures.

#include <string>
#include <vector>

#include "control_plane.hpp"
#include "forwarding.hpp"
#include "generator_choice.hpp"
#include "settings.hpp"

namespace xconnect::bench {

// "AMD EPYC, 2 CPUs, Linux 6.1.0": what every result file names.
std::string machine();

// `control`: nullptr when only the rates were measured (--rates-only).
// Returns 1 if any rate or latency that could be measured was not.
int report(const Settings& settings, const GeneratorChoice& generator,
           const std::vector<Rate>& rates, const ControlPlane* control, const ProgramCost& cost);

}  // namespace xconnect::bench
