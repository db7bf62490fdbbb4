// NetdevFeaturesMonitor on the real kernel, in namespaces of its own: what
// the netdev family says about a veth while its peer (in another namespace)
// turns GRO on and off, about a tap, about a device that goes, and after a
// receive-buffer overrun.

#include "netlink/netdev_features.hpp"

#include <libmnl/libmnl.h>
#include <net/if.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "netns.hpp"

namespace xconnect {
namespace {

using namespace test;
using netlink::DeviceFeatures;
namespace xdp_feature = netlink::xdp_feature;

class RecordingObserver : public NetdevFeaturesObserver {
  public:
    void xdp_features_snapshot(std::vector<DeviceFeatures> devices) override {
        devices_.clear();
        for (const DeviceFeatures& device : devices) {
            devices_[device.ifindex] = device.xdp_features;
        }
        snapshots.push_back(std::move(devices));
    }
    void xdp_features_changed(DeviceFeatures device) override {
        devices_[device.ifindex] = device.xdp_features;
        changes.push_back(device);
    }
    void device_removed(uint32_t ifindex) override {
        devices_.erase(ifindex);
        removals.push_back(ifindex);
    }

    bool knows(uint32_t ifindex) const { return devices_.contains(ifindex); }
    uint64_t features(uint32_t ifindex) const {
        auto found = devices_.find(ifindex);
        return found == devices_.end() ? 0 : found->second;
    }
    // What it heard, for a failure message.
    std::string story() const {
        std::ostringstream text;
        text << snapshots.size() << " snapshot(s); changes:";
        for (const DeviceFeatures& change : changes) {
            text << " [" << change.ifindex << ": "
                 << netlink::xdp_features_text(change.xdp_features) << "]";
        }
        text << "; removed:";
        for (uint32_t ifindex : removals) {
            text << " " << ifindex;
        }
        return text.str();
    }

    std::vector<std::vector<DeviceFeatures>> snapshots;
    std::vector<DeviceFeatures> changes;
    std::vector<uint32_t> removals;

  private:
    std::map<uint32_t, uint64_t> devices_;  // what the observer believes now
};

class NetdevFeaturesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        XCONNECT_REQUIRE_ROOT();
        host_ = std::make_unique<Netns>("nd-host");
    }

    void start_monitor(int receive_buffer = netlink::default_monitor_buffer) {
        NetnsScope inside(*host_);  // the monitor's socket belongs to host_ from now on
        monitor_ = std::make_unique<NetdevFeaturesMonitor>(io_, observer_, receive_buffer);
        ASSERT_TRUE(monitor_->available()) << "this kernel has the netdev family (>= 6.3)";
        ASSERT_EQ(observer_.snapshots.size(), 1u);
    }

    uint32_t ifindex(const std::string& name) {
        NetnsScope inside(*host_);
        const uint32_t index = if_nametoindex(name.c_str());
        EXPECT_NE(index, 0u) << name << " not in " << host_->name();
        return index;
    }

    // "veth" in host_, its peer "peer" in a namespace of its own; both up.
    void add_veth_with_remote_peer() {
        peer_ = std::make_unique<Netns>("nd-peer");
        sh(host_->ip() + "link add veth type veth peer name peer netns " + peer_->name());
        sh(host_->ip() + "link set veth up");
        sh(peer_->ip() + "link set peer up");
    }
    // nsenter, not `ip netns exec`, which would remount /sys.
    std::string in_peer(const std::string& command) const {
        return "nsenter --net=" + peer_->path() + " " + command;
    }

    // Runs the monitor until `done` holds or the deadline (generous: a loaded
    // machine) passes; no sleeping, every wakeup is a netlink datagram.
    bool run_until(const std::function<bool()>& done,
                   std::chrono::seconds deadline = std::chrono::seconds(20)) {
        auto expired = std::make_shared<bool>(false);
        boost::asio::steady_timer timer(io_, deadline);
        timer.async_wait([expired](const boost::system::error_code& error) {
            if (!error) {
                *expired = true;
            }
        });
        while (!done() && !*expired && io_.run_one() != 0) {
        }
        return done();
    }

    boost::asio::io_context io_;
    RecordingObserver observer_;
    std::unique_ptr<Netns> host_;
    std::unique_ptr<Netns> peer_;
    std::unique_ptr<NetdevFeaturesMonitor> monitor_;  // first to go: it holds host_'s namespace
};

TEST_F(NetdevFeaturesTest, VethAcceptsNativeRedirectsOnlyWhileItsRemotePeerHasGro) {
    add_veth_with_remote_peer();
    const uint32_t veth = ifindex("veth");
    start_monitor();

    const std::vector<DeviceFeatures>& snapshot = observer_.snapshots.front();
    ASSERT_EQ(snapshot.size(), 2u) << "lo and veth";
    EXPECT_EQ(snapshot[0].ifindex, ifindex("lo"));
    ASSERT_EQ(snapshot[1].ifindex, veth);
    const uint64_t gro_off = snapshot[1].xdp_features;
    EXPECT_EQ(gro_off & (xdp_feature::basic | xdp_feature::redirect),
              xdp_feature::basic | xdp_feature::redirect)
        << netlink::xdp_features_text(gro_off);
    EXPECT_FALSE(snapshot[1].accepts_native_redirect()) << netlink::xdp_features_text(gro_off);

    sh(in_peer("ethtool -K peer gro on"));
    ASSERT_TRUE(run_until([&] { return observer_.features(veth) & xdp_feature::ndo_xmit; }))
        << "no NDO_XMIT after GRO on at the peer: " << observer_.story();
    EXPECT_EQ(observer_.features(veth), gro_off | xdp_feature::ndo_xmit | xdp_feature::ndo_xmit_sg)
        << netlink::xdp_features_text(observer_.features(veth));

    sh(in_peer("ethtool -K peer gro off"));
    ASSERT_TRUE(run_until([&] { return !(observer_.features(veth) & xdp_feature::ndo_xmit); }))
        << "NDO_XMIT stays after GRO off at the peer: " << observer_.story();
    EXPECT_EQ(observer_.features(veth), gro_off);

    sh(host_->ip() + "link del veth");
    ASSERT_TRUE(run_until([&] { return !observer_.knows(veth); }))
        << "no removal: " << observer_.story();
    EXPECT_EQ(observer_.removals, (std::vector<uint32_t>{veth}));
    EXPECT_EQ(observer_.snapshots.size(), 1u) << "no resync needed";
    EXPECT_EQ(monitor_->resyncs(), 0u);
}

TEST_F(NetdevFeaturesTest, TapAcceptsNativeRedirectsFromItsArrival) {
    start_monitor();
    sh(host_->ip() + "tuntap add dev tap0 mode tap");
    const uint32_t tap = ifindex("tap0");
    ASSERT_TRUE(run_until([&] { return observer_.knows(tap); }))
        << "the tap never appeared: " << observer_.story();
    EXPECT_EQ(observer_.features(tap),
              xdp_feature::basic | xdp_feature::redirect | xdp_feature::ndo_xmit)
        << netlink::xdp_features_text(observer_.features(tap));

    sh(host_->ip() + "link del tap0");
    ASSERT_TRUE(run_until([&] { return !observer_.knows(tap); }))
        << "no removal: " << observer_.story();
}

TEST_F(NetdevFeaturesTest, ADeviceMovedToAnotherNamespaceIsRemovedHere) {
    add_veth_with_remote_peer();
    const uint32_t veth = ifindex("veth");
    start_monitor();
    ASSERT_TRUE(observer_.knows(veth));
    sh(host_->ip() + "link set veth netns " + peer_->name());
    ASSERT_TRUE(run_until([&] { return !observer_.knows(veth); }))
        << "no removal: " << observer_.story();
}

// A receive buffer the kernel's minimum, and thirty taps created while the
// monitor does not read: the overrun is answered with a full dump.
TEST_F(NetdevFeaturesTest, OverrunResynchronisesFromAFullDump) {
    start_monitor(1);
    std::string batch;
    for (int n = 0; n < 30; ++n) {
        batch += "tuntap add dev tap" + std::to_string(n) + " mode tap\n";
    }
    sh("printf '" + batch + "' | " + host_->ip() + "-batch -");
    std::vector<uint32_t> taps;
    for (int n = 0; n < 30; ++n) {
        taps.push_back(ifindex("tap" + std::to_string(n)));
    }
    const auto all_known = [&] {
        for (uint32_t tap : taps) {
            if (!(observer_.features(tap) & xdp_feature::ndo_xmit)) {
                return false;
            }
        }
        return true;
    };
    ASSERT_TRUE(run_until([&] { return all_known() && monitor_->resyncs() > 0; }))
        << monitor_->resyncs() << " resync(s): " << observer_.story();
    EXPECT_GE(observer_.snapshots.size(), 2u);
    EXPECT_EQ(observer_.snapshots.back().size(), taps.size() + 1) << "lo and the taps";
}

// What the monitor's "unavailable" rests on: nlctrl answers ENOENT for a
// family this kernel does not have, as Debian's 6.1 does for netdev.
TEST(GenericFamilyTest, AnAbsentFamilyIsENOENTAndNetdevIsHere) {
    netlink::MnlSocket socket(mnl_socket_open(NETLINK_GENERIC));
    ASSERT_TRUE(socket);
    ASSERT_EQ(mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID), 0);
    netlink::FamilyReply reply =
        netlink::resolve_generic_family(socket.get(), "xconnect-absent", "mgmt");
    EXPECT_FALSE(reply.family);
    EXPECT_EQ(reply.error, ENOENT);

    reply = netlink::resolve_generic_family(socket.get(), "netdev", "mgmt");
    ASSERT_TRUE(reply.family) << errno_text(reply.error);
    EXPECT_NE(reply.family->id, 0u);
    EXPECT_NE(reply.family->group, 0u);
    reply = netlink::resolve_generic_family(socket.get(), "netdev", "no-such-group");
    EXPECT_EQ(reply.error, EPROTO);
}

}  // namespace
}  // namespace xconnect
