#pragma once

// xconnectd as the shipped systemd unit runs it: uid 0 with exactly the
// capabilities of its CapabilityBoundingSet=, read from the unit file, so a
// test fails when the daemon needs a capability the unit does not grant.

#include <string>
#include <vector>

namespace xconnect::test {

// The unit's capabilities in setpriv's spelling: {"bpf", "net_admin"}.
std::vector<std::string> unit_capabilities();

// bpffs at /sys/fs/bpf, mounted if absent, as systemd has it on every boot:
// the daemon pins its program there and, confined to the unit's
// capabilities, cannot mount it itself.
void ensure_bpffs_mounted();

// A command line (program first) that runs the built xconnectd with `args`
// under exactly those capabilities.
std::vector<std::string> xconnectd_as_the_unit_runs_it(const std::vector<std::string>& args);

}  // namespace xconnect::test
