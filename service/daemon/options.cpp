#include "options.hpp"

#include "contract/version.hpp"

namespace xconnect {

std::string usage_text() {
    return "Usage: xconnectd [OPTIONS]\n"
           "Cross-connects pairs of network interfaces with XDP.\n"
           "\n"
           "  -c, --config FILE     config file (default " +
           std::string(default_config_path) +
           "); -conf FILE works too\n"
           "  -m, --xdp-mode MODE   auto (default), native or generic\n"
           "      --no-bus          file-driven only: no D-Bus service\n"
           "      --state-dir DIR   bpffs directory where the XDP program and its maps are\n"
           "                        pinned (default /sys/fs/bpf/xconnect/<network namespace\n"
           "                        inode>). What a killed xconnectd left there keeps\n"
           "                        forwarding, and the next one takes it over: pairs that\n"
           "                        did not change are not touched, counters go on\n"
           "      --keep-dataplane  on SIGTERM, leave every pair attached and pinned, so\n"
           "                        that the next xconnectd takes over without losing a\n"
           "                        frame (without it, SIGTERM detaches everything)\n"
           "      --no-warm-tap     no tap xconnect-warmN holding the XDP program in the\n"
           "                        kernel's XDP dispatcher: the first pair's attach (and\n"
           "                        the last one's detach) then waits for an RCU grace\n"
           "                        period\n"
           "      --count-ring-drops\n"
           "                        also count frames a driver did not take from a batch of\n"
           "                        native redirects (a full transmit ring), through the\n"
           "                        xdp:xdp_devmap_xmit tracepoint: a cost on every batch,\n"
           "                        dropped or not (see docs/drops.md)\n"
           "      --flush           detach every XDP program xconnect attached in this\n"
           "                        network namespace, remove its pins, and exit; never\n"
           "                        touches anyone else's programs\n"
           "      --all-namespaces  with --flush: every namespace's state directory\n"
           "  -v, --verbose         log debug messages\n"
           "      --netlink-rcvbuf BYTES\n"
           "                        link monitor socket buffer (default 8 MiB; for tests)\n"
           "      --version         print the version and exit\n"
           "  -h, --help            print this help and exit\n";
}

CommandLine parse_command_line(const std::vector<std::string>& arguments) {
    CommandLine result;
    auto fail = [&](const std::string& message) {
        result.usage_error = message;
        return result;
    };
    for (size_t i = 0; i < arguments.size(); ++i) {
        std::string argument = arguments[i];
        std::optional<std::string> inline_value;
        if (argument.starts_with("--")) {
            if (auto equals = argument.find('='); equals != std::string::npos) {
                inline_value = argument.substr(equals + 1);
                argument.resize(equals);
            }
        }
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) {
                return inline_value;
            }
            if (i + 1 < arguments.size()) {
                return arguments[++i];
            }
            return std::nullopt;
        };
        if (argument == "-h" || argument == "--help") {
            result.print_and_exit = usage_text();
            return result;
        }
        if (argument == "--version") {
            result.print_and_exit = std::string("xconnectd ") + version + "\n";
            return result;
        }
        if (argument == "-c" || argument == "--config" || argument == "-conf") {
            auto file = value();
            if (!file || file->empty()) {
                return fail(argument + " needs a file name");
            }
            result.options.config_file = std::filesystem::absolute(*file).lexically_normal();
        } else if (argument == "-m" || argument == "--xdp-mode") {
            auto mode = value();
            auto policy = mode ? parse_mode_policy(*mode) : std::nullopt;
            if (!policy) {
                return fail(argument + " must be auto, native or generic");
            }
            result.options.xdp_mode = *policy;
        } else if (argument == "--state-dir") {
            auto directory = value();
            if (!directory || directory->empty()) {
                return fail(argument + " needs a directory");
            }
            result.options.state_dir = std::filesystem::absolute(*directory).lexically_normal();
        } else if (argument == "--keep-dataplane") {
            result.options.keep_dataplane = true;
        } else if (argument == "--count-ring-drops") {
            result.options.count_ring_drops = true;
        } else if (argument == "--no-warm-tap") {
            result.options.warm_tap = false;
        } else if (argument == "--flush") {
            result.flush = true;
        } else if (argument == "--all-namespaces") {
            result.all_namespaces = true;
        } else if (argument == "--no-bus") {
            result.options.no_bus = true;
        } else if (argument == "--netlink-rcvbuf") {
            auto bytes = value();
            int parsed = 0;
            try {
                parsed = bytes ? std::stoi(*bytes) : 0;
            } catch (const std::exception&) {
            }
            if (parsed <= 0) {
                return fail(argument + " needs a positive number of bytes");
            }
            result.options.netlink_receive_buffer = parsed;
        } else if (argument == "-v" || argument == "--verbose") {
            result.options.verbose = true;
        } else {
            return fail("unknown option " + argument);
        }
    }
    if (result.all_namespaces && !result.flush) {
        return fail("--all-namespaces goes with --flush");
    }
    if (result.all_namespaces && result.options.state_dir) {
        return fail("--all-namespaces and --state-dir exclude each other");
    }
    return result;
}

}  // namespace xconnect
