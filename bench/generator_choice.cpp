#include "generator_choice.hpp"

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "traffic.hpp"

namespace xconnect::bench {

namespace {

constexpr size_t jumbo_size = 9000;

std::vector<GeneratorSpec> candidate_specs(const Settings& settings, bool live_frames) {
    const int cpus = cpu_count();
    std::vector<GeneratorSpec> specs;
    if (live_frames) {
        specs.push_back({GeneratorKind::live_frames, {settings.generator_cpu}});
    }
    for (GeneratorKind kind :
         {GeneratorKind::packet_socket, GeneratorKind::packet_ring, GeneratorKind::xsk_copy}) {
        specs.push_back({kind, {settings.generator_cpu}});
        if (cpus > 1) {
            // One sender per CPU: each CPU also runs the receive side of
            // what it sends (the veth hands frames over on the sending CPU).
            GeneratorSpec every_cpu{kind, {}};
            for (int cpu = 0; cpu < cpus; ++cpu) {
                every_cpu.cpus.push_back(cpu);
            }
            specs.push_back(every_cpu);
        }
    }
    return specs;
}

std::vector<GeneratorCandidate> measure_candidates(const Settings& settings, Topology& topology,
                                                   const std::vector<GeneratorSpec>& specs) {
    const Sink unused(topology.sink_ns, "s0");  // the ceiling counts at m0
    std::vector<GeneratorCandidate> measured;
    for (const GeneratorSpec& spec : specs) {
        GeneratorCandidate candidate{spec, 0, ""};
        try {
            const TrafficSource traffic = from_g0(settings, topology, unused, spec);
            candidate.ceiling_mpps = measure_mpps(settings, [&] { return traffic(64, true); });
        } catch (const std::exception& error) {
            candidate.failure = error.what();
        }
        std::cerr << "generator candidate " << spec.describe() << ": "
                  << (candidate.failure.empty() ? two_places(candidate.ceiling_mpps) + " Mpps"
                                                : "failed: " + candidate.failure)
                  << "\n";
        measured.push_back(candidate);
    }
    return measured;
}

}  // namespace

GeneratorChoice choose_generator(const Settings& settings, Topology& topology) {
    GeneratorChoice choice;
    choice.live_frames_refused = live_frames_refused(topology.gen, "g0");
    const bool live = !choice.live_frames_refused;
    if (!live) {
        std::cerr << "live frames refused by this kernel: " << *choice.live_frames_refused
                  << "; measuring the socket generators instead\n";
    }
    // A quick run with live frames keeps to them; otherwise every candidate
    // gets its ceiling measured, for the choice or for the record.
    if (!settings.quick || !live) {
        choice.candidates = measure_candidates(settings, topology, candidate_specs(settings, live));
    }
    const GeneratorSpec packet_socket{GeneratorKind::packet_socket, {settings.generator_cpu}};
    if (settings.forced_generator) {
        choice.frames = GeneratorSpec::parse(*settings.forced_generator);
        choice.jumbo = sends_size(choice.frames.kind, jumbo_size) ? choice.frames : packet_socket;
        choice.reason = "chosen with --generator";
    } else if (live) {
        choice.frames = {GeneratorKind::live_frames, {settings.generator_cpu}};
        choice.jumbo =
            fastest_socket_generator(choice.candidates, jumbo_size).value_or(packet_socket);
        choice.reason =
            "live frames run on this kernel; frames above a page come from the " +
            std::string(choice.candidates.empty() ? "packet socket" : "fastest socket generator");
    } else {
        const auto fastest = fastest_socket_generator(choice.candidates, 64);
        if (!fastest) {
            std::string failures;
            for (const GeneratorCandidate& candidate : choice.candidates) {
                failures += "\n" + candidate.spec.describe() + ": " + candidate.failure;
            }
            throw std::runtime_error("live frames refused (" + *choice.live_frames_refused +
                                     ") and no socket generator sent anything:" + failures);
        }
        choice.frames = *fastest;
        choice.jumbo =
            fastest_socket_generator(choice.candidates, jumbo_size).value_or(packet_socket);
        choice.reason = "live frames refused by this kernel (" + *choice.live_frames_refused +
                        "): the socket generator with the highest ceiling instead";
    }
    std::cerr << "generator: " << choice.frames.describe()
              << "; above a page: " << choice.jumbo.describe() << " (" << choice.reason << ")\n";
    return choice;
}

}  // namespace xconnect::bench
