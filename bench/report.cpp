#include "report.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "observe.hpp"

namespace xconnect::bench {

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
    enum class Verdict { met, missed, generator_bound };

    std::string text;
    Verdict verdict;
    std::string measured;

    Target(std::string text, bool met, std::string measured)
        : text(std::move(text)),
          verdict(met ? Verdict::met : Verdict::missed),
          measured(std::move(measured)) {}
    Target(std::string text, Verdict verdict, std::string measured)
        : text(std::move(text)), verdict(verdict), measured(std::move(measured)) {}
    const char* word() const {
        return verdict == Verdict::met      ? "met"
               : verdict == Verdict::missed ? "MISSED"
                                            : "not judged";
    }
};

// Exact where the rate targets cannot resolve 2 %: on a frame that crosses,
// drop accounting as it runs by default runs nothing.
Target drop_trace_target() {
    const std::string text =
        "drop accounting on: its programs run 0 times per frame forwarded (native, 64 B)";
    const auto& counts = drop_trace_counts();
    const auto found = std::find_if(counts.begin(), counts.end(), [](const DropTraceCount& count) {
        return count.name == "xconnectd-native";
    });
    if (found == counts.end()) {
        return {text, false, "not measured"};
    }
    return {text,
            found->error.empty() && found->frames > 0 && found->redirect_err_runs == 0 &&
                found->devmap_xmit_runs == 0,
            found->error.empty()
                ? std::to_string(found->redirect_err_runs + found->devmap_xmit_runs) + " runs in " +
                      std::to_string(found->frames) + " frames"
                : found->error};
}

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

// The setups' generators, in the order of groups() ("" for a setup not measured).
std::string generator_of(const std::vector<Rate>& rates, const std::string& group) {
    for (const Rate& rate : rates) {
        if (rate.group == group) {
            return rate.generator;
        }
    }
    return "";
}

std::string describe_generator(const GeneratorChoice& generator) {
    return "Generator: " + generator.frames.describe() +
           "; frames above a page: " + generator.jumbo.describe() + " (" + generator.reason + ").";
}

int report(const Settings& settings, const GeneratorChoice& generator,
           const std::vector<Rate>& rates, const ControlPlane* control, const ProgramCost& cost) {
    std::ostringstream table;
    table << "| setup | method | frame | Mpps (median) | min | max | limited by | "
             "vs bare (same mode) | native/generic | vs bridge |\n"
          << "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const Rate& rate : rates) {
        std::string bare;
        std::string over_generic;
        if (rate.method.starts_with("xconnectd-")) {
            const bool native = rate.method.find("native") != std::string::npos;
            const bool generic = rate.method.find("generic") != std::string::npos;
            if (native || generic) {
                bare = versus(rates, rate, native ? "bare-native" : "bare-generic");
            }
            // auto is native where these rows use it, but for a tunnel.
            if (rate.method.starts_with("xconnectd-native") ||
                (rate.method == "xconnectd-auto" && rate.group != "vxlan")) {
                over_generic = versus(rates, rate, "xconnectd-generic");
            }
        } else if (rate.method == "bare-native") {
            over_generic = versus(rates, rate, "bare-generic");
        }
        table << "| " << rate.group << " | " << rate.method << " | " << rate.size << " B | "
              << two_places(rate.median()) << " | " << two_places(rate.min()) << " | "
              << two_places(rate.max()) << " | "
              << (generator_bound(rates, rate) ? "generator-bound" : "") << " | " << bare << " | "
              << over_generic << " | " << versus(rates, rate, "bridge") << " |\n";
    }
    table << "\nA rate is generator-bound where its setup's ceiling (what the generator "
             "delivers into mid, same frame size) is below "
          << two_places(generator_bound_margin)
          << "x the rate: the generator, not the method, may be what limits it, so it is "
             "compared with nothing (–) and targets on it are not judged.\n";
    table << "\n| setup | what is measured | generator |\n|---|---|---|\n";
    for (const Group& group : groups()) {
        table << "| " << group.id << " | " << group.description << " | "
              << generator_of(rates, group.id) << " |\n";
    }
    if (!generator.candidates.empty()) {
        table << "\n| generator candidate | ceiling: 64 B frames into m0, Mpps |\n|---|---|\n";
        for (const GeneratorCandidate& candidate : generator.candidates) {
            table << "| " << candidate.spec.describe() << " | "
                  << (candidate.failure.empty() ? two_places(candidate.ceiling_mpps)
                                                : "failed: " + candidate.failure.substr(0, 200))
                  << " |\n";
        }
    }
    table << "\n| program alone (BPF_PROG_TEST_RUN, 64 B, median of 5 x 2M runs) | ns per frame |\n"
          << "|---|---|\n| bare `bpf_redirect_map` | " << two_places(cost.bare_ns) << " |\n"
          << "| xconnect (redirect + per-CPU counters) | " << two_places(cost.xconnect_ns)
          << " |\n";
    if (control) {
        table << "\n| control plane | p50 | p99 |\n|---|---|---|\n";
        for (const Latency* latency : latencies(*control)) {
            table << "| " << latency->what << " (" << latency->ms.size() << " trials) | "
                  << two_places(latency->percentile(50)) << " ms | "
                  << two_places(latency->percentile(99)) << " ms |\n";
        }
        table << "\n| scale | measured |\n|---|---|\n"
              << "| " << control->scale_pairs << " pairs from a file, applied | "
              << two_places(control->scale_apply_s) << " s, peak RSS "
              << two_places(control->scale_rss_mib) << " MiB |\n"
              << "| burst of " << control->burst_events << " link events, converged | "
              << two_places(control->burst_from_start_s) << " s from the first, "
              << two_places(control->burst_from_end_s) << " s after the last |\n"
              << "| idle daemon wake-ups | " << two_places(control->idle_wakeups_per_s)
              << " per second |\n";
    }

    const std::string others = "+" + std::to_string(settings.other_pairs());
    // "a >= minimum x b" in one setup, at one frame size.
    auto ratio_target = [&](const std::string& text, const std::string& group, const std::string& a,
                            const std::string& b, double minimum, size_t size = 64) {
        const Rate* x = find_rate(rates, group, a, size);
        const Rate* y = find_rate(rates, group, b, size);
        if (!x || !y || !(y->median() > 0)) {
            return Target{text, false, "not measured"};
        }
        for (const Rate* rate : {x, y}) {
            if (generator_bound(rates, *rate)) {
                const Rate* ceiling = find_rate(rates, group, "ceiling", size);
                return Target{text, Target::Verdict::generator_bound,
                              rate->method + " generator-bound: " + two_places(rate->median()) +
                                  " Mpps, ceiling " + two_places(ceiling->median())};
            }
        }
        const double measured = x->median() / y->median();
        return Target{text, measured >= minimum, two_places(measured) + "x"};
    };
    std::vector<Target> targets = {
        ratio_target("xconnectd native >= 0.97x bare native (64 B)", "veth", "xconnectd-native",
                     "bare-native", 0.97),
        ratio_target("xconnectd generic >= 0.97x bare generic (64 B)", "veth", "xconnectd-generic",
                     "bare-generic", 0.97),
        ratio_target("xconnectd native >= 5x bridge (64 B)", "veth", "xconnectd-native", "bridge",
                     5),
        ratio_target("xconnectd native >= 3x tc mirred (64 B)", "veth", "xconnectd-native",
                     "tc-mirred", 3),
        ratio_target("rate with " + std::to_string(settings.other_pairs()) +
                         " other pairs = rate with 1 (native)",
                     "veth", "xconnectd-native" + others, "xconnectd-native", 0.97),
        // A native choice not faster than generic is not made: wherever auto
        // picks native, native must be at least as fast.
        ratio_target("tap↔tap: auto's native >= 1.0x generic (64 B)", "tap", "xconnectd-auto",
                     "xconnectd-generic", 1.0),
        ratio_target("GRO veths: auto's native >= 1.0x generic (64 B)", "gro-veth",
                     "xconnectd-auto", "xconnectd-generic", 1.0),
        ratio_target("9000 B native >= generic (xconnectd)", "jumbo", "xconnectd-native",
                     "xconnectd-generic", 1.0, 9000),
        // Seeing the wire: what is there while nobody looks costs (almost) nothing.
        ratio_target("capture compiled in, off: generic >= 0.99x before capture (64 B)", "observe",
                     "xconnectd-generic", "before-capture-generic", 0.99),
        ratio_target("capture compiled in, off: native >= 0.99x before capture (64 B)", "observe",
                     "xconnectd-native", "before-capture-native", 0.99),
        ratio_target("drop accounting on: generic >= 0.98x off (64 B)", "observe",
                     "xconnectd-generic", "no-drop-accounting-generic", 0.98),
        ratio_target("drop accounting on: native >= 0.98x off (64 B)", "observe",
                     "xconnectd-native", "no-drop-accounting-native", 0.98),
        drop_trace_target(),
    };
    // A run of some setups only (--setup) judges only their targets.
    std::erase_if(targets, [&](const Target& target) {
        return target.measured == "not measured" && !settings.setups.empty();
    });
    if (control) {
        const std::vector<Target> control_targets = {
            latency_target("AddPair -> first frame", control->add_to_first_frame, "generic"),
            latency_target("AddPair -> first frame", control->add_to_first_frame, "native"),
            latency_target("interface created -> active", control->created_to_active, "generic"),
            latency_target("interface created -> active", control->created_to_active, "native"),
            {std::to_string(control->scale_pairs) + " pairs applied < 2 s, RSS < 64 MiB",
             control->scale_apply_s < 2 && control->scale_rss_mib < 64,
             two_places(control->scale_apply_s) + " s, " + two_places(control->scale_rss_mib) +
                 " MiB"},
            {std::to_string(control->burst_events) + " link events converge < 1 s",
             control->burst_from_start_s < 1, two_places(control->burst_from_start_s) + " s"},
            {"idle daemon: 0 wake-ups per second", control->idle_wakeups_per_s == 0,
             two_places(control->idle_wakeups_per_s) + "/s"},
        };
        targets.insert(targets.end(), control_targets.begin(), control_targets.end());
    }
    table << "\n| target | measured | |\n|---|---|---|\n";
    for (const Target& target : targets) {
        table << "| " << target.text << " | " << target.measured << " | " << target.word()
              << " |\n";
    }
    if (!drop_trace_counts().empty()) {
        table << "\nHow often drop accounting runs, counted by the kernel (BPF_ENABLE_STATS) over "
                 "a second of the observe traffic (docs/drops.md):\n\n";
        for (const DropTraceCount& count : drop_trace_counts()) {
            table << "- " << count.text() << "\n";
        }
    }
    if (!capture_notes().empty()) {
        table << "\nWhat each capture of the `observe` rows wrote (from its file's statistics "
                 "blocks; a capture copies every frame that crosses, so what it cannot keep up "
                 "with is lost, counted, and forwarding goes on):\n\n";
        for (const std::string& note : capture_notes()) {
            table << "- " << note << "\n";
        }
    }

    const auto now = system_clock::to_time_t(system_clock::now());
    std::ostringstream header;
    header << "Measured " << std::put_time(std::gmtime(&now), "%Y-%m-%d") << " on " << machine()
           << " with `bench/run" << (settings.quick ? " --quick" : "")
           << (settings.rates_only ? " --rates-only" : "") << "`; generator on CPU "
           << settings.generator_cpu << " and up, " << settings.repetitions()
           << " repetition(s) of " << settings.measure_time().count() / 1000.0 << " s each.\n\n"
           << describe_generator(generator) << "\n\n";
    std::cout << header.str() << table.str();
    std::ofstream(settings.out_dir / "results.md") << header.str() << table.str();

    // JSON (escaped by the library: method names and targets are free text),
    // and a data file for gnuplot.
    nlohmann::ordered_json results{
        {"machine", machine()}, {"quick", settings.quick}, {"rates_only", settings.rates_only}};
    nlohmann::ordered_json& chosen = results["generator"] = {
        {"frames", generator.frames.describe()},
        {"jumbo", generator.jumbo.describe()},
        {"reason", generator.reason},
        {"live_frames_refused", generator.live_frames_refused
                                    ? nlohmann::ordered_json(*generator.live_frames_refused)
                                    : nlohmann::ordered_json()},
        {"generator_bound_margin", generator_bound_margin}};
    nlohmann::ordered_json& candidates = chosen["candidates"] = nlohmann::ordered_json::array();
    for (const GeneratorCandidate& candidate : generator.candidates) {
        candidates.push_back({{"generator", candidate.spec.describe()},
                              {"ceiling_mpps_64", candidate.ceiling_mpps},
                              {"failure", candidate.failure}});
    }
    nlohmann::ordered_json& setups = results["setups"] = nlohmann::ordered_json::object();
    for (const Group& group : groups()) {
        setups[group.id] = {{"measures", group.description},
                            {"generator", generator_of(rates, group.id)}};
    }
    nlohmann::ordered_json& forwarding = results["forwarding"] = nlohmann::ordered_json::array();
    for (const Rate& rate : rates) {
        forwarding.push_back({{"setup", rate.group},
                              {"method", rate.method},
                              {"frame_bytes", rate.size},
                              {"mpps_median", rate.median()},
                              {"mpps_min", rate.min()},
                              {"mpps_max", rate.max()},
                              {"generator_bound", generator_bound(rates, rate)},
                              {"error", rate.error}});
    }
    if (control) {
        nlohmann::ordered_json latencies_ms = nlohmann::ordered_json::array();
        for (const auto* latency : latencies(*control)) {
            latencies_ms.push_back({{"what", latency->what},
                                    {"p50", latency->percentile(50)},
                                    {"p99", latency->percentile(99)},
                                    {"trials", latency->ms.size()}});
        }
        results["control_plane"] = {{"latencies_ms", latencies_ms},
                                    {"scale",
                                     {{"pairs", control->scale_pairs},
                                      {"apply_s", control->scale_apply_s},
                                      {"peak_rss_mib", control->scale_rss_mib}}},
                                    {"burst",
                                     {{"link_events", control->burst_events},
                                      {"converged_from_first_s", control->burst_from_start_s},
                                      {"converged_after_last_s", control->burst_from_end_s}}},
                                    {"idle_wakeups_per_s", control->idle_wakeups_per_s}};
    }
    results["program_ns_per_frame"] = {{"bare", cost.bare_ns}, {"xconnect", cost.xconnect_ns}};
    nlohmann::ordered_json& met = results["targets"] = nlohmann::ordered_json::array();
    for (const auto& target : targets) {
        met.push_back({{"target", target.text},
                       {"measured", target.measured},
                       {"met", target.verdict == Target::Verdict::met},
                       {"verdict", target.word()}});
    }
    std::ofstream(settings.out_dir / "results.json") << results.dump(2) << "\n";

    // For gnuplot: one block per setup (rates.gp draws each as a group of
    // bars), separated by two blank lines; in each, one row per method:
    // median, min, max at 64, 1500 and 9000 bytes ("?": not measured). The
    // first line names the blocks in order, each with the sizes it has
    // ("veth=64,1500"), so that the chart draws no empty series.
    std::ofstream dat(settings.out_dir / "rates.dat");
    std::vector<std::string> present;
    dat << "# setups:";
    for (const Group& group : groups()) {
        std::string sizes;
        for (size_t size : {64, 1500, 9000}) {
            if (std::any_of(rates.begin(), rates.end(), [&](const Rate& rate) {
                    return rate.group == group.id && rate.size == size;
                })) {
                sizes += (sizes.empty() ? "" : ",") + std::to_string(size);
            }
        }
        if (!sizes.empty()) {
            present.push_back(group.id);
            dat << " " << group.id << "=" << sizes;
        }
    }
    dat << "\n";
    for (const std::string& group : present) {
        std::vector<std::string> methods;
        for (const Rate& rate : rates) {
            if (rate.group == group &&
                std::find(methods.begin(), methods.end(), rate.method) == methods.end()) {
                methods.push_back(rate.method);
            }
        }
        dat << "\n\n# " << group << "\n";
        for (const std::string& method : methods) {
            dat << '"' << method << '"';
            for (size_t size : {64, 1500, 9000}) {
                if (const Rate* rate = find_rate(rates, group, method, size)) {
                    dat << " " << rate->median() << " " << rate->min() << " " << rate->max();
                } else {
                    dat << " ? ? ?";
                }
            }
            dat << "\n";
        }
    }

    // --quick asserts only that every method produced a number; what
    // stopped one (the generator's own words among them) is shown here.
    int missing = 0;
    for (const Rate& rate : rates) {
        if (!(rate.median() > 0)) {
            std::cerr << "no rate measured for " << rate.group << ": " << rate.method << " at "
                      << rate.size << " B"
                      << (rate.error.empty() ? std::string() : ": " + rate.error) << "\n";
            ++missing;
        }
    }
    std::cerr << describe_generator(generator) << "\n";
    if (control) {
        for (const Latency* latency : latencies(*control)) {
            if (latency->ms.empty()) {
                std::cerr << "no measurement of " << latency->what << "\n";
                ++missing;
            }
        }
    }
    return missing == 0 ? 0 : 1;
}

}  // namespace xconnect::bench
