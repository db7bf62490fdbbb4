#include "capabilities.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>

#include "common/error.hpp"

namespace xconnect {

namespace {

// capability(7), by number.
constexpr std::array<std::string_view, CAP_LAST_CAP + 1> capability_names{"CAP_CHOWN",
                                                                          "CAP_DAC_OVERRIDE",
                                                                          "CAP_DAC_READ_SEARCH",
                                                                          "CAP_FOWNER",
                                                                          "CAP_FSETID",
                                                                          "CAP_KILL",
                                                                          "CAP_SETGID",
                                                                          "CAP_SETUID",
                                                                          "CAP_SETPCAP",
                                                                          "CAP_LINUX_IMMUTABLE",
                                                                          "CAP_NET_BIND_SERVICE",
                                                                          "CAP_NET_BROADCAST",
                                                                          "CAP_NET_ADMIN",
                                                                          "CAP_NET_RAW",
                                                                          "CAP_IPC_LOCK",
                                                                          "CAP_IPC_OWNER",
                                                                          "CAP_SYS_MODULE",
                                                                          "CAP_SYS_RAWIO",
                                                                          "CAP_SYS_CHROOT",
                                                                          "CAP_SYS_PTRACE",
                                                                          "CAP_SYS_PACCT",
                                                                          "CAP_SYS_ADMIN",
                                                                          "CAP_SYS_BOOT",
                                                                          "CAP_SYS_NICE",
                                                                          "CAP_SYS_RESOURCE",
                                                                          "CAP_SYS_TIME",
                                                                          "CAP_SYS_TTY_CONFIG",
                                                                          "CAP_MKNOD",
                                                                          "CAP_LEASE",
                                                                          "CAP_AUDIT_WRITE",
                                                                          "CAP_AUDIT_CONTROL",
                                                                          "CAP_SETFCAP",
                                                                          "CAP_MAC_OVERRIDE",
                                                                          "CAP_MAC_ADMIN",
                                                                          "CAP_SYSLOG",
                                                                          "CAP_WAKE_ALARM",
                                                                          "CAP_BLOCK_SUSPEND",
                                                                          "CAP_AUDIT_READ",
                                                                          "CAP_PERFMON",
                                                                          "CAP_BPF",
                                                                          "CAP_CHECKPOINT_RESTORE"};

constexpr std::array dataplane_needs{
    // bpf(2) for anything but socket filters: the program, its maps, pins.
    CapabilityNeed{CAP_BPF, CAP_SYS_ADMIN,
                   "to load the XDP program and to create, pin and open its maps (bpf(2))"},
    // XDP is a networking program type; DEVMAPs hold interfaces.
    CapabilityNeed{CAP_NET_ADMIN, -1,
                   "to load an XDP program, to create the DEVMAP that redirects frames "
                   "(xc_ports) and to attach and detach programs on interfaces (rtnetlink)"},
};

int kernel_last_capability() {
    std::ifstream file("/proc/sys/kernel/cap_last_cap");
    int last = CAP_LAST_CAP;
    file >> last;
    return file ? last : CAP_LAST_CAP;
}

}  // namespace

CapabilitySet CapabilitySet::effective() {
    __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
    if (::syscall(SYS_capget, &header, data.data()) != 0) {
        throw_errno("read this process's capabilities", "capget");
    }
    const uint64_t bits = data[0].effective | (uint64_t{data[1].effective} << 32);
    return CapabilitySet(bits, kernel_last_capability());
}

bool CapabilitySet::is_full() const {
    for (int capability = 0; capability <= last_capability_; ++capability) {
        if (!has(capability)) {
            return false;
        }
    }
    return true;
}

std::string CapabilitySet::text() const {
    std::string present;
    std::string absent;
    int absent_count = 0;
    for (int capability = 0; capability <= std::max(last_capability_, 63); ++capability) {
        if (has(capability)) {
            present += (present.empty() ? "" : " ") + capability_name(capability);
        } else if (capability <= last_capability_) {
            absent += (absent.empty() ? "" : " ") + capability_name(capability);
            ++absent_count;
        }
    }
    if (absent_count == 0) {
        return "every capability";
    }
    if (present.empty()) {
        return "no capability";
    }
    // Root in a container lacks a few: name those instead of the forty.
    if (absent_count <= 4) {
        return "every capability but " + absent;
    }
    return present;
}

std::string capability_name(int capability) {
    if (capability >= 0 && static_cast<size_t>(capability) < capability_names.size()) {
        return std::string(capability_names[static_cast<size_t>(capability)]);
    }
    return "capability " + std::to_string(capability);
}

std::span<const CapabilityNeed> dataplane_capabilities() {
    return dataplane_needs;
}

std::optional<std::string> missing_capability(const CapabilitySet& have,
                                              std::span<const CapabilityNeed> needs) {
    for (const CapabilityNeed& need : needs) {
        if (have.has(need.capability) ||
            (need.also_accepted >= 0 && have.has(need.also_accepted))) {
            continue;
        }
        return "missing capability " + capability_name(need.capability) + ", needed " +
               std::string(need.needed_for) + "; this process has " + have.text() +
               " (xconnectd.service grants CAP_BPF and CAP_NET_ADMIN with AmbientCapabilities=)";
    }
    return std::nullopt;
}

}  // namespace xconnect
