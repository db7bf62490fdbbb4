#pragma once

// What sends the benchmark's frames, as data: the kind of generator and the
// CPUs it runs on, and which of several measured candidates is fastest.
// Pure logic (unit_tests check it); generator.hpp runs them.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace xconnect::bench {

enum class GeneratorKind {
    live_frames,    // XDP frames straight into the veth's peer (up to one page)
    packet_socket,  // skbs from AF_PACKET sendmmsg(), any size up to the MTU
    packet_ring,    // skbs from an AF_PACKET TPACKET_V2 transmit ring
    xsk_copy,       // skbs from AF_XDP in copy mode (up to one page)
};

std::string to_string(GeneratorKind kind);
GeneratorKind generator_kind(const std::string& text);  // throws std::invalid_argument
// Whether `kind` can send frames of `size` bytes at all.
bool sends_size(GeneratorKind kind, size_t size);

// A generator: one kind, sending from one process on each of `cpus`.
struct GeneratorSpec {
    GeneratorKind kind = GeneratorKind::live_frames;
    std::vector<int> cpus = {0};
    // "packet-ring on CPUs 0,1"
    std::string describe() const;
    // "KIND" or "KIND xN" (N processes on CPUs 0..N-1), as --generator takes it.
    static GeneratorSpec parse(const std::string& id);  // throws std::invalid_argument
};

struct GeneratorCandidate {
    GeneratorSpec spec;
    double ceiling_mpps = 0;  // 64-byte frames delivered into m0
    std::string failure;      // what it printed if it could not send
};

// The candidate with the highest ceiling that sends `size`-byte frames, is
// not live frames and did not fail; nullopt if there is none.
std::optional<GeneratorSpec> fastest_socket_generator(
    const std::vector<GeneratorCandidate>& candidates, size_t size);

}  // namespace xconnect::bench
