#pragma once

// The capabilities the dataplane needs, checked before the first bpf() or
// netlink call: the kernel answers a missing one with a bare EPERM (libbpf:
// "failed to create map"), which names neither the capability nor why it
// is needed. Pure apart from CapabilitySet::effective(): no libbpf.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace xconnect {

class CapabilitySet {
  public:
    // This process's effective set (capget(2)), against the kernel's last
    // capability (/proc/sys/kernel/cap_last_cap). Throws SystemError.
    static CapabilitySet effective();

    CapabilitySet(uint64_t bits, int last_capability)
        : bits_(bits), last_capability_(last_capability) {}

    bool has(int capability) const {
        return capability >= 0 && capability < 64 && ((bits_ >> capability) & 1) != 0;
    }
    // Every capability the kernel knows: root as it usually runs.
    bool is_full() const;
    // "CAP_NET_ADMIN CAP_BPF" (by number), "every capability", "every
    // capability but CAP_SYS_RESOURCE" (up to four missing) or "no capability".
    std::string text() const;

  private:
    uint64_t bits_;
    int last_capability_;
};

// "CAP_NET_ADMIN"; "capability 41" for one this build does not know.
std::string capability_name(int capability);

struct CapabilityNeed {
    int capability;
    int also_accepted;  // the older, broader capability the kernel accepts instead; -1 for none
    std::string_view needed_for;
};

// What loading, attaching and flushing xconnect's dataplane needs.
std::span<const CapabilityNeed> dataplane_capabilities();

// Nullopt if `have` covers every need; else the error for the first one it
// lacks: "missing capability CAP_NET_ADMIN, needed to ...; this process has
// CAP_BPF".
std::optional<std::string> missing_capability(const CapabilitySet& have,
                                              std::span<const CapabilityNeed> needs);

}  // namespace xconnect
