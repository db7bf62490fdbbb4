#include "forwarding.hpp"

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
#include "frames.hpp"
#include "generator.hpp"
#include "loader/bpf_skeleton.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netlink/links.hpp"
#include "netns.hpp"
#include "system_bus.hpp"

namespace xconnect::bench {

double mean_run_ns(int program_fd, uint32_t ingress) {
    const test::Frame frame = test::ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, 64, 1);
    xdp_md context{};
    context.data_end = static_cast<uint32_t>(frame.size());
    context.ingress_ifindex = ingress;
    std::vector<double> means;
    for (int round = 0; round < 5; ++round) {
        LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(),
                    .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &context,
                    .ctx_size_in = sizeof context, .repeat = 2000000);
        if (bpf_prog_test_run_opts(program_fd, &options) != 0 || options.retval != XDP_REDIRECT) {
            throw std::runtime_error("BPF_PROG_TEST_RUN of a redirect program");
        }
        means.push_back(options.duration);
    }
    std::sort(means.begin(), means.end());
    return means[means.size() / 2];
}

ProgramCost program_cost(Topology& topology) {
    NetnsScope inside(topology.mid);  // ifindexes and DEVMAP entries resolve here
    const uint32_t m0 = if_nametoindex("m0");
    const uint32_t m1 = if_nametoindex("m1");
    Skeleton bare = load_skeleton();
    if (bpf_map_update_elem(bpf_map__fd(bare->maps.bare_ports), &m0, &m1, BPF_ANY) != 0) {
        throw std::runtime_error("bare redirect map");
    }
    KernelDataplane xconnect(std::nullopt, KernelDataplane::OnExit::detach);
    xconnect.connect(m0, m1);
    ProgramCost cost;
    cost.bare_ns = mean_run_ns(bpf_program__fd(bare->progs.bare_redirect), m0);
    cost.xconnect_ns = mean_run_ns(xconnect.program_fd(), m0);
    xconnect.disconnect(m0);
    return cost;
}

// ------------------------------------------------------------ forwarding

double measure_mpps(const Settings& settings, Topology& topology, const Sink& counter,
                    size_t size) {
    Generator generator(settings.self, topology.gen, "g0", size, settings.generator_cpu);
    std::this_thread::sleep_for(milliseconds(300));  // warm up
    const uint64_t before = counter.packets();
    const auto start = steady_clock::now();
    std::this_thread::sleep_for(settings.measure_time());
    const uint64_t after = counter.packets();
    const double seconds = duration<double>(steady_clock::now() - start).count();
    return static_cast<double>(after - before) / seconds / 1e6;
}

// A way of forwarding m0 -> m1, set up for as long as the object lives.
using Forwarder = std::function<std::shared_ptr<void>(Topology&)>;

std::shared_ptr<void> bare_redirect(Topology& topology, uint32_t mode_flag) {
    struct Bare {
        Skeleton skeleton = load_skeleton();
        std::unique_ptr<Attachment> attachment;
    };
    auto bare = std::make_shared<Bare>();
    const uint32_t m0 = ifindex_in(topology.mid, "m0");
    const uint32_t m1 = ifindex_in(topology.mid, "m1");
    {
        NetnsScope inside(topology.mid);  // DEVMAP entries resolve ifindexes here
        if (bpf_map_update_elem(bpf_map__fd(bare->skeleton->maps.bare_ports), &m0, &m1, BPF_ANY)) {
            throw std::runtime_error("bare redirect map");
        }
    }
    bare->attachment = std::make_unique<Attachment>(
        topology.mid, "m0", bpf_program__fd(bare->skeleton->progs.bare_redirect), mode_flag);
    return bare;
}

std::shared_ptr<void> xconnectd(Topology& topology, const fs::path& config, const std::string& mode,
                                const std::string& expect) {
    auto daemon = std::make_shared<ChildProcess>(
        XCONNECTD_PATH,
        std::vector<std::string>{"--no-bus", "--config", config.string(), "--xdp-mode", mode},
        &topology.mid);
    daemon->expect_log(expect, minutes(5));
    return daemon;
}

std::vector<Rate> forwarding(const Settings& settings, Topology& topology) {
    const fs::path config = settings.scratch_dir / "bench-xconnect.yaml";
    write_file(config, "links:\n  m0: m1\n");
    const std::string active = "m0<->m1: added, active";
    const std::vector<std::pair<std::string, Forwarder>> methods = {
        {"bare-generic", [](Topology& t) { return bare_redirect(t, XDP_FLAGS_SKB_MODE); }},
        {"bare-native", [](Topology& t) { return bare_redirect(t, XDP_FLAGS_DRV_MODE); }},
        {"xconnectd-generic",
         [&](Topology& t) { return xconnectd(t, config, "generic", active + " (generic)"); }},
        {"xconnectd-native",
         [&](Topology& t) { return xconnectd(t, config, "native", active + " (native)"); }},
        {"bridge",
         [](Topology& t) {
             sh(t.mid.ip() + "link add name br0 type bridge");
             sh(t.mid.ip() + "link set m0 master br0");
             sh(t.mid.ip() + "link set m1 master br0");
             sh(t.mid.ip() + "link set br0 up");
             return std::shared_ptr<void>(nullptr,
                                          [&t](void*) { sh(t.mid.ip() + "link del br0"); });
         }},
        {"tc-mirred",
         [](Topology& t) {
             sh(t.mid.exec() + "tc qdisc add dev m0 ingress");
             sh(t.mid.exec() +
                "tc filter add dev m0 ingress protocol all u32 match u32 0 0 "
                "action mirred egress redirect dev m1");
             return std::shared_ptr<void>(
                 nullptr, [&t](void*) { sh(t.mid.exec() + "tc qdisc del dev m0 ingress"); });
         }},
    };

    std::vector<Rate> rates;
    Sink sink(topology.sink_ns, "s0");
    for (size_t size : settings.sizes()) {
        // Repetitions interleave the methods, so that a slow spell of this
        // (shared) machine falls on all of them rather than on one.
        std::vector<Rate> round{{"ceiling", size, {}}};
        for (const auto& [name, forwarder] : methods) {
            round.push_back({name, size, {}});
        }
        for (int rep = 0; rep < settings.repetitions(); ++rep) {
            {
                // The ceiling: what the generator delivers into m0, dropped right there.
                Sink at_m0(topology.mid, "m0");
                round[0].mpps.push_back(measure_mpps(settings, topology, at_m0, size));
            }
            for (size_t m = 0; m < methods.size(); ++m) {
                const auto& [name, forwarder] = methods[m];
                const bool native_xdp = name.ends_with("native");
                topology.gro(!native_xdp);
                {
                    auto forwarding = forwarder(topology);
                    round[m + 1].mpps.push_back(measure_mpps(settings, topology, sink, size));
                }
                topology.gro(false);
            }
        }
        for (const Rate& rate : round) {
            std::cerr << rate.method << " " << size << "B: " << two_places(rate.median())
                      << " Mpps\n";
            rates.push_back(rate);
        }
    }

    // The same with many other pairs configured (of real interfaces).
    const int others = settings.other_pairs();
    std::string batch;
    std::string many = "links:\n  m0: m1\n";
    for (int n = 0; n < others; ++n) {
        const std::string a = "o" + std::to_string(n) + "-a";
        const std::string b = "o" + std::to_string(n) + "-b";
        batch += "link add name " + a + " type veth peer name " + b + "\n";
        many += "  " + a + ": " + b + "\n";
    }
    write_file(settings.scratch_dir / "bench-batch", batch);
    sh("ip -n " + topology.mid.name() + " -batch " +
       (settings.scratch_dir / "bench-batch").string());
    write_file(config, many);
    const std::string all_active = "applied (start): " + std::to_string(others + 1) +
                                   " pairs: " + std::to_string(others + 1) + " active";
    for (const std::string mode : {"generic", "native"}) {
        topology.gro(mode == "generic");
        Rate rate{"xconnectd-" + mode + "+" + std::to_string(others), 64, {}};
        for (int rep = 0; rep < settings.repetitions(); ++rep) {
            auto forwarding = xconnectd(topology, config, mode, all_active);
            // Steady state: the kernel's deferred work after thousands of
            // attaches (and the previous daemon's detaches) settles first.
            std::this_thread::sleep_for(seconds(2));
            rate.mpps.push_back(measure_mpps(settings, topology, sink, 64));
        }
        topology.gro(false);
        std::cerr << rate.method << " 64B: " << two_places(rate.median()) << " Mpps\n";
        rates.push_back(rate);
    }
    return rates;
}

}  // namespace xconnect::bench
