#pragma once

// Which XDP programs the interfaces of this network namespace run, and
// removing one of them only if it is still the expected one.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model.hpp"

namespace xconnect {

struct InterfaceXdp {
    uint32_t ifindex = 0;
    std::string name;
    uint32_t native_program = 0;  // ids; 0: none
    uint32_t generic_program = 0;
};

// Every interface of this network namespace, with its XDP programs (one
// netlink query each; an interface gone meanwhile is left out).
std::vector<InterfaceXdp> interfaces_with_xdp();

// Detaches the program `expected_fd` from `ifindex` if it is the one attached
// there in `mode` (XDP_FLAGS_REPLACE: a compare-and-swap, never anyone
// else's). Returns 0 or a negative errno.
int detach_if_expected(uint32_t ifindex, AttachMode mode, int expected_fd);

}  // namespace xconnect
