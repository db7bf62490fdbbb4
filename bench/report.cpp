#include "report.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "bench.skel.h"
#include "child_process.hpp"
#include "common/unique_fd.hpp"
#include "frames.hpp"
#include "generator.hpp"
#include "loader/bpf_skeleton.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netlink/links.hpp"
#include "netns.hpp"
#include "system_bus.hpp"

namespace xconnect::bench {

// ------------------------------------------------------------------ report

const Rate* find_rate(const std::vector<Rate>& rates, const std::string& method, size_t size) {
    for (const Rate& rate : rates) {
        if (rate.method == method && rate.size == size) {
            return &rate;
        }
    }
    return nullptr;
}

double ratio(const std::vector<Rate>& rates, const std::string& a, const std::string& b,
             size_t size) {
    const Rate* x = find_rate(rates, a, size);
    const Rate* y = find_rate(rates, b, size);
    return x && y && y->median() > 0 ? x->median() / y->median() : 0;
}

std::string machine() {
    utsname name{};
    uname(&name);
    std::string cpu = "unknown CPU";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    }
    return cpu + ", " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, Linux " +
           name.release;
}

std::vector<const Latency*> latencies(const ControlPlane& control) {
    std::vector<const Latency*> all;
    for (const auto* by_mode : {&control.add_to_first_frame, &control.created_to_active}) {
        for (const auto& [mode, latency] : *by_mode) {
            all.push_back(&latency);
        }
    }
    return all;
}

struct Target {
    std::string text;
    bool met;
    std::string measured;
};

// p99 < 5 ms, held with another pair active and for the first pair (the
// warm tap holding the program); the first pair without the warm tap is
// shown beside them: what the kernel's dispatcher rebuild costs.
Target latency_target(const std::string& what, const std::map<std::string, Latency>& by_key,
                      const std::string& mode) {
    const Latency& warm = by_key.at(mode + ", another pair active");
    const Latency& first = by_key.at(mode + ", first pair");
    const Latency& cold = by_key.at(mode + ", first pair, --no-warm-tap");
    return {
        what + " p99 < 5 ms (" + mode + ")", warm.percentile(99) < 5 && first.percentile(99) < 5,
        two_places(warm.percentile(99)) + " ms (first pair: " + two_places(first.percentile(99)) +
            " ms; first pair without the warm tap: " + two_places(cold.percentile(99)) + " ms)"};
}

int report(const Settings& settings, const std::vector<Rate>& rates, const ControlPlane& control,
           const ProgramCost& cost) {
    std::ostringstream table;
    table << "| method | frame | Mpps (median) | min | max | vs bare (same mode) | vs bridge |\n"
          << "|---|---|---|---|---|---|---|\n";
    for (const Rate& rate : rates) {
        std::string bare = "";
        if (rate.method.starts_with("xconnectd-")) {
            const std::string mode =
                rate.method.find("native") != std::string::npos ? "native" : "generic";
            const Rate* base = find_rate(rates, "bare-" + mode, rate.size);
            bare =
                base && base->median() > 0 ? two_places(rate.median() / base->median()) + "x" : "";
        }
        const Rate* bridge = find_rate(rates, "bridge", rate.size);
        table << "| " << rate.method << " | " << rate.size << " B | " << two_places(rate.median())
              << " | " << two_places(rate.min()) << " | " << two_places(rate.max()) << " | " << bare
              << " | "
              << (bridge && bridge->median() > 0
                      ? two_places(rate.median() / bridge->median()) + "x"
                      : "")
              << " |\n";
    }
    table << "\n| program alone (BPF_PROG_TEST_RUN, 64 B, median of 5 x 2M runs) | ns per frame |\n"
          << "|---|---|\n| bare `bpf_redirect_map` | " << two_places(cost.bare_ns) << " |\n"
          << "| xconnect (redirect + per-CPU counters) | " << two_places(cost.xconnect_ns)
          << " |\n";
    table << "\n| control plane | p50 | p99 |\n|---|---|---|\n";
    for (const Latency* latency : latencies(control)) {
        table << "| " << latency->what << " (" << latency->ms.size() << " trials) | "
              << two_places(latency->percentile(50)) << " ms | "
              << two_places(latency->percentile(99)) << " ms |\n";
    }
    table << "\n| scale | measured |\n|---|---|\n"
          << "| " << control.scale_pairs << " pairs from a file, applied | "
          << two_places(control.scale_apply_s) << " s, peak RSS "
          << two_places(control.scale_rss_mib) << " MiB |\n"
          << "| burst of " << control.burst_events << " link events, converged | "
          << two_places(control.burst_from_start_s) << " s from the first, "
          << two_places(control.burst_from_end_s) << " s after the last |\n"
          << "| idle daemon wake-ups | " << two_places(control.idle_wakeups_per_s)
          << " per second |\n";

    const std::string others = "+" + std::to_string(settings.other_pairs());
    // "a >= minimum x b", at 64-byte frames.
    auto ratio_target = [&](const std::string& text, const std::string& a, const std::string& b,
                            double minimum) {
        const double measured = ratio(rates, a, b, 64);
        return Target{text, measured >= minimum, two_places(measured) + "x"};
    };
    const std::vector<Target> targets = {
        ratio_target("xconnectd native >= 0.97x bare native (64 B)", "xconnectd-native",
                     "bare-native", 0.97),
        ratio_target("xconnectd generic >= 0.97x bare generic (64 B)", "xconnectd-generic",
                     "bare-generic", 0.97),
        ratio_target("xconnectd native >= 5x bridge (64 B)", "xconnectd-native", "bridge", 5),
        ratio_target("xconnectd native >= 3x tc mirred (64 B)", "xconnectd-native", "tc-mirred", 3),
        ratio_target("rate with " + std::to_string(settings.other_pairs()) +
                         " other pairs = rate with 1 (native)",
                     "xconnectd-native" + others, "xconnectd-native", 0.97),
        latency_target("AddPair -> first frame", control.add_to_first_frame, "generic"),
        latency_target("AddPair -> first frame", control.add_to_first_frame, "native"),
        latency_target("interface created -> active", control.created_to_active, "generic"),
        latency_target("interface created -> active", control.created_to_active, "native"),
        {std::to_string(control.scale_pairs) + " pairs applied < 2 s, RSS < 64 MiB",
         control.scale_apply_s < 2 && control.scale_rss_mib < 64,
         two_places(control.scale_apply_s) + " s, " + two_places(control.scale_rss_mib) + " MiB"},
        {std::to_string(control.burst_events) + " link events converge < 1 s",
         control.burst_from_start_s < 1, two_places(control.burst_from_start_s) + " s"},
        {"idle daemon: 0 wake-ups per second", control.idle_wakeups_per_s == 0,
         two_places(control.idle_wakeups_per_s) + "/s"},
    };
    table << "\n| target | measured | |\n|---|---|---|\n";
    for (const Target& target : targets) {
        table << "| " << target.text << " | " << target.measured << " | "
              << (target.met ? "met" : "MISSED") << " |\n";
    }

    const auto now = system_clock::to_time_t(system_clock::now());
    std::ostringstream header;
    header << "Measured " << std::put_time(std::gmtime(&now), "%Y-%m-%d") << " on " << machine()
           << " with `bench/run" << (settings.quick ? " --quick" : "") << "`; generator on CPU "
           << settings.generator_cpu << ", " << settings.repetitions() << " repetition(s) of "
           << settings.measure_time().count() / 1000.0 << " s each.\n\n";
    std::cout << header.str() << table.str();
    std::ofstream(settings.out_dir / "results.md") << header.str() << table.str();

    // JSON (escaped by the library: method names and targets are free text),
    // and a data file for gnuplot.
    nlohmann::ordered_json results{{"machine", machine()}, {"quick", settings.quick}};
    nlohmann::ordered_json& forwarding = results["forwarding"] = nlohmann::ordered_json::array();
    for (const Rate& rate : rates) {
        forwarding.push_back({{"method", rate.method},
                              {"frame_bytes", rate.size},
                              {"mpps_median", rate.median()},
                              {"mpps_min", rate.min()},
                              {"mpps_max", rate.max()}});
    }
    nlohmann::ordered_json latencies_ms = nlohmann::ordered_json::array();
    for (const auto* latency : latencies(control)) {
        latencies_ms.push_back({{"what", latency->what},
                                {"p50", latency->percentile(50)},
                                {"p99", latency->percentile(99)},
                                {"trials", latency->ms.size()}});
    }
    results["control_plane"] = {{"latencies_ms", latencies_ms},
                                {"scale",
                                 {{"pairs", control.scale_pairs},
                                  {"apply_s", control.scale_apply_s},
                                  {"peak_rss_mib", control.scale_rss_mib}}},
                                {"burst",
                                 {{"link_events", control.burst_events},
                                  {"converged_from_first_s", control.burst_from_start_s},
                                  {"converged_after_last_s", control.burst_from_end_s}}},
                                {"idle_wakeups_per_s", control.idle_wakeups_per_s}};
    results["program_ns_per_frame"] = {{"bare", cost.bare_ns}, {"xconnect", cost.xconnect_ns}};
    nlohmann::ordered_json& met = results["targets"] = nlohmann::ordered_json::array();
    for (const auto& target : targets) {
        met.push_back(
            {{"target", target.text}, {"measured", target.measured}, {"met", target.met}});
    }
    std::ofstream(settings.out_dir / "results.json") << results.dump(2) << "\n";
    // One row per method: median, min, max at 64 and at 1500 bytes ("?": not measured).
    std::ofstream dat(settings.out_dir / "rates.dat");
    std::vector<std::string> methods;
    for (const Rate& rate : rates) {
        if (std::find(methods.begin(), methods.end(), rate.method) == methods.end()) {
            methods.push_back(rate.method);
        }
    }
    for (const std::string& method : methods) {
        dat << '"' << method << '"';
        for (size_t size : {64, 1500}) {
            if (const Rate* rate = find_rate(rates, method, size)) {
                dat << " " << rate->median() << " " << rate->min() << " " << rate->max();
            } else {
                dat << " ? ? ?";
            }
        }
        dat << "\n";
    }

    // --quick asserts only that every method produced a number.
    int missing = 0;
    for (const Rate& rate : rates) {
        if (!(rate.median() > 0)) {
            std::cerr << "no rate measured for " << rate.method << " at " << rate.size << " B\n";
            ++missing;
        }
    }
    for (const Latency* latency : latencies(control)) {
        if (latency->ms.empty()) {
            std::cerr << "no measurement of " << latency->what << "\n";
            ++missing;
        }
    }
    return missing == 0 ? 0 : 1;
}

}  // namespace xconnect::bench
