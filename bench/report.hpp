#pragma once

// results.md, results.json and rates.dat from one run's figures.

#include <vector>

#include "control_plane.hpp"
#include "forwarding.hpp"
#include "settings.hpp"

namespace xconnect::bench {

int report(const Settings& settings, const std::vector<Rate>& rates, const ControlPlane& control,
           const ProgramCost& cost);

}  // namespace xconnect::bench
