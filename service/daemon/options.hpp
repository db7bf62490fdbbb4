#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.hpp"
#include "netlink/links.hpp"

namespace xconnect {

inline constexpr const char* default_config_path = "/etc/xconnect/xconnect.yaml";

struct DaemonOptions {
    std::filesystem::path config_file = default_config_path;
    ModePolicy xdp_mode = ModePolicy::automatic;
    bool no_bus = false;
    bool verbose = false;
    // Where the XDP program and its maps are pinned for the next xconnectd;
    // nullopt: PinnedState::default_directory().
    std::optional<std::filesystem::path> state_dir;
    // SIGTERM leaves every pair forwarding for the next xconnectd.
    bool keep_dataplane = false;
    // A tap of the daemon's own holds the XDP program in the kernel's XDP
    // dispatcher (loader/warm_tap.hpp); --no-warm-tap: none.
    bool warm_tap = true;
    // Also count frames drivers leave of native batches (a full transmit
    // ring), at a cost per batch (loader/drop_monitor.hpp).
    bool count_ring_drops = false;
    // Link monitor's socket buffer; tests make it tiny to force overruns.
    int netlink_receive_buffer = netlink::default_monitor_buffer;
};

// What the command line asks for: run with options, flush, or print and exit.
struct CommandLine {
    DaemonOptions options;
    // --flush: remove what xconnect attached and pinned, then exit;
    // all_namespaces: in every namespace's state directory.
    bool flush = false;
    bool all_namespaces = false;
    std::optional<std::string> print_and_exit;  // --help / --version text
    std::optional<std::string> usage_error;     // exit 2 with this message
};

CommandLine parse_command_line(const std::vector<std::string>& arguments);

std::string usage_text();

}  // namespace xconnect
