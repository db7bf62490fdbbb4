#pragma once

// What a capture is asked for (Pair.Capture's options, xconnectctl capture's
// arguments), checked before anything runs. Pure.

#include <cstdint>
#include <string>

namespace xconnect {

struct CaptureOptions {
    uint32_t snaplen = 0;  // bytes kept of each frame; 0: as many as the program copies
    uint64_t count = 0;    // ends after this many frames written; 0: no limit
    uint32_t seconds = 0;  // ends after this long; 0: no limit
    std::string filter;    // pcap-filter(7); empty: every frame
};

// The longest filter expression taken (a filter is compiled by the daemon).
inline constexpr size_t max_filter_length = 4096;

// Throws ContractError invalid_args naming the option, with the value quoted
// bounded, if it is out of range; `max_snaplen` is what the program can copy.
// Returns the options with the snaplen made explicit.
CaptureOptions checked(CaptureOptions options, uint32_t max_snaplen);

}  // namespace xconnect
