// Wires across machines: two "hosts" (network namespaces joined by an
// underlay veth), each with a "container" (a namespace on a veth whose other
// end is in the host) and a VXLAN or Geneve device to the other host, and each
// with its own xconnectd pairing the container's veth with the tunnel. The
// containers then share one Ethernet segment: ping and raw frames cross, byte
// for byte, up to the tunnel's MTU (and one VLAN tag's 4 bytes more, which
// the underlay fragments); full-size frames are dropped by the kernel, which
// redirects nothing longer than that. Tunnels have no native XDP and no
// ndo_xdp_xmit, so the pair runs in generic mode.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"
#include "daemon_fixture.hpp"
#include "frames.hpp"
#include "leftovers.hpp"
#include "netns.hpp"
#include "unit_capabilities.hpp"

namespace xconnect {
namespace {

using namespace test;
namespace fs = std::filesystem;

struct Tunnel {
    const char* kind;    // as `ip -d link` and xconnectd name it
    const char* device;  // its name in each host
};

// For gtest's messages ("where GetParam() = vxlan").
void PrintTo(const Tunnel& tunnel, std::ostream* out) {
    *out << tunnel.kind;
}

std::string tunnel_name(const testing::TestParamInfo<Tunnel>& info) {
    return info.param.kind;
}

constexpr const char* kContainerSubnet = "192.168.77.";  // .1 in host a's container, .2 in b's
constexpr const char* kUnderlaySubnet = "10.77.0.";      // .1 host a, .2 host b
constexpr uint32_t kVni = 4242;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr uint32_t kUnderlayMtu = 1500;
constexpr uint32_t kTunnelMtu = kUnderlayMtu - 50;  // outer IPv4, UDP, VXLAN/Geneve, inner Ethernet
constexpr size_t kLargestFrame = kTunnelMtu + kEthernetHeader;  // 1464
constexpr size_t kFullSizeFrame = 1500 + kEthernetHeader;       // 1514

bool tunnels_required() {
    const char* required = std::getenv("XCONNECT_REQUIRE_TUNNELS");
    return required != nullptr && std::string_view(required) == "1";
}

// One machine: its own network namespace with the underlay, the tunnel, the
// host end of the container's veth ("ctr0") and an xconnectd of its own.
struct Host {
    std::string side;  // "a", "b"
    std::unique_ptr<Netns> netns;
    std::unique_ptr<Netns> container;  // "eth0" at kContainerSubnet + number
    fs::path config;
    fs::path state_dir;
    std::unique_ptr<ChildProcess> daemon;
};

class CrossHostTest : public testing::TestWithParam<Tunnel> {
  protected:
    void SetUp() override {
        XCONNECT_REQUIRE_ROOT();
        sweep_leftovers_once();
        ensure_bpffs_mounted();
        config_dir_ = fs::temp_directory_path() / ("xconnect-test-" + unique_suffix());
        fs::create_directories(config_dir_);
        hosts_[0].side = "a";
        hosts_[1].side = "b";
        for (Host& host : hosts_) {
            host.netns = std::make_unique<Netns>("host-" + host.side);
            host.config = config_dir_ / ("xconnect-" + host.side + ".yaml");
            // Swept by sweep_leftovers() if the run is killed.
            host.state_dir = fs::path("/sys/fs/bpf") / ("xconnect-test-" + unique_suffix());
        }

        // The underlay: one veth between the two machines.
        sh(a().netns->ip() + "link add ul type veth peer name ul netns " + b().netns->name());
        for (int n : {0, 1}) {
            Host& host = hosts_[n];
            sh(host.netns->ip() + "addr add " + underlay_address(n) + "/24 dev ul");
            sh(host.netns->ip() + "link set ul up");
        }

        // The tunnel in each machine, to the other one.
        for (int n : {0, 1}) {
            const CommandResult added =
                capture(hosts_[n].netns->ip() + "link add " + tunnel() + " " +
                        tunnel_arguments(underlay_address(n), underlay_address(1 - n)));
            if (added.status != 0 &&
                added.output.find("Unknown device type") != std::string::npos) {
                // stock_kernel.cross_host runs this test where the kernel has
                // them, and says so there: a missing tunnel is a failure.
                if (tunnels_required()) {
                    FAIL() << "XCONNECT_REQUIRE_TUNNELS=1 but this kernel has no "
                           << GetParam().kind << " devices (" << added.output << ")";
                }
                GTEST_SKIP() << "this kernel has no " << GetParam().kind << " devices ("
                             << added.output
                             << "); ctest's stock_kernel.cross_host runs it in Debian's kernel";
            }
            ASSERT_EQ(added.status, 0) << added.output;
            sh(hosts_[n].netns->ip() + "link set " + tunnel() + " up");
            ASSERT_EQ(mtu_of(hosts_[n], tunnel()), kTunnelMtu)
                << "the tunnel's MTU is the underlay's less its headers";
        }

        // The containers, on veths whose host ends ("ctr0") sit in the machines.
        for (int n : {0, 1}) {
            Host& host = hosts_[n];
            host.container = std::make_unique<Netns>("ctr-" + host.side);
            sh(host.container->ip() + "link add eth0 type veth peer name ctr0 netns " +
               host.netns->name());
            sh(host.container->ip() + "addr add " + container_address(n) + "/24 dev eth0");
            sh(host.container->ip() + "link set eth0 up");
            sh(host.netns->ip() + "link set ctr0 up");
        }
    }

    void TearDown() override {
        for (Host& host : hosts_) {
            if (HasFailure() && host.daemon) {
                std::cerr << "xconnectd's log on host " << host.side << ":\n"
                          << host.daemon->log_text();
            }
        }
        for (Host& host : hosts_) {
            host.daemon.reset();  // before the namespaces they run in
        }
        std::error_code ignored;
        for (Host& host : hosts_) {
            host.container.reset();
            host.netns.reset();
            if (!host.state_dir.empty()) {
                fs::remove_all(host.state_dir, ignored);
            }
        }
        if (!config_dir_.empty()) {
            fs::remove_all(config_dir_, ignored);
        }
    }

    Host& a() { return hosts_[0]; }
    Host& b() { return hosts_[1]; }
    std::string tunnel() const { return GetParam().device; }
    std::string pair() const { return "ctr0<->" + tunnel(); }
    static std::string underlay_address(int n) { return kUnderlaySubnet + std::to_string(n + 1); }
    static std::string container_address(int n) { return kContainerSubnet + std::to_string(n + 1); }

    // `ip link add NAME` arguments for the machine at `local` reaching `remote`.
    std::string tunnel_arguments(const std::string& local, const std::string& remote) const {
        const std::string kind = GetParam().kind;
        if (kind == "vxlan") {
            return "type vxlan id " + std::to_string(kVni) + " remote " + remote + " local " +
                   local + " dstport 4789 dev ul";
        }
        // Geneve has no local address or lower device: the route to `remote`
        // picks the underlay, and its MTU.
        return "type geneve id " + std::to_string(kVni) + " remote " + remote;
    }

    static uint32_t mtu_of(const Host& host, const std::string& ifname) {
        const std::string mtu = sh(host.netns->exec() + "cat /sys/class/net/" + ifname + "/mtu");
        return static_cast<uint32_t>(std::stoul(mtu));
    }

    // IPv4 fragments this machine's stack has made (/proc/net/snmp, Ip: FragCreates).
    static uint64_t fragments_created(const Host& host) {
        const std::string count = sh(host.netns->exec() +
                                     "awk '$1 == \"Ip:\" { if (!n) { for (i = 2; i <= NF; ++i) "
                                     "if ($i == \"FragCreates\") n = i } else print $n }' "
                                     "/proc/net/snmp");
        return std::stoull(count);
    }

    // Each machine's xconnectd, as the unit runs it, pairing the container's
    // veth with the tunnel, up and applied.
    void start_daemons() {
        for (Host& host : hosts_) {
            SCOPED_TRACE("host " + host.side);
            replace_by_rename(host.config, "links:\n  ctr0: " + tunnel() + "\n");
            std::vector<std::string> command =
                xconnectd_as_the_unit_runs_it({"--no-bus", "--config", host.config.string(),
                                               "--state-dir", host.state_dir.string()});
            const std::string program = command.front();
            command.erase(command.begin());
            host.daemon = std::make_unique<ChildProcess>(program, command, host.netns.get());
        }
        for (Host& host : hosts_) {
            SCOPED_TRACE("host " + host.side);
            ASSERT_NO_THROW(host.daemon->expect_log(pair() + ": added, active (generic)"));
            ASSERT_NO_THROW(mode_reason_ = host.daemon->expect_log(pair() + ": why this mode: "));
            // The tunnel's MTU is the underlay's less the encapsulation: said.
            ASSERT_NO_THROW(host.daemon->expect_log(
                pair() + ": frames above 1450 bytes are dropped: " + tunnel() +
                " MTU 1450 < ctr0 MTU 1500"));
            ASSERT_NO_THROW(host.daemon->expect_log("config " + host.config.string() + " applied"));
        }
    }

    uint8_t attach_mode_of(const Host& host, const std::string& ifname) {
        NetnsScope inside(*host.netns);
        LIBBPF_OPTS(bpf_xdp_query_opts, query);
        EXPECT_EQ(bpf_xdp_query(static_cast<int>(if_nametoindex(ifname.c_str())), 0, &query), 0)
            << ifname;
        return query.attach_mode;
    }

    void open_sockets() {
        socket_a_ = std::make_unique<PacketSocket>(*a().container, "eth0");
        socket_b_ = std::make_unique<PacketSocket>(*b().container, "eth0");
    }

    static void expect_crosses(const Frame& frame, PacketSocket& from, PacketSocket& to) {
        from.send(frame);
        EXPECT_TRUE(to.receive_equal(frame))
            << "sent " << frame.size() << " bytes; received " << to.received().size()
            << " other frames, last of "
            << (to.received().empty() ? 0 : to.received().back().size()) << " bytes";
    }

    // `too_large` is lost: frames of one flow keep their order, so once the
    // one sent after it is in, it is not coming.
    static void expect_lost(const Frame& too_large, const Frame& after_it, PacketSocket& from,
                            PacketSocket& to) {
        from.send(too_large);
        from.send(after_it);
        EXPECT_TRUE(to.receive_equal(after_it)) << "the frame after the large one did not cross";
        EXPECT_EQ(std::count(to.received().begin(), to.received().end(), too_large), 0)
            << "a " << too_large.size() << "-byte frame crossed a tunnel of MTU " << kTunnelMtu;
    }

    const Mac mac_a_{2, 0, 0, 0, 0x77, 1};
    const Mac mac_b_{2, 0, 0, 0, 0x77, 2};
    std::array<Host, 2> hosts_;
    fs::path config_dir_;
    std::string mode_reason_;  // the last daemon's "why this mode" line
    std::unique_ptr<PacketSocket> socket_a_;
    std::unique_ptr<PacketSocket> socket_b_;
};

TEST_P(CrossHostTest, ThePairRunsInGenericModeOnTheTunnel) {
    start_daemons();
    if (HasFatalFailure()) {
        return;
    }
    // Both sides generic: the veth's because its frames go to a tunnel, which
    // has no ndo_xdp_xmit; the tunnel's because it has no native XDP at all.
    // (Why, in words, depends on whether the daemon reads xdp-features.)
    EXPECT_NE(mode_reason_.find("ctr0: generic: "), std::string::npos) << mode_reason_;
    EXPECT_NE(mode_reason_.find(tunnel() + ": generic: "), std::string::npos) << mode_reason_;
    const std::string kind = GetParam().kind;
    for (Host& host : hosts_) {
        SCOPED_TRACE("host " + host.side);
        EXPECT_EQ(attach_mode_of(host, "ctr0"), XDP_ATTACHED_SKB);
        EXPECT_EQ(attach_mode_of(host, tunnel()), XDP_ATTACHED_SKB);
        const std::string details = sh(host.netns->ip() + "-d link show dev " + tunnel());
        EXPECT_NE(details.find(kind + " id " + std::to_string(kVni)), std::string::npos) << details;
        EXPECT_NE(details.find("xdpgeneric"), std::string::npos) << details;
    }
}

// What auto mode avoids: asked for native mode, the kernel refuses the
// tunnel (EOPNOTSUPP) and the pair fails whole, leaving nothing attached.
TEST_P(CrossHostTest, NativeModeIsRefusedByTheTunnel) {
    Host& host = a();
    replace_by_rename(host.config, "links:\n  ctr0: " + tunnel() + "\n");
    std::vector<std::string> command =
        xconnectd_as_the_unit_runs_it({"--no-bus", "--config", host.config.string(), "--state-dir",
                                       host.state_dir.string(), "--xdp-mode", "native"});
    const std::string program = command.front();
    command.erase(command.begin());
    host.daemon = std::make_unique<ChildProcess>(program, command, host.netns.get());
    ASSERT_NO_THROW(host.daemon->expect_log(pair() + ": added, failed: native XDP refused on " +
                                            tunnel() +
                                            ": its driver has no native XDP (EOPNOTSUPP)"));
    ASSERT_NO_THROW(host.daemon->expect_log("config " + host.config.string() + " applied"));
    EXPECT_EQ(attach_mode_of(host, "ctr0"), XDP_ATTACHED_NONE) << "no half-attached pair";
    EXPECT_EQ(attach_mode_of(host, tunnel()), XDP_ATTACHED_NONE);
}

TEST_P(CrossHostTest, PingCrossesBothWays) {
    start_daemons();
    if (HasFatalFailure()) {
        return;
    }
    EXPECT_TRUE(reachable(*a().container, container_address(1)));
    EXPECT_TRUE(reachable(*b().container, container_address(0)));
}

TEST_P(CrossHostTest, FramesUpToTheTunnelMtuCrossByteForByteBothWays) {
    start_daemons();
    if (HasFatalFailure()) {
        return;
    }
    open_sockets();
    uint32_t marker = 7700;
    for (size_t size : {size_t{60}, size_t{64}, size_t{512}, size_t{1000}, kLargestFrame}) {
        SCOPED_TRACE("IPv4/UDP frame of " + std::to_string(size) + " bytes");
        expect_crosses(ipv4_udp_frame(mac_a_, mac_b_, size, ++marker), *socket_a_, *socket_b_);
        expect_crosses(ipv4_udp_frame(mac_b_, mac_a_, size, ++marker), *socket_b_, *socket_a_);
    }
    // A tagged frame carries 4 bytes more than an untagged one of the same
    // payload: the tunnel's device takes, as any Ethernet device does, MTU +
    // header + one tag.
    for (size_t size : {size_t{64}, size_t{1000}, kLargestFrame, kLargestFrame + kVlanTag}) {
        SCOPED_TRACE("VLAN-tagged frame of " + std::to_string(size) + " bytes");
        expect_crosses(vlan_frame(mac_a_, mac_b_, 100, size, ++marker), *socket_a_, *socket_b_);
        expect_crosses(vlan_frame(mac_b_, mac_a_, 100, size, ++marker), *socket_b_, *socket_a_);
    }
}

// The redirect's size check (xdp_ok_fwd_dev: MTU + header + one VLAN tag)
// leaves that tag's 4 bytes to an untagged frame too: an IPv4 packet of up to
// 1454 bytes crosses a tunnel of MTU 1450, and the underlay fragments the
// encapsulated packet (1504..1508 bytes on an MTU of 1500; the tunnel sets no
// DF) for the other machine to reassemble.
TEST_P(CrossHostTest, UntaggedFramesOfOneTagMoreCrossFragmentedInTheUnderlay) {
    start_daemons();
    if (HasFatalFailure()) {
        return;
    }
    open_sockets();
    const size_t size = kLargestFrame + kVlanTag;  // 1468
    const uint64_t fragmented_a = fragments_created(a());
    const uint64_t fragmented_b = fragments_created(b());
    expect_crosses(ipv4_udp_frame(mac_a_, mac_b_, size, 7901), *socket_a_, *socket_b_);
    expect_crosses(ipv4_udp_frame(mac_b_, mac_a_, size, 7902), *socket_b_, *socket_a_);
    EXPECT_GT(fragments_created(a()), fragmented_a) << "host a's underlay fragmented nothing";
    EXPECT_GT(fragments_created(b()), fragmented_b) << "host b's underlay fragmented nothing";
}

TEST_P(CrossHostTest, FullSizeFramesAreDroppedAboveTheTunnelMtu) {
    start_daemons();
    if (HasFatalFailure()) {
        return;
    }
    open_sockets();
    // ctr0 (MTU 1500) takes a full-size frame; the redirect into the tunnel
    // (MTU 1450) drops it, silently. What the MTU warning is about.
    expect_lost(ipv4_udp_frame(mac_a_, mac_b_, kFullSizeFrame, 7801),
                ipv4_udp_frame(mac_a_, mac_b_, 1000, 7802), *socket_a_, *socket_b_);
    expect_lost(ipv4_udp_frame(mac_b_, mac_a_, kFullSizeFrame, 7803),
                ipv4_udp_frame(mac_b_, mac_a_, 1000, 7804), *socket_b_, *socket_a_);
    // The first size the redirect refuses: MTU + header + one tag + 1.
    const size_t first_refused = kLargestFrame + kVlanTag + 1;
    expect_lost(ipv4_udp_frame(mac_a_, mac_b_, first_refused, 7805),
                ipv4_udp_frame(mac_a_, mac_b_, 1000, 7806), *socket_a_, *socket_b_);
    expect_lost(ipv4_udp_frame(mac_b_, mac_a_, first_refused, 7807),
                ipv4_udp_frame(mac_b_, mac_a_, 1000, 7808), *socket_b_, *socket_a_);
}

INSTANTIATE_TEST_SUITE_P(Tunnels, CrossHostTest,
                         testing::Values(Tunnel{"vxlan", "vx0"}, Tunnel{"geneve", "gnv0"}),
                         tunnel_name);

}  // namespace
}  // namespace xconnect
