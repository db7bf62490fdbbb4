#include "control_plane.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "bench.skel.h"
#include "child_process.hpp"
#include "common/unique_fd.hpp"
#include "contract/bus.hpp"
#include "contract/object_path.hpp"
#include "frames.hpp"
#include "generator.hpp"
#include "loader/bpf_skeleton.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netlink/links.hpp"
#include "netns.hpp"
#include "system_bus.hpp"

namespace xconnect::bench {

uint64_t status_field(pid_t pid, const std::string& field) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind(field + ":", 0) == 0) {
            return std::stoull(line.substr(field.size() + 1));
        }
    }
    throw std::runtime_error("no " + field + " for pid " + std::to_string(pid));
}

// Waits on the bus connection and a netlink socket until `done()`. News on
// the netlink socket is handled before the bus's, so its time stamp is not
// taken after a signal that followed it.
void run_until(sdbus::IConnection& bus, int netlink_fd,
               const std::function<void(const char*, size_t)>& on_netlink,
               const std::function<bool()>& done, milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        for (ssize_t n; (n = recv(netlink_fd, buffer.data(), buffer.size(), MSG_DONTWAIT)) > 0;) {
            on_netlink(buffer.data(), static_cast<size_t>(n));
        }
        while (bus.processPendingRequest()) {
        }
        if (done()) {
            return;
        }
        const auto poll_data = bus.getEventLoopPollData();
        pollfd fds[2] = {{.fd = netlink_fd, .events = POLLIN, .revents = 0},
                         {.fd = poll_data.fd, .events = poll_data.events, .revents = 0}};
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        if (left <= 0) {
            throw std::runtime_error("timed out waiting for the daemon");
        }
        poll(fds, 2, static_cast<int>(std::min<long>(left, 100)));
    }
}

// Who else holds xconnect's program in the kernel's XDP dispatcher while a
// trial attaches it. When nothing does, the attach of the only instance
// waits for the dispatcher's rebuild, after an RCU grace period
// (bpf_dispatcher_change_prog -> synchronize_rcu).
enum class Warmth {
    another_pair,  // an active pair, all along
    warm_tap,      // only the daemon's warm tap (the default)
    nothing,       // --no-warm-tap: every trial's attach is the first
};

std::string describe(Warmth warmth) {
    switch (warmth) {
        case Warmth::another_pair:
            return "another pair active";
        case Warmth::warm_tap:
            return "first pair";
        case Warmth::nothing:
            return "first pair, --no-warm-tap";
    }
    return "";
}

// AddPair -> first frame, and interface created -> State=active, against a
// D-Bus-activated xconnectd attaching in `mode`; then its idle wake-ups.
void reaction_times(const Settings& settings, Topology& topology, const GeneratorSpec& generator,
                    const std::string& mode, Warmth warmth, ControlPlane& result) {
    const std::string key = mode + ", " + describe(warmth);
    Latency& add_to_first_frame = result.add_to_first_frame[key];
    Latency& created_to_active = result.created_to_active[key];
    add_to_first_frame.what = "AddPair -> first frame forwarded (" + key + ")";
    created_to_active.what = "interface created -> pair active (" + key + ")";
    const bool warm = warmth == Warmth::another_pair;
    const int trials = settings.latency_trials();
    const fs::path config = settings.scratch_dir / "bench-control.yaml";
    write_file(config, "links: {}\n");
    std::vector<std::string> daemon_args{"--config", config.string(), "--xdp-mode", mode};
    if (warmth == Warmth::nothing) {
        daemon_args.push_back("--no-warm-tap");
    }
    test::SystemBus bus(topology.mid, daemon_args);
    auto connection = sdbus::createSystemBusConnection();
    auto manager = sdbus::createProxy(*connection, xconnect::bus_name, xconnect::manager_path);
    manager->finishRegistration();
    auto call = [&](const std::string& method, const auto&... args) {
        manager->callMethod(method).onInterface(xconnect::manager_interface).withArguments(args...);
    };
    if (warm) {
        sh(topology.mid.ip() + "link add name w0 type veth peer name w1");
        call("AddPair", std::string("w0"), std::string("w1"));
    }

    // AddPair -> first frame at the sink, with the generator running all along.
    {
        topology.gro(mode == "generic");
        Sink sink(topology.sink_ns, "s0");
        Generator sending(settings.self, topology.gen, "g0", 64, generator);
        for (int trial = 0; trial < trials; ++trial) {
            sink.arm();
            const uint64_t start = monotonic_ns();
            call("AddPair", std::string("m0"), std::string("m1"));
            uint64_t first = 0;
            for (int wait = 0; wait < 200 && (first = sink.first_seen_ns()) == 0; ++wait) {
                std::this_thread::sleep_for(milliseconds(5));
            }
            if (first == 0) {
                const std::string failure = sending.failure();
                throw std::runtime_error(
                    "no frame reached the sink after AddPair" +
                    (failure.empty() ? std::string() : "; the generator stopped:\n" + failure));
            }
            add_to_first_frame.ms.push_back(static_cast<double>(first - start) / 1e6);
            call("RemovePair", std::string("m0"));
            std::this_thread::sleep_for(milliseconds(5));  // frames in flight drain
        }
        topology.gro(false);
    }

    // Interface created -> PropertiesChanged State=active.
    sh(topology.mid.ip() + "link add name cx-b type veth peer name cxbp netns " +
       topology.gen.name());
    call("AddPair", std::string("cx-a"), std::string("cx-b"));
    auto pair = sdbus::createProxy(*connection, xconnect::bus_name, xconnect::pair_path("cx-a"));
    std::string state;
    uint64_t state_at = 0;
    pair->uponSignal("PropertiesChanged")
        .onInterface("org.freedesktop.DBus.Properties")
        .call([&](const std::string&, const std::map<std::string, sdbus::Variant>& changed,
                  const std::vector<std::string>&) {
            if (auto found = changed.find("State"); found != changed.end()) {
                state = found->second.get<std::string>();
                state_at = monotonic_ns();
            }
        });
    pair->finishRegistration();
    UniqueFd netlink;
    {
        NetnsScope inside(topology.mid);
        netlink = UniqueFd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
        sockaddr_nl address{};
        address.nl_family = AF_NETLINK;
        address.nl_groups = RTMGRP_LINK;
        if (bind(netlink.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            throw std::runtime_error("subscribe to link events");
        }
    }
    uint64_t created_at = 0;
    auto on_netlink = [&](const char* data, size_t length) {
        for (auto* message = reinterpret_cast<const nlmsghdr*>(data); NLMSG_OK(message, length);
             message = NLMSG_NEXT(message, length)) {
            auto link = netlink::parse_link(message);
            if (message->nlmsg_type == RTM_NEWLINK && link && link->name == "cx-a" &&
                created_at == 0) {
                created_at = monotonic_ns();
            }
        }
    };
    for (int trial = 0; trial < trials; ++trial) {
        created_at = 0;
        state.clear();
        // Not waited for: the link's creation is timed by the kernel's news.
        ChildProcess ip("/usr/sbin/ip",
                        {"-n", topology.mid.name(), "link", "add", "name", "cx-a", "type", "veth",
                         "peer", "name", "cxap", "netns", topology.gen.name()},
                        nullptr);
        run_until(
            *connection, netlink.get(), on_netlink,
            [&] { return created_at != 0 && state == "active"; }, seconds(10));
        ip.wait_exit();
        created_to_active.ms.push_back(static_cast<double>(state_at - created_at) / 1e6);
        state.clear();
        sh(topology.mid.ip() + "link del cx-a");
        run_until(
            *connection, netlink.get(), on_netlink, [&] { return state == "pending"; },
            seconds(10));
    }
    sh(topology.mid.ip() + "link del cx-b");
    if (warm) {
        sh(topology.mid.ip() + "link del w0");
    }

    // Idle: nothing happens; how often does the daemon wake up?
    if (mode == "generic" && warm) {
        const pid_t daemon = bus.owner_pid(xconnect::bus_name);
        auto switches = [&] {
            return status_field(daemon, "voluntary_ctxt_switches") +
                   status_field(daemon, "nonvoluntary_ctxt_switches");
        };
        const uint64_t before = switches();
        std::this_thread::sleep_for(settings.idle_time());
        result.idle_wakeups_per_s = static_cast<double>(switches() - before) /
                                    duration<double>(settings.idle_time()).count();
    }
}

ControlPlane control_plane(const Settings& settings, Topology& topology,
                           const GeneratorSpec& generator) {
    ControlPlane result;
    for (const std::string mode : {"generic", "native"}) {
        for (Warmth warmth : {Warmth::nothing, Warmth::warm_tap, Warmth::another_pair}) {
            reaction_times(settings, topology, generator, mode, warmth, result);
        }
    }

    // Many pairs from a file (interfaces absent: they are pending).
    {
        Netns scale("bscl");
        const fs::path file = settings.scratch_dir / "bench-scale.yaml";
        std::string text = "links:\n";
        result.scale_pairs = settings.scale_pairs();
        for (int n = 0; n < result.scale_pairs; ++n) {
            text += "  x" + std::to_string(n) + "-a: x" + std::to_string(n) + "-b\n";
        }
        write_file(file, text);
        const auto start = steady_clock::now();
        ChildProcess daemon(XCONNECTD_PATH, {"--no-bus", "--config", file.string()}, &scale);
        daemon.expect_log("applied (start): " + std::to_string(result.scale_pairs) + " pairs",
                          minutes(5));
        result.scale_apply_s = duration<double>(steady_clock::now() - start).count();
        result.scale_rss_mib = static_cast<double>(status_field(daemon.pid(), "VmHWM")) / 1024;
    }

    // A burst of link events: both ends of N veths, created in one ip -batch.
    {
        Netns burst("bbst");
        const fs::path file = settings.scratch_dir / "bench-burst.yaml";
        const fs::path batch = settings.scratch_dir / "bench-burst-batch";
        std::string text = "links:\n";
        std::string commands;
        std::vector<std::string> expected;
        for (int n = 0; n < settings.burst_pairs(); ++n) {
            const std::string a = "e" + std::to_string(n) + "-a";
            const std::string b = "e" + std::to_string(n) + "-b";
            text += "  " + a + ": " + b + "\n";
            commands += "link add name " + a + " type veth peer name " + b + "\n";
            expected.push_back(a + "<->" + b + ": active");
        }
        write_file(file, text);
        write_file(batch, commands);
        ChildProcess daemon(XCONNECTD_PATH, {"--no-bus", "--config", file.string()}, &burst);
        daemon.expect_log("applied (start)");
        const auto start = steady_clock::now();
        sh("ip -n " + burst.name() + " -batch " + batch.string());
        const auto batch_done = steady_clock::now();
        daemon.expect_logs(expected, minutes(2));
        const auto converged = steady_clock::now();
        result.burst_events = 2 * settings.burst_pairs();
        result.burst_from_start_s = duration<double>(converged - start).count();
        result.burst_from_end_s = duration<double>(converged - batch_done).count();
    }
    return result;
}

}  // namespace xconnect::bench
