#include "transparency.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "forwarding.hpp"
#include "frames.hpp"
#include "report.hpp"
#include "topology.hpp"

namespace xconnect::bench {

namespace {

using test::Frame;
using test::Mac;
using test::PacketSocket;

const Mac kGenMac{0x02, 0, 0, 0, 0xb0, 0x01};
const Mac kSinkMac{0x02, 0, 0, 0, 0xb0, 0x02};
// mid's links carry a full-size QinQ frame (1500 + 14 + 8 = 1522 bytes, one
// tag more than MTU + header + 4); the senders need 4 more, because a packet
// socket allows bytes beyond the MTU to an 0x8100 tag only.
constexpr int kMidMtu = 1504;
constexpr int kSenderMtu = 1508;

struct KindBuilder {
    FrameKind kind;
    std::function<Frame(const Mac& from, const Mac& to, uint32_t marker)> build;
};

std::vector<KindBuilder> kind_builders() {
    std::vector<KindBuilder> kinds = {
        {{"IPv4/UDP unicast (the probe's kind)", "unicast", "0x0800", 0},
         [](const Mac& from, const Mac& to, uint32_t m) {
             return test::ipv4_udp_frame(from, to, 64, m);
         }},
        {{"STP configuration BPDU", "01:80:c2:00:00:00", "802.3 length, LLC 42 42 03", 0},
         [](const Mac& from, const Mac&, uint32_t m) { return test::stp_config_bpdu(from, m); }},
        {{"802.3x PAUSE", "01:80:c2:00:00:01", "0x8808 opcode 1", 0},
         [](const Mac& from, const Mac&, uint32_t m) { return test::pause_frame(from, 0xff, m); }},
        {{"LACPDU", "01:80:c2:00:00:02", "0x8809 subtype 1", 0},
         [](const Mac& from, const Mac&, uint32_t m) { return test::lacpdu(from, m); }},
        {{"802.1X EAPOL-Start", "01:80:c2:00:00:03", "0x888e", 0},
         [](const Mac& from, const Mac&, uint32_t m) { return test::eapol_start(from, m); }},
        {{"LLDPDU", "01:80:c2:00:00:0e", "0x88cc", 0},
         [](const Mac& from, const Mac&, uint32_t m) { return test::lldp_frame(from, m); }},
        {{"QinQ, IPv4 inside", "unicast", "0x88a8 outer, 0x8100 inner", 0},
         [](const Mac& from, const Mac& to, uint32_t m) {
             return test::qinq_frame(from, to, 0xa000 | 100, 200, 64, m);
         }},
        {{"QinQ, full size", "unicast", "0x88a8 outer, 0x8100 inner", 0},
         [](const Mac& from, const Mac& to, uint32_t m) {
             return test::qinq_frame(from, to, 100, 200, 1522, m);
         }},
    };
    for (auto& kind : kinds) {
        kind.kind.bytes = kind.build(kGenMac, kSinkMac, 0).size();
    }
    return kinds;
}

nlohmann::json link_details(const Netns& netns, const std::string& ifname) {
    return nlohmann::json::parse(sh(netns.ip() + "-d -j link show " + ifname)).at(0).at("linkinfo");
}

std::string json_text(const nlohmann::json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
}

// The bridge's settings as the kernel reports them.
std::string bridge_setting(Topology& t) {
    const auto bridge = link_details(t.mid, "br0").at("info_data");
    std::string text = "stp_state " + json_text(bridge.at("stp_state")) + ", group_fwd_mask " +
                       json_text(bridge.at("group_fwd_mask")) + ", vlan_filtering " +
                       json_text(bridge.at("vlan_filtering")) + ", forward_delay " +
                       json_text(bridge.at("forward_delay")) + " cs";
    for (const char* port : {"m0", "m1"}) {
        const auto data = link_details(t.mid, port).at("info_slave_data");
        text += std::string("; ") + port + ": " + json_text(data.at("state")) +
                ", group_fwd_mask " + json_text(data.at("group_fwd_mask_str"));
    }
    return text;
}

void wait_until_forwarding(Topology& t) {
    const auto deadline = steady_clock::now() + seconds(60);
    for (;;) {
        bool all = true;
        for (const char* port : {"m0", "m1"}) {
            all =
                all && link_details(t.mid, port).at("info_slave_data").at("state") == "forwarding";
        }
        if (all) {
            return;
        }
        if (steady_clock::now() > deadline) {
            throw std::runtime_error("the bridge's ports never reached the forwarding state");
        }
        std::this_thread::sleep_for(milliseconds(100));
    }
}

using Knobs = std::vector<std::pair<std::string, std::string>>;

// Tries a setting; records what the kernel answered.
bool try_knob(Knobs& knobs, Topology& t, const std::string& what, const std::string& command) {
    const test::CommandResult result = test::capture(t.mid.ip() + command);
    std::string answer = result.output;
    answer.erase(std::remove(answer.begin(), answer.end(), '\n'), answer.end());
    knobs.emplace_back(what, result.status == 0 ? "accepted" : "refused: " + answer);
    return result.status == 0;
}

std::shared_ptr<void> bridge(Topology& t, const std::string& options) {
    sh(t.mid.ip() + "link add name br0 type bridge " + options);
    std::shared_ptr<void> guard(nullptr,
                                [&t](void*) { test::sh_status(t.mid.ip() + "link del br0"); });
    for (const char* port : {"m0", "m1"}) {
        sh(t.mid.ip() + "link set " + port + " master br0");
    }
    sh(t.mid.ip() + "link set br0 up");
    return guard;
}

struct Method {
    std::string name;
    // Sets it up for as long as the result lives; says how it is set up.
    std::function<std::shared_ptr<void>(Topology&, std::string& setting)> setup;
    bool at_mid = false;  // receive where frames enter mid: nothing forwards
};

std::vector<Method> methods(const Settings& settings, Knobs& knobs) {
    const fs::path config = settings.scratch_dir / "transparency-xconnect.yaml";
    write_file(config, "links:\n  m0: m1\n");
    auto daemon = [config](const std::string& mode) {
        return [config, mode](Topology& t, std::string& setting) {
            setting = "pair m0: m1, --xdp-mode " + mode;
            std::shared_ptr<void> gro;
            if (mode == "native") {
                // A native redirect into a veth needs NAPI at its peer.
                sh(t.gen.exec() + "ethtool -K g0 gro on");
                sh(t.sink_ns.exec() + "ethtool -K s0 gro on");
                setting += " (GRO on at g0 and s0)";
                gro = std::shared_ptr<void>(nullptr, [&t](void*) {
                    test::sh_status(t.gen.exec() + "ethtool -K g0 gro off");
                    test::sh_status(t.sink_ns.exec() + "ethtool -K s0 gro off");
                });
            }
            auto process = xconnectd(t, config, mode, "m0<->m1: added, active (" + mode + ")");
            return std::shared_ptr<void>(nullptr, [process, gro](void*) mutable {
                process.reset();  // the daemon first, then GRO back off
                gro.reset();
            });
        };
    };
    return {
        {"nothing (seen entering mid)",
         [](Topology&, std::string& setting) {
             setting = "no forwarder; received on m0 (and m1 for the way back)";
             return std::shared_ptr<void>();
         },
         true},
        {"bridge (defaults)",
         [](Topology& t, std::string& setting) {
             auto guard = bridge(t, "");
             wait_until_forwarding(t);
             setting = "ip link add br0 type bridge: " + bridge_setting(t);
             return guard;
         }},
        {"bridge, STP on",
         [](Topology& t, std::string& setting) {
             auto guard = bridge(t, "stp_state 1 forward_delay 200");
             wait_until_forwarding(t);
             setting = "stp_state 1 (the kernel's STP), forward_delay 2 s: " + bridge_setting(t);
             return guard;
         }},
        {"bridge, group_fwd_mask 0x4008",
         [&knobs](Topology& t, std::string& setting) {
             auto guard = bridge(t, "");
             for (const char* bit : {"0x1", "0x2", "0x4", "0x8", "0x4000"}) {
                 try_knob(knobs, t, std::string("bridge group_fwd_mask ") + bit,
                          std::string("link set br0 type bridge group_fwd_mask ") + bit);
             }
             if (!try_knob(knobs, t, "bridge group_fwd_mask 0x4008",
                           "link set br0 type bridge group_fwd_mask 0x4008")) {
                 throw std::runtime_error("the bridge refused group_fwd_mask 0x4008");
             }
             wait_until_forwarding(t);
             setting = "the widest group_fwd_mask the bridge accepts: " + bridge_setting(t);
             return guard;
         }},
        {"bridge, STP on, ports' group_fwd_mask 0x400d",
         [&knobs](Topology& t, std::string& setting) {
             auto guard = bridge(t, "stp_state 1 forward_delay 200");
             for (const char* bit : {"0x1", "0x2", "0x4", "0x8", "0x4000"}) {
                 try_knob(knobs, t, std::string("port group_fwd_mask ") + bit,
                          std::string("link set m0 type bridge_slave group_fwd_mask ") + bit);
             }
             for (const char* port : {"m0", "m1"}) {
                 if (!try_knob(knobs, t, std::string("port group_fwd_mask 0x400d on ") + port,
                               std::string("link set ") + port +
                                   " type bridge_slave group_fwd_mask 0x400d")) {
                     throw std::runtime_error("the bridge port refused group_fwd_mask 0x400d");
                 }
             }
             wait_until_forwarding(t);
             setting =
                 "the widest per-port group_fwd_mask the kernel accepts: " + bridge_setting(t);
             return guard;
         }},
        {"tc-mirred",
         [](Topology& t, std::string& setting) {
             for (const auto& [from, to] : {std::pair{"m0", "m1"}, std::pair{"m1", "m0"}}) {
                 sh(t.mid.exec() + "tc qdisc add dev " + from + " ingress");
                 sh(t.mid.exec() + "tc filter add dev " + from +
                    " ingress protocol all u32 match u32 0 0 action mirred egress redirect dev " +
                    to);
             }
             setting = "ingress u32 match-all, mirred egress redirect, m0 -> m1 and m1 -> m0";
             return std::shared_ptr<void>(nullptr, [&t](void*) {
                 for (const char* port : {"m0", "m1"}) {
                     test::sh_status(t.mid.exec() + "tc qdisc del dev " + port + " ingress");
                 }
             });
         }},
        {"xconnectd-generic", daemon("generic")},
        {"xconnectd-native", daemon("native")},
    };
}

bool contains(const std::vector<Frame>& frames, const Frame& frame) {
    return std::find(frames.begin(), frames.end(), frame) != frames.end();
}

// Sends `frame` and then a unicast probe from `from`; once the probe has come
// out at `to` (the frames crossed in order, or the measurement failed), whether
// `frame` came too, given a little longer in case it was overtaken.
std::optional<bool> crosses(PacketSocket& from, PacketSocket& to, const Frame& frame,
                            const Frame& probe, std::string& why) {
    try {
        from.send(frame);
    } catch (const std::exception& error) {
        why = std::string("not sent: ") + error.what();
        return std::nullopt;
    }
    from.send(probe);
    if (!to.receive_equal(probe, seconds(5))) {
        why = "the probe after it did not cross";
        return std::nullopt;
    }
    return contains(to.received(), frame) || to.receive_equal(frame, milliseconds(300));
}

// Frames to the bridge group address that we did not send: the bridge's own BPDUs.
size_t foreign_bpdus(const std::vector<Frame>& frames) {
    return static_cast<size_t>(std::count_if(frames.begin(), frames.end(), [](const Frame& f) {
        return f.size() >= 12 &&
               std::equal(test::kStpGroup.begin(), test::kStpGroup.end(), f.begin()) &&
               !std::equal(kGenMac.begin(), kGenMac.end(), f.begin() + 6) &&
               !std::equal(kSinkMac.begin(), kSinkMac.end(), f.begin() + 6);
    }));
}

}  // namespace

Transparency transparency(const Settings& settings) {
    Transparency result;
    Topology t;
    sh(t.gen.ip() + "link set g0 mtu " + std::to_string(kSenderMtu));
    sh(t.sink_ns.ip() + "link set s0 mtu " + std::to_string(kSenderMtu));
    for (const char* port : {"m0", "m1"}) {
        sh(t.mid.ip() + "link set " + port + " mtu " + std::to_string(kMidMtu));
    }
    const std::vector<KindBuilder> kinds = kind_builders();
    for (const auto& kind : kinds) {
        result.kinds.push_back(kind.kind);
    }
    uint32_t marker = 0x10000;
    for (const Method& method : methods(settings, result.knobs)) {
        std::string setting;
        auto forwarding = method.setup(t, setting);
        result.methods.push_back({method.name, setting});
        PacketSocket g0(t.gen, "g0");
        PacketSocket s0(t.sink_ns, "s0");
        std::unique_ptr<PacketSocket> m0, m1;
        if (method.at_mid) {
            m0 = std::make_unique<PacketSocket>(t.mid, "m0");
            m1 = std::make_unique<PacketSocket>(t.mid, "m1");
        }
        PacketSocket& there = method.at_mid ? *m0 : s0;
        PacketSocket& back = method.at_mid ? *m1 : g0;
        std::vector<Crossing> row;
        for (const auto& kind : kinds) {
            Crossing crossing;
            for (bool forth : {true, false}) {
                const Mac& from_mac = forth ? kGenMac : kSinkMac;
                const Mac& to_mac = forth ? kSinkMac : kGenMac;
                const Frame frame = kind.build(from_mac, to_mac, ++marker);
                const Frame probe = test::ipv4_udp_frame(from_mac, to_mac, 64, ++marker);
                std::string why;
                const auto crossed =
                    crosses(forth ? g0 : s0, forth ? there : back, frame, probe, why);
                const std::string where = method.name + ", " + kind.kind.name + ", " +
                                          (forth ? "gen -> sink" : "sink -> gen");
                if (!crossed) {
                    result.invalid.push_back(where + ": " + why);
                } else if (method.at_mid && !*crossed) {
                    result.invalid.push_back(where + ": never reached mid");
                }
                (forth ? crossing.there : crossing.back) = crossed.value_or(false);
            }
            row.push_back(crossing);
        }
        result.crossed.push_back(row);
        if (const size_t own = foreign_bpdus(g0.received()) + foreign_bpdus(s0.received())) {
            result.notes.push_back(method.name + ": " + std::to_string(own) +
                                   " BPDU(s) of the bridge's own came out at g0 and s0");
        }
        std::cerr << "transparency: " << method.name << " measured\n";
    }
    return result;
}

int report_transparency(const Settings& settings, const Transparency& result) {
    auto cell = [](const Crossing& c) -> std::string {
        if (c.there && c.back) {
            return "yes";
        }
        if (c.there || c.back) {
            return c.there ? "gen -> sink only" : "sink -> gen only";
        }
        return "**no**";
    };
    const auto now = system_clock::to_time_t(system_clock::now());
    std::ostringstream md;
    md << "Measured " << std::put_time(std::gmtime(&now), "%Y-%m-%d") << " on " << machine()
       << " with `bench/run --transparency`.\n\n"
       << "Which frames cross `gen-ns: g0 ⇄ m0 [mid-ns] m1 ⇄ s0 :sink-ns` both ways (\"yes\"), "
          "one way or not at all (\"no\"), byte for byte, through each way of cross-connecting "
          "m0 and m1 (MTU "
       << kMidMtu << " in mid, " << kSenderMtu
       << " at the senders g0 and s0). Each frame is sent with an AF_PACKET socket and "
          "followed by a unicast IPv4 probe; once the probe is out, the frame has crossed or "
          "it will not (it is given 300 ms more). The outer VLAN tag the receiving stack "
          "moves out of band is put back from PACKET_AUXDATA before comparing.\n\n";
    md << "| frame | to | type | bytes |";
    for (const auto& method : result.methods) {
        md << " " << method.name << " |";
    }
    md << "\n|---|---|---|---|";
    for (size_t m = 0; m < result.methods.size(); ++m) {
        md << "---|";
    }
    md << "\n";
    for (size_t k = 0; k < result.kinds.size(); ++k) {
        const FrameKind& kind = result.kinds[k];
        md << "| " << kind.name << " | " << kind.destination << " | " << kind.type << " | "
           << kind.bytes << " |";
        for (size_t m = 0; m < result.methods.size(); ++m) {
            md << " " << cell(result.crossed[m][k]) << " |";
        }
        md << "\n";
    }
    md << "\n| method | set up as (read back from the kernel) |\n|---|---|\n";
    for (const auto& method : result.methods) {
        md << "| " << method.name << " | " << method.setting << " |\n";
    }
    md << "\n| bridge setting tried | the kernel's answer |\n|---|---|\n";
    for (const auto& [knob, answer] : result.knobs) {
        md << "| " << knob << " | " << answer << " |\n";
    }
    if (!result.notes.empty()) {
        md << "\n";
        for (const auto& note : result.notes) {
            md << "- " << note << "\n";
        }
    }
    if (!result.invalid.empty()) {
        md << "\nINVALID: the measurement failed here:\n";
        for (const auto& what : result.invalid) {
            md << "- " << what << "\n";
        }
    }
    std::cout << md.str();
    std::ofstream(settings.out_dir / "transparency.md") << md.str();

    nlohmann::ordered_json json{{"machine", machine()},
                                {"mtu", {{"mid", kMidMtu}, {"senders", kSenderMtu}}}};
    auto& kinds = json["kinds"] = nlohmann::ordered_json::array();
    for (const auto& kind : result.kinds) {
        kinds.push_back({{"name", kind.name},
                         {"destination", kind.destination},
                         {"type", kind.type},
                         {"bytes", kind.bytes}});
    }
    auto& methods = json["methods"] = nlohmann::ordered_json::array();
    for (size_t m = 0; m < result.methods.size(); ++m) {
        nlohmann::ordered_json crossed = nlohmann::ordered_json::array();
        for (size_t k = 0; k < result.kinds.size(); ++k) {
            crossed.push_back({{"kind", result.kinds[k].name},
                               {"gen_to_sink", result.crossed[m][k].there},
                               {"sink_to_gen", result.crossed[m][k].back}});
        }
        methods.push_back({{"method", result.methods[m].name},
                           {"setting", result.methods[m].setting},
                           {"crossed", crossed}});
    }
    auto& knobs = json["bridge_settings_tried"] = nlohmann::ordered_json::array();
    for (const auto& [knob, answer] : result.knobs) {
        knobs.push_back({{"setting", knob}, {"answer", answer}});
    }
    json["notes"] = result.notes;
    json["invalid"] = result.invalid;
    std::ofstream(settings.out_dir / "transparency.json") << json.dump(2) << "\n";
    for (const auto& what : result.invalid) {
        std::cerr << "transparency: measurement failed: " << what << "\n";
    }
    return result.invalid.empty() ? 0 : 1;
}

}  // namespace xconnect::bench
