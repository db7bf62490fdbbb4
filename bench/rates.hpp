#pragma once

// One measured rate and how rates are compared: by ratios within a setup at
// one frame size, and only where the generator outran both (pure logic,
// unit_tests check it).

#include <algorithm>
#include <string>
#include <vector>

namespace xconnect::bench {

struct Rate {
    std::string group = "veth";
    std::string method;
    size_t size = 0;
    std::vector<double> mpps;
    std::string generator;  // what sent the frames ("live-frames on CPU 0")
    std::string error;      // why a repetition measured nothing, if one did
    double median() const {
        auto sorted = mpps;
        std::sort(sorted.begin(), sorted.end());
        return sorted.empty() ? 0 : sorted[sorted.size() / 2];
    }
    double min() const { return mpps.empty() ? 0 : *std::min_element(mpps.begin(), mpps.end()); }
    double max() const { return mpps.empty() ? 0 : *std::max_element(mpps.begin(), mpps.end()); }
};

// The rate of `method` in `group` at `size`, nullptr if none was measured.
const Rate* find_rate(const std::vector<Rate>& rates, const std::string& group,
                      const std::string& method, size_t size);

// A rate whose setup's ceiling (what the generator delivers, same frame
// size) is below this many times the rate may be limited by the generator,
// not by the method: it is marked "generator-bound" and compared with none.
inline constexpr double generator_bound_margin = 1.5;

// Whether the generator, not the method, may be what limits `rate`.
bool generator_bound(const std::vector<Rate>& rates, const Rate& rate);

// "1.23x" of `rate` against `method` in its group at its size; "" if there
// is none, "–" if either is generator-bound (a ratio that tells nothing).
std::string versus(const std::vector<Rate>& rates, const Rate& rate, const std::string& method);

std::string two_places(double value);

}  // namespace xconnect::bench
