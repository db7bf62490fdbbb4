#include "forwarding.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

#include "child_process.hpp"
#include "frames.hpp"
#include "loader/kernel_dataplane.hpp"
#include "observe.hpp"
#include "traffic.hpp"

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

const std::vector<Group>& groups() {
    static const std::vector<Group> all = {
        {"veth",
         "veth ⇄ veth: frames from the generator out of g0 into m0, forwarded to m1, counted "
         "by a native XDP sink on s0"},
        {"gro-veth",
         "veth ⇄ veth, GRO on at g0, m0, m1 and s0 (so both veths in mid accept native "
         "redirects, and auto picks native for both sides); otherwise as veth"},
        {"tap",
         "tap ⇄ tap: one thread write()s frames into ta's fd (CPU 0; the kernel receives them "
         "on ta, where XDP runs), forwarded to tb, another reads tb's fd (CPU 1) and counts "
         "them; both busy-poll non-blocking fds"},
        {"jumbo",
         "veth ⇄ veth at MTU 9000 (g0, m0, m1, s0), 9000-byte frames out of g0 from a socket "
         "generator (the kernel takes no live frames above a page), counted by the native "
         "sink on s0"},
        {"observe",
         "veth ⇄ veth as in veth: xconnectd as built (capture compiled in, off; drop accounting "
         "on), the same daemon on the program without the capture hook (before-capture), "
         "without drop accounting (no CAP_PERFMON), counting full rings too "
         "(--count-ring-drops: every native batch traced; ring-drops), and with `xconnectctl "
         "capture -w FILE` writing every frame that crosses (capture)"},
        {"vxlan",
         "veth ⇄ VXLAN: frames out of g0 into m0, forwarded to vx0 (VXLAN, MTU 1500, remote in the "
         "sink namespace over the underlay veth u0 ⇄ u1, MTU 1550), the encapsulated frames "
         "counted by a native XDP sink on u1"},
    };
    return all;
}

namespace {

// A way of forwarding, set up for as long as the object lives.
using Forwarder = std::function<std::shared_ptr<void>(Topology&)>;

struct Method {
    std::string name;
    Forwarder forwarder;  // empty: the ceiling, nothing forwards
    // GRO (NAPI) on m0 while measuring, which live frames into a veth need
    // when m0 has no native program (skbs reach it either way); nullopt: as
    // the setup left it.
    std::optional<bool> m0_gro;
    // Measured and not reported: it takes on whatever the change before it
    // still costs (m0's GRO toggled, a capture's file let go), so that the
    // rows compared after it start alike.
    bool settles = false;
};

// One group's interfaces, the traffic through them and what forwards it.
struct Setup {
    std::string group;
    std::vector<size_t> sizes;
    std::vector<Method> methods;
    // Traffic of `size`-byte frames, counted at the far end, or where they
    // enter mid when `ceiling` (what the source delivers, dropped there).
    TrafficSource traffic;
    std::string generator;  // what sends the traffic, for the report
};

std::vector<Rate> measure(const Settings& settings, Topology& topology, const Setup& setup) {
    std::vector<Rate> rates;
    for (size_t size : setup.sizes) {
        std::vector<Rate> round;
        for (const Method& method : setup.methods) {
            round.push_back({setup.group, method.name, size, {}, setup.generator, ""});
        }
        // Repetitions interleave the methods, so that a slow spell of this
        // (shared) machine falls on all of them rather than on one.
        for (int rep = 0; rep < settings.repetitions(); ++rep) {
            for (size_t m = 0; m < setup.methods.size(); ++m) {
                const Method& method = setup.methods[m];
                if (method.m0_gro) {
                    topology.gro(*method.m0_gro);
                }
                // A failure is the row's, with its context; the others go on.
                try {
                    auto forwarding = method.forwarder ? method.forwarder(topology) : nullptr;
                    round[m].mpps.push_back(measure_mpps(
                        settings, [&] { return setup.traffic(size, !method.forwarder); }));
                } catch (const std::exception& error) {
                    round[m].error = error.what();
                    std::cerr << setup.group << ": " << method.name << " " << size
                              << "B failed: " << error.what() << "\n";
                }
                if (method.m0_gro) {
                    topology.gro(false);
                }
            }
        }
        for (size_t m = 0; m < round.size(); ++m) {
            const Rate& rate = round[m];
            if (setup.methods[m].settles) {
                continue;
            }
            std::cerr << rate.group << ": " << rate.method << " " << size
                      << "B: " << two_places(rate.median()) << " Mpps\n";
            rates.push_back(rate);
        }
    }
    return rates;
}

// Runs `undo` (best effort: it may run during unwinding) when the result dies.
std::shared_ptr<void> on_release(std::function<void()> undo) {
    return std::shared_ptr<void>(nullptr, [undo = std::move(undo)](void*) { undo(); });
}

std::shared_ptr<void> bare_redirect(Topology& topology, const std::string& from,
                                    const std::string& to, uint32_t mode_flag) {
    struct Bare {
        Skeleton skeleton = load_skeleton();
        std::unique_ptr<Attachment> attachment;
    };
    auto bare = std::make_shared<Bare>();
    const uint32_t in = ifindex_in(topology.mid, from);
    const uint32_t out = ifindex_in(topology.mid, to);
    {
        NetnsScope inside(topology.mid);  // DEVMAP entries resolve ifindexes here
        if (bpf_map_update_elem(bpf_map__fd(bare->skeleton->maps.bare_ports), &in, &out, BPF_ANY)) {
            throw std::runtime_error("bare redirect map " + from + " -> " + to + ": " +
                                     std::strerror(errno));
        }
    }
    bare->attachment = std::make_unique<Attachment>(
        topology.mid, from, bpf_program__fd(bare->skeleton->progs.bare_redirect), mode_flag);
    return bare;
}

std::shared_ptr<void> bridge(Topology& t, const std::string& a, const std::string& b) {
    sh(t.mid.ip() + "link add name br0 type bridge");
    // Deleting the bridge releases its ports.
    auto bridge = on_release([&t] { test::sh_status(t.mid.ip() + "link del br0"); });
    sh(t.mid.ip() + "link set " + a + " master br0");
    sh(t.mid.ip() + "link set " + b + " master br0");
    sh(t.mid.ip() + "link set br0 up");
    return bridge;
}

std::shared_ptr<void> tc_mirred(Topology& t, const std::string& from, const std::string& to) {
    sh(t.mid.exec() + "tc qdisc add dev " + from + " ingress");
    auto qdisc = on_release(
        [&t, from] { test::sh_status(t.mid.exec() + "tc qdisc del dev " + from + " ingress"); });
    sh(t.mid.exec() + "tc filter add dev " + from +
       " ingress protocol all u32 match u32 0 0 action mirred egress redirect dev " + to);
    return qdisc;
}

// The forwarders every veth setup has, from m0 to `to`, in `mode` (with m0's GRO).
Method bare_method(const std::string& from, const std::string& to, const std::string& mode) {
    const uint32_t flag = mode == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    return {"bare-" + mode,
            [from, to, flag](Topology& t) { return bare_redirect(t, from, to, flag); },
            mode != "native"};
}

Method xconnectd_method(const std::string& name, const fs::path& config, const std::string& mode,
                        const std::string& label, const std::string& modes,
                        std::optional<bool> m0_gro) {
    return {name, [=](Topology& t) { return xconnectd_pair(t, config, mode, label, modes); },
            m0_gro};
}

std::string ethtool_gro(const Netns& netns, const std::string& ifname, bool on) {
    return netns.exec() + "ethtool -K " + ifname + " gro " + (on ? "on" : "off");
}

// GRO on at every veth: each then runs NAPI, so that its peer advertises
// ndo-xmit and takes native redirects.
std::shared_ptr<void> gro_everywhere(Topology& t) {
    const std::vector<std::pair<const Netns*, std::string>> veths = {
        {&t.gen, "g0"}, {&t.mid, "m0"}, {&t.mid, "m1"}, {&t.sink_ns, "s0"}};
    auto undo = on_release([veths] {
        for (const auto& [netns, ifname] : veths) {
            test::sh_status(ethtool_gro(*netns, ifname, false));
        }
    });
    for (const auto& [netns, ifname] : veths) {
        sh(ethtool_gro(*netns, ifname, true));
    }
    return undo;
}

std::shared_ptr<void> mtu_everywhere(Topology& t, int mtu) {
    const std::vector<std::pair<const Netns*, std::string>> veths = {
        {&t.gen, "g0"}, {&t.mid, "m0"}, {&t.mid, "m1"}, {&t.sink_ns, "s0"}};
    auto undo = on_release([veths] {
        for (const auto& [netns, ifname] : veths) {
            test::sh_status(netns->ip() + "link set " + ifname + " mtu 1500");
        }
    });
    for (const auto& [netns, ifname] : veths) {
        sh(netns->ip() + "link set " + ifname + " mtu " + std::to_string(mtu));
    }
    return undo;
}

// vx0 in mid, a VXLAN device to 10.99.0.2 in the sink namespace over the
// underlay u0 ⇄ u1, and a native sink on u1 counting what it sends.
struct VxlanRig {
    std::shared_ptr<void> underlay;
    std::unique_ptr<Sink> sink;

    explicit VxlanRig(Topology& t) {
        sh(t.mid.ip() + "link add name u0 type veth peer name u1 netns " + t.sink_ns.name());
        // Deleting one end deletes both (and vx0, whose lower device u0 is).
        underlay = on_release([&t] { test::sh_status(t.mid.ip() + "link del u0"); });
        // 1500 bytes of frame and 50 of VXLAN, UDP, IP and Ethernet headers:
        // nothing is dropped for its size.
        sh(t.mid.ip() + "link set u0 mtu 1550 up");
        sh(t.sink_ns.ip() + "link set u1 mtu 1550 address 02:00:00:00:99:02 up");
        sh(t.mid.ip() + "addr add 10.99.0.1/30 dev u0");
        sh(t.sink_ns.ip() + "addr add 10.99.0.2/30 dev u1");
        // The sink drops ARP too: u1's address is known beforehand.
        sh(t.mid.ip() + "neigh add 10.99.0.2 lladdr 02:00:00:00:99:02 dev u0 nud permanent");
        sh(t.mid.ip() +
           "link add name vx0 type vxlan id 42 remote 10.99.0.2 local 10.99.0.1 dev u0 "
           "dstport 4789 nolearning");
        sh(t.mid.ip() + "link set vx0 mtu 1500 up");
        sink = std::make_unique<Sink>(t.sink_ns, "u1");
    }
    ~VxlanRig() { sink.reset(); }  // detached before the underlay goes
};

int other_cpu(int cpu) {
    return (cpu + 1) % cpu_count();
}

}  // namespace

std::shared_ptr<void> xconnectd_pair(Topology& topology, const fs::path& config,
                                     const std::string& mode, const std::string& label,
                                     const std::string& modes) {
    auto daemon = std::make_shared<ChildProcess>(
        XCONNECTD_PATH,
        std::vector<std::string>{"--no-bus", "--config", config.string(), "--xdp-mode", mode},
        &topology.mid);
    const std::string line = daemon->expect_log(label + ": added, ");
    const std::string wanted = label + ": added, active (" + modes + ")";
    if (line.find(wanted) == std::string::npos) {
        throw std::runtime_error("xconnectd --xdp-mode " + mode + " was to log \"" + wanted +
                                 "\", but logged \"" + line + "\"; its log:\n" +
                                 daemon->log_text());
    }
    return daemon;
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

std::vector<Rate> forwarding(const Settings& settings, Topology& topology,
                             const GeneratorChoice& generator) {
    const fs::path config = settings.scratch_dir / "bench-xconnect.yaml";
    write_file(config, "links:\n  m0: m1\n");
    std::vector<Rate> rates;
    auto add = [&rates](std::vector<Rate> more) {
        rates.insert(rates.end(), more.begin(), more.end());
    };
    Sink sink(topology.sink_ns, "s0");
    const auto veth_methods = [&] {
        return std::vector<Method>{
            {"ceiling", {}, std::nullopt},
            bare_method("m0", "m1", "generic"),
            bare_method("m0", "m1", "native"),
            xconnectd_method("xconnectd-generic", config, "generic", "m0<->m1", "generic", true),
            xconnectd_method("xconnectd-native", config, "native", "m0<->m1", "native", false),
            {"bridge", [](Topology& t) { return bridge(t, "m0", "m1"); }, true},
            {"tc-mirred", [](Topology& t) { return tc_mirred(t, "m0", "m1"); }, true},
        };
    };
    if (settings.wants("veth")) {
        add(measure(
            settings, topology,
            {"veth", settings.sizes(), veth_methods(),
             from_g0(settings, topology, sink, generator.frames), generator.frames.describe()}));
    }

    if (settings.wants("observe")) {
        // The rows compared (the daemon as built, before capture, without drop
        // accounting) after a settling run of their mode, and the captures
        // last: in four runs before, the first native row (right after
        // capture-generic) came out 4-11 % below the next ones, while drop
        // accounting's programs ran 0 times per frame.
        std::vector<Method> methods{{"ceiling", {}, std::nullopt}};
        for (const std::string mode : {"generic", "native"}) {
            const std::optional<bool> m0_gro = mode == "generic";
            Method daemon =
                xconnectd_method("xconnectd-" + mode, config, mode, "m0<->m1", mode, m0_gro);
            Method settle = daemon;
            settle.name = "settle-" + mode;
            settle.settles = true;
            methods.push_back(std::move(settle));
            methods.push_back(std::move(daemon));
            methods.push_back(
                {"before-capture-" + mode,
                 [=](Topology& t) { return xconnectd_before_capture(t, config, mode, "m0<->m1"); },
                 m0_gro});
            methods.push_back({"no-drop-accounting-" + mode,
                               [=](Topology& t) {
                                   return xconnectd_without_drop_accounting(t, config, mode,
                                                                            "m0<->m1");
                               },
                               m0_gro});
            if (mode == "native") {  // no batches in generic mode: nothing traced
                methods.push_back({"ring-drops-" + mode,
                                   [=](Topology& t) {
                                       return xconnectd_counting_ring_drops(t, config, mode,
                                                                            "m0<->m1");
                                   },
                                   m0_gro});
            }
        }
        for (const std::string mode : {"generic", "native"}) {
            methods.push_back({"capture-" + mode,
                               [=, &settings](Topology& t) {
                                   return xconnectd_capturing(t, config, mode, "m0<->m1",
                                                              settings.scratch_dir,
                                                              "capture-" + mode);
                               },
                               mode == "generic"});
        }
        const TrafficSource traffic = from_g0(settings, topology, sink, generator.frames);
        add(measure(settings, topology,
                    {"observe", settings.sizes(), methods, traffic, generator.frames.describe()}));
        // Native (m0's GRO off, as measure() leaves it): where the rows' cost would come from.
        count_drop_traces(
            "xconnectd-native", topology,
            [=](Topology& t) { return xconnectd_pair(t, config, "native", "m0<->m1", "native"); },
            [&] { return traffic(64, false); });
        count_drop_traces(
            "ring-drops-native", topology,
            [=](Topology& t) {
                return xconnectd_counting_ring_drops(t, config, "native", "m0<->m1");
            },
            [&] { return traffic(64, false); });
    }

    if (settings.wants("gro-veth")) {
        auto gro = gro_everywhere(topology);
        // GRO stays on at m0 for every method (nullopt): the same rig, only
        // the mode differs.
        add(measure(
            settings, topology,
            {"gro-veth",
             settings.sizes(),
             {{"ceiling", {}, std::nullopt},
              xconnectd_method("xconnectd-auto", config, "auto", "m0<->m1", "native", std::nullopt),
              xconnectd_method("xconnectd-generic", config, "generic", "m0<->m1", "generic",
                               std::nullopt)},
             from_g0(settings, topology, sink, generator.frames),
             generator.frames.describe()}));
    }

    if (settings.wants("tap")) {
        const Tap ta(topology.mid, "ta");
        const Tap tb(topology.mid, "tb");
        const fs::path tap_config = settings.scratch_dir / "bench-xconnect-tap.yaml";
        write_file(tap_config, "links:\n  ta: tb\n");
        auto tap_traffic = [&](size_t size, bool ceiling) {
            const int writer = settings.generator_cpu;
            const int reader = other_cpu(writer);
            if (ceiling) {
                auto at_ta = std::make_shared<Sink>(topology.mid, "ta");
                auto writing = std::make_shared<TapTraffic>(ta, nullptr, size, writer, reader);
                return Traffic{
                    std::make_shared<std::pair<std::shared_ptr<Sink>, std::shared_ptr<TapTraffic>>>(
                        at_ta, writing),
                    [at_ta, writing] {
                        writing->frames_read();  // throws if the writer failed
                        return at_ta->packets();
                    }};
            }
            auto traffic = std::make_shared<TapTraffic>(ta, &tb, size, writer, reader);
            return Traffic{traffic, [traffic] { return traffic->frames_read(); }};
        };
        // nullopt GRO: m0 is not on the way.
        auto tap_method = [](Method method) {
            method.m0_gro = std::nullopt;
            return method;
        };
        add(measure(settings, topology,
                    {"tap",
                     settings.sizes(),
                     {{"ceiling", {}, std::nullopt},
                      tap_method(bare_method("ta", "tb", "generic")),
                      tap_method(bare_method("ta", "tb", "native")),
                      xconnectd_method("xconnectd-generic", tap_config, "generic", "ta<->tb",
                                       "generic", std::nullopt),
                      xconnectd_method("xconnectd-native", tap_config, "native", "ta<->tb",
                                       "native", std::nullopt),
                      xconnectd_method("xconnectd-auto", tap_config, "auto", "ta<->tb", "native",
                                       std::nullopt)},
                     tap_traffic,
                     "a writer thread on CPU " + std::to_string(settings.generator_cpu)}));
    }

    if (settings.wants("jumbo")) {
        auto mtu = mtu_everywhere(topology, 9000);
        // An skb from a socket reaches m0 with or without NAPI there: GRO
        // stays off for every method.
        auto methods = veth_methods();
        for (Method& method : methods) {
            method.m0_gro = std::nullopt;
        }
        add(measure(settings, topology,
                    {"jumbo",
                     {9000},
                     methods,
                     from_g0(settings, topology, sink, generator.jumbo),
                     generator.jumbo.describe()}));
    }

    if (settings.wants("vxlan")) {
        const VxlanRig vxlan(topology);
        const fs::path vxlan_config = settings.scratch_dir / "bench-xconnect-vxlan.yaml";
        write_file(vxlan_config, "links:\n  m0: vx0\n");
        // Every method is generic at m0 (a tunnel takes no native redirect).
        add(measure(
            settings, topology,
            {"vxlan",
             settings.sizes(),
             {{"ceiling", {}, std::nullopt},
              xconnectd_method("xconnectd-auto", vxlan_config, "auto", "m0<->vx0", "generic", true),
              {"tc-mirred", [](Topology& t) { return tc_mirred(t, "m0", "vx0"); }, true},
              {"bridge", [](Topology& t) { return bridge(t, "m0", "vx0"); }, true}},
             from_g0(settings, topology, *vxlan.sink, generator.frames),
             generator.frames.describe()}));
    }

    if (!settings.wants("veth")) {
        return rates;
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
    const auto traffic = from_g0(settings, topology, sink, generator.frames);
    for (const std::string mode : {"generic", "native"}) {
        topology.gro(mode == "generic");
        Rate rate{"veth",
                  "xconnectd-" + mode + "+" + std::to_string(others),
                  64,
                  {},
                  generator.frames.describe(),
                  ""};
        for (int rep = 0; rep < settings.repetitions(); ++rep) {
            try {
                auto forwarding = xconnectd(topology, config, mode, all_active);
                // Steady state: the kernel's deferred work after thousands of
                // attaches (and the previous daemon's detaches) settles first.
                std::this_thread::sleep_for(seconds(2));
                rate.mpps.push_back(measure_mpps(settings, [&] { return traffic(64, false); }));
            } catch (const std::exception& error) {
                rate.error = error.what();
                std::cerr << rate.method << " 64B failed: " << error.what() << "\n";
            }
        }
        topology.gro(false);
        std::cerr << rate.method << " 64B: " << two_places(rate.median()) << " Mpps\n";
        rates.push_back(rate);
    }
    return rates;
}

}  // namespace xconnect::bench
