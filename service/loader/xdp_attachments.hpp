#pragma once

// Which XDP programs the interfaces of this network namespace run, and
// removing one of them only if it is still the expected one.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model.hpp"

namespace xconnect {

// One XDP program attached to one interface.
struct XdpAttachment {
    uint32_t ifindex = 0;
    std::string name;
    uint32_t program_id = 0;
    AttachMode mode = AttachMode::native;
};

// Every XDP program attached in this network namespace, native and generic
// (one netlink query per interface; an interface gone meanwhile is left out).
std::vector<XdpAttachment> xdp_attachments();

// Detaches the program `expected_fd` from `ifindex` if it is the one attached
// there in `mode` (XDP_FLAGS_REPLACE: a compare-and-swap, never anyone
// else's). Returns 0 or a negative errno.
int detach_if_expected(uint32_t ifindex, AttachMode mode, int expected_fd);

}  // namespace xconnect
