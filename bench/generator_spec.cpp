#include "generator_spec.hpp"

#include <algorithm>
#include <stdexcept>

namespace xconnect::bench {

namespace {

struct KindName {
    GeneratorKind kind;
    const char* name;
};
constexpr KindName kind_names[] = {
    {GeneratorKind::live_frames, "live-frames"},
    {GeneratorKind::packet_socket, "packet-socket"},
    {GeneratorKind::packet_ring, "packet-ring"},
    {GeneratorKind::xsk_copy, "af-xdp-copy"},
};

constexpr size_t page_size = 4096;

}  // namespace

std::string to_string(GeneratorKind kind) {
    for (const KindName& entry : kind_names) {
        if (entry.kind == kind) {
            return entry.name;
        }
    }
    return "unknown";
}

GeneratorKind generator_kind(const std::string& text) {
    for (const KindName& entry : kind_names) {
        if (text == entry.name) {
            return entry.kind;
        }
    }
    throw std::invalid_argument("unknown generator kind \"" + text.substr(0, 32) + "\"");
}

bool sends_size(GeneratorKind kind, size_t size) {
    return (kind != GeneratorKind::live_frames && kind != GeneratorKind::xsk_copy) ||
           size <= page_size;
}

std::string GeneratorSpec::describe() const {
    std::string list;
    for (int cpu : cpus) {
        list += (list.empty() ? "" : ",") + std::to_string(cpu);
    }
    return to_string(kind) + (cpus.size() == 1 ? " on CPU " : " on CPUs ") + list;
}

GeneratorSpec GeneratorSpec::parse(const std::string& id) {
    const size_t space = id.find(" x");
    GeneratorSpec spec;
    spec.kind = generator_kind(id.substr(0, space));
    int processes = 1;
    if (space != std::string::npos) {
        const std::string count = id.substr(space + 2);
        const bool digits =
            !count.empty() && count.size() <= 2 &&
            std::all_of(count.begin(), count.end(), [](char c) { return c >= '0' && c <= '9'; });
        processes = digits ? std::stoi(count) : 0;
    }
    if (processes < 1 || processes > 64) {
        throw std::invalid_argument("a generator runs on 1 to 64 CPUs: \"" + id.substr(0, 40) +
                                    "\"");
    }
    spec.cpus.clear();
    for (int cpu = 0; cpu < processes; ++cpu) {
        spec.cpus.push_back(cpu);
    }
    return spec;
}

std::optional<GeneratorSpec> fastest_socket_generator(
    const std::vector<GeneratorCandidate>& candidates, size_t size) {
    const GeneratorCandidate* best = nullptr;
    for (const GeneratorCandidate& candidate : candidates) {
        if (candidate.failure.empty() && candidate.ceiling_mpps > 0 &&
            candidate.spec.kind != GeneratorKind::live_frames &&
            sends_size(candidate.spec.kind, size) &&
            (!best || candidate.ceiling_mpps > best->ceiling_mpps)) {
            best = &candidate;
        }
    }
    return best ? std::optional(best->spec) : std::nullopt;
}

}  // namespace xconnect::bench
