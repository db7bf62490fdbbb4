#pragma once

// What one benchmark run measures and for how long (--quick or full), and
// small helpers every part of it uses.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "netns.hpp"
#include "rates.hpp"

namespace xconnect::bench {

namespace fs = std::filesystem;
using namespace std::chrono;
using test::ChildProcess;
using test::Netns;
using test::NetnsScope;
using test::sh;

struct Settings {
    bool quick = false;
    bool transparency_only = false;  // --transparency: only which frames cross, no rates
    bool rates_only = false;  // --rates-only: forwarding rates, no transparency or control plane
    // --setup ID (repeatable): only these groups of rates ("veth", "tap", ...);
    // empty: all of them.
    std::vector<std::string> setups;
    bool wants(const std::string& setup) const {
        return setups.empty() || std::find(setups.begin(), setups.end(), setup) != setups.end();
    }
    fs::path out_dir = ".";
    fs::path scratch_dir;  // config files and batches, removed at the end
    std::string self;      // this binary, for the generator subprocess
    int generator_cpu = 0;
    // --generator "KIND xN": this generator rather than the one chosen.
    std::optional<std::string> forced_generator;
    int repetitions() const { return quick ? 1 : 5; }
    milliseconds measure_time() const { return quick ? milliseconds(1000) : milliseconds(3000); }
    std::vector<size_t> sizes() const {
        return quick ? std::vector<size_t>{64} : std::vector<size_t>{64, 1500};
    }
    int latency_trials() const { return quick ? 5 : 200; }
    int scale_pairs() const { return quick ? 1000 : 10000; }
    int other_pairs() const { return quick ? 100 : 1000; }
    int burst_pairs() const { return quick ? 50 : 500; }  // two link events each
    seconds idle_time() const { return quick ? seconds(2) : seconds(10); }
};

uint64_t monotonic_ns();
int cpu_count();  // at least 1
void write_file(const fs::path& file, const std::string& text);

}  // namespace xconnect::bench
