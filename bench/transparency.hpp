#pragma once

// L2 transparency: which frames cross gen -> sink and back through each way
// of cross-connecting m0 and m1 (a Linux bridge as it comes and with the
// knobs it has, tc mirred, xconnectd): the link-local control frames to
// 01:80:c2:00:00:0X and QinQ. A measurement, not a test: it asserts only that
// the measurement itself worked (each frame was sent, each probe crossed).

#include <string>
#include <vector>

#include "settings.hpp"

namespace xconnect::bench {

struct FrameKind {
    std::string name;         // "STP configuration BPDU"
    std::string destination;  // "01:80:c2:00:00:00", or what kind of address
    std::string type;         // ethertype or 802.3 length and LLC
    size_t bytes = 0;
};

struct TransparencyMethod {
    std::string name;     // "bridge", "tc-mirred", "xconnectd-generic", ...
    std::string setting;  // how it was set up, as the kernel reports it back
};

struct Crossing {
    bool there = false;  // gen -> sink
    bool back = false;   // sink -> gen
};

struct Transparency {
    std::vector<FrameKind> kinds;
    std::vector<TransparencyMethod> methods;
    std::vector<std::vector<Crossing>> crossed;  // [method][kind]
    // Bridge settings tried and the kernel's answer ("accepted" or its error).
    std::vector<std::pair<std::string, std::string>> knobs;
    std::vector<std::string> notes;    // what else was seen (frames of the bridge's own)
    std::vector<std::string> invalid;  // a frame not sent, a probe that never crossed
};

// Builds its own gen/mid/sink namespaces, measures, removes them.
Transparency transparency(const Settings& settings);
// transparency.md and transparency.json in settings.out_dir; 1 if the
// measurement was invalid.
int report_transparency(const Settings& settings, const Transparency& result);

}  // namespace xconnect::bench
