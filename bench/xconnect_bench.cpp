// bench/run's engine: forwarding rates of xconnectd against the alternatives,
// measured side by side in one run on one machine, and the control plane's
// reaction times, scale and idleness; first, which frames each way carries at
// all (transparency.cpp). See the README's "Benchmarks" section, which shows
// what this prints.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "control_plane.hpp"
#include "forwarding.hpp"
#include "generator.hpp"
#include "generator_choice.hpp"
#include "report.hpp"
#include "settings.hpp"
#include "topology.hpp"
#include "transparency.hpp"

namespace xconnect::bench {

int run(const Settings& settings) {
    fs::create_directories(settings.out_dir);
    if (settings.rates_only) {
        Topology topology;
        const GeneratorChoice generator = choose_generator(settings, topology);
        const ProgramCost cost = program_cost(topology);
        const std::vector<Rate> rates = forwarding(settings, topology, generator);
        return report(settings, generator, rates, nullptr, cost);
    }
    // In namespaces of its own, removed before the rates are measured.
    const int transparent = report_transparency(settings, transparency(settings));
    if (settings.transparency_only) {
        return transparent;
    }
    Topology topology;
    const GeneratorChoice generator = choose_generator(settings, topology);
    const ProgramCost cost = program_cost(topology);
    const std::vector<Rate> rates = forwarding(settings, topology, generator);
    // Frames are only there to be seen first: one CPU sends them, the other
    // stays free for the daemon whose reactions are timed.
    const ControlPlane control = control_plane(
        settings, topology, GeneratorSpec{generator.frames.kind, {settings.generator_cpu}});
    return std::max(report(settings, generator, rates, &control, cost), transparent);
}

}  // namespace xconnect::bench

int main(int argc, char** argv) {
    using namespace xconnect::bench;
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!args.empty() && args[0] == "generate" && args.size() == 6) {
            return run_generator(args[1], args[2], std::stoul(args[3]), std::stoi(args[4]),
                                 generator_kind(args[5]));
        }
        Settings settings;
        settings.self = fs::canonical("/proc/self/exe");
        for (size_t i = 0; i < args.size(); ++i) {
            if (args[i] == "--quick") {
                settings.quick = true;
            } else if (args[i] == "--transparency") {
                settings.transparency_only = true;
            } else if (args[i] == "--rates-only") {
                settings.rates_only = true;
            } else if (args[i] == "--setup" && i + 1 < args.size()) {
                settings.setups.push_back(args[++i]);
            } else if (args[i] == "--generator" && i + 1 < args.size()) {
                settings.forced_generator = args[++i];
                GeneratorSpec::parse(*settings.forced_generator);  // refused here, not later
            } else if (args[i] == "--out" && i + 1 < args.size()) {
                settings.out_dir = fs::absolute(args[++i]);
            } else {
                std::cerr << "usage: xconnect-bench [--quick] [--transparency | --rates-only "
                             "[--setup ID]...] [--generator 'KIND[ xN]'] [--out DIR]\n"
                             "  KIND: live-frames, packet-socket, packet-ring, af-xdp-copy; "
                             "N: processes, on CPUs 0..N-1\n";
                return 2;
            }
        }
        if (geteuid() != 0) {
            std::cerr << "xconnect-bench needs root (namespaces, XDP)\n";
            return 2;
        }
        settings.scratch_dir =
            fs::temp_directory_path() / ("xconnect-bench-" + std::to_string(getpid()));
        fs::create_directories(settings.scratch_dir);
        struct RemoveScratch {
            fs::path directory;
            ~RemoveScratch() {
                std::error_code ignored;
                fs::remove_all(directory, ignored);
            }
        } remove_scratch{settings.scratch_dir};
        return run(settings);
    } catch (const std::exception& error) {
        std::cerr << "xconnect-bench: " << error.what() << "\n";
        return 1;
    }
}
