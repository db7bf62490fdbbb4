// fuzz-pcapng: bytes -> pcapng::StreamReader, the reader xconnectctl runs on
// the capture stream the daemon hands out (and on any file it is given). The
// input is fed whole and then in chunks of 1 to 16 bytes (sizes from the
// input itself): both must give the same blocks, or both the same
// FormatError. summary_line() runs on every packet.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "contract/pcapng.hpp"
#include "fuzz_check.hpp"

namespace {

namespace pcapng = xconnect::pcapng;

struct Outcome {
    std::vector<pcapng::Block> blocks;
    std::optional<std::string> error;  // the FormatError's message
    size_t pending = 0;
};

// Feeds `data` in pieces of the sizes `chunk(i)` gives, taking the blocks
// out after each piece; the reader's limit is small, so long blocks are
// refused and their lengths fuzzed too.
template <class Chunk>
Outcome read(std::span<const uint8_t> data, Chunk chunk) {
    Outcome outcome;
    pcapng::StreamReader reader(64 * 1024);
    try {
        size_t at = 0;
        for (size_t i = 0; at < data.size(); ++i) {
            const size_t size = std::min(chunk(i), data.size() - at);
            reader.feed(data.subspan(at, size));
            at += size;
            while (auto block = reader.next()) {
                if (const auto* packet = std::get_if<pcapng::Packet>(&*block)) {
                    const auto& interfaces = reader.interfaces();
                    const auto* interface = packet->interface_id < interfaces.size()
                                                ? &interfaces[packet->interface_id]
                                                : nullptr;
                    FUZZ_CHECK(interface != nullptr, "a packet on interface %u of %zu",
                               packet->interface_id, interfaces.size());
                    const std::string line = pcapng::summary_line(*packet, interface, -7200);
                    FUZZ_CHECK(!line.empty() && line.find('\n') == std::string::npos,
                               "summary line \"%s\"", line.c_str());
                }
                outcome.blocks.push_back(std::move(*block));
            }
        }
        outcome.pending = reader.pending();
    } catch (const pcapng::FormatError& error) {
        outcome.error = error.what();
    }
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 256 * 1024) {
        return 0;
    }
    // Heap memory of exactly this size: AddressSanitizer catches any read past it.
    const std::vector<uint8_t> buffer(data, data + size);
    const std::span<const uint8_t> input(buffer);
    const Outcome whole = read(input, [&](size_t) { return input.size(); });
    const Outcome pieces =
        read(input, [&](size_t i) { return size_t{1} + (size > 0 ? data[i % size] % 16 : 0); });
    FUZZ_CHECK(whole.error == pieces.error, "whole: %s; in pieces: %s",
               whole.error.value_or("no error").c_str(), pieces.error.value_or("no error").c_str());
    FUZZ_CHECK(whole.blocks == pieces.blocks, "%zu blocks whole, %zu in pieces",
               whole.blocks.size(), pieces.blocks.size());
    FUZZ_CHECK(whole.pending == pieces.pending, "%zu bytes pending whole, %zu in pieces",
               whole.pending, pieces.pending);
    return 0;
}
