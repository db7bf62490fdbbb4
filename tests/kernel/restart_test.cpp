// Restarts without a lost frame: xconnectd killed, stopped with
// --keep-dataplane, restarted on a changed configuration or after interfaces
// changed while no daemon ran, bpffs missing, and --flush. Every scenario
// streams numbered frames across a pair it does not touch and counts them.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

#include "daemon_fixture.hpp"
#include "xconnect_maps.h"

namespace xconnect {
namespace {

using namespace test;

// Two pairs: xconnect-1<->xconnect-2, metered, which no scenario touches, and
// xconnect-3<->xconnect-4, which some change. The state directory carries the
// tests' marker, so a killed run's pins are swept.
class RestartTest : public DaemonTest {
  protected:
    static constexpr const char* two_pairs =
        "links:\n  xconnect-1: xconnect-2\n  xconnect-3: xconnect-4\n";

    void SetUp() override {
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        peers_.push_back(std::make_unique<Netns>("ns4"));
        add_veth("xconnect-4", *peers_.back(), "xc-4", "169.254.1.40/24");
        state_dir_ = fs::path("/sys/fs/bpf") / ("xconnect-test-" + unique_suffix());
    }

    void TearDown() override {
        meter_.reset();
        DaemonTest::TearDown();
        std::error_code ignored;
        fs::remove_all(state_dir_, ignored);
    }

    // xconnectd on `config_text` with the test's state directory.
    void start(const std::string& config_text, std::vector<std::string> extra = {}) {
        extra.insert(extra.begin(), {"--state-dir", state_dir_.string()});
        start_daemon(config_text, extra);
        expect_applied();
    }

    // Another build of xconnectd (an upgrade), as the unit runs it.
    void start_build(const std::string& binary, const std::string& config_text) {
        replace_by_rename(config_, config_text);
        std::vector<std::string> command = xconnectd_as_the_unit_runs_it(
            {"--no-bus", "--config", config_.string(), "--state-dir", state_dir_.string()});
        std::replace(command.begin(), command.end(), std::string(XCONNECTD_PATH), binary);
        const std::string program = command.front();
        command.erase(command.begin());
        daemon_ = std::make_unique<ChildProcess>(program, command, host_.get());
        expect_applied();
    }

    // Both pairs active, numbered frames flowing across the first.
    void start_metered(std::vector<std::string> extra = {}) {
        start(two_pairs, extra);
        meter_ = std::make_unique<LossMeter>(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2",
                                             "169.254.1.20");
        ASSERT_NO_THROW(meter_->wait_until_flowing());
    }

    void expect_nothing_lost() {
        const LossReport report = meter_->stop();
        EXPECT_GT(report.received, 0u);
        EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
        std::cout << "  untouched pair: " << report.summary() << "\n";
        received_ = report.received;
    }

    uint32_t ifindex(const std::string& ifname) {
        NetnsScope inside(*host_);
        return if_nametoindex(ifname.c_str());
    }

    fs::path layout_dir(int layout = XC_LAYOUT_VERSION) const {
        return state_dir_ / ("layout-" + std::to_string(layout));
    }

    UniqueFd pinned_map(const std::string& name, int layout = XC_LAYOUT_VERSION) {
        UniqueFd map(bpf_obj_get((layout_dir(layout) / name).c_str()));
        EXPECT_TRUE(map) << "no map pinned at " << layout_dir(layout) / name;
        return map;
    }

    uint32_t pinned_map_id(const std::string& name) {
        UniqueFd map = pinned_map(name);
        bpf_map_info info{};
        uint32_t length = sizeof info;
        EXPECT_EQ(bpf_obj_get_info_by_fd(map.get(), &info, &length), 0);
        return info.id;
    }

    // Programs pinned in a layout's directory.
    int pinned_programs(int layout = XC_LAYOUT_VERSION) {
        int count = 0;
        for (const auto& entry : fs::directory_iterator(layout_dir(layout))) {
            count += entry.path().filename().string().starts_with("xdp-program-");
        }
        return count;
    }

    // The pinned redirect map: ingress ifindex -> egress ifindex.
    std::map<uint32_t, uint32_t> redirects(int layout = XC_LAYOUT_VERSION) {
        std::map<uint32_t, uint32_t> entries;
        UniqueFd map = pinned_map("xc_ports", layout);
        uint32_t key = 0;
        for (const uint32_t* previous = nullptr;
             map && bpf_map_get_next_key(map.get(), previous, &key) == 0; previous = &key) {
            uint32_t value = 0;
            if (bpf_map_lookup_elem(map.get(), &key, &value) == 0) {
                entries[key] = value;
            }
        }
        return entries;
    }

    // Frames counted at `ifindex`'s ingress, summed over CPUs, read from the
    // pins (of a layout with `slot_count` counter slots).
    uint64_t packets_counted(uint32_t ifindex, int layout = XC_LAYOUT_VERSION,
                             uint32_t slot_count = XC_COUNTER_SLOTS) {
        const int cpus = libbpf_num_possible_cpus();
        std::vector<xc_counter_slot> slots(cpus);
        uint32_t slot = ifindex & (slot_count - 1);
        UniqueFd slot_map = pinned_map("xc_counter_slots", layout);
        uint64_t sum = 0;
        if (slot_map && bpf_map_lookup_elem(slot_map.get(), &slot, slots.data()) == 0 &&
            slots.front().owner == ifindex) {
            for (const xc_counter_slot& cpu : slots) {
                sum += cpu.counters.packets;
            }
            return sum;
        }
        std::vector<xc_port_counters> counters(cpus);
        UniqueFd hash = pinned_map("xc_counters", layout);
        if (hash && bpf_map_lookup_elem(hash.get(), &ifindex, counters.data()) == 0) {
            for (const xc_port_counters& cpu : counters) {
                sum += cpu.packets;
            }
        }
        return sum;
    }

    std::map<std::string, uint32_t> programs() {
        std::map<std::string, uint32_t> ids;
        for (const char* ifname : {"xconnect-1", "xconnect-2", "xconnect-3", "xconnect-4"}) {
            ids[ifname] = xdp_program_on(ifname);
        }
        return ids;
    }

    void kill_daemon() {
        daemon_->signal(SIGKILL);
        EXPECT_EQ(daemon_->wait_exit(), 128 + SIGKILL);
    }

    fs::path state_dir_;
    std::unique_ptr<LossMeter> meter_;
    uint64_t received_ = 0;
};

TEST_F(RestartTest, KilledAndRestartedUnderTheUnitsCapabilitiesLosesNothingAndCountsOn) {
    start_metered();
    const auto before = programs();
    const uint32_t xconnect_1 = ifindex("xconnect-1");
    kill_daemon();
    const uint64_t counted_at_kill = packets_counted(xconnect_1);
    EXPECT_GT(counted_at_kill, 0u);

    start(two_pairs);  // start_daemon() runs it as the unit does
    EXPECT_TRUE(daemon_->logged("kept XDP program id " + std::to_string(before.at("xconnect-1"))));
    EXPECT_EQ(programs(), before) << "the running program was kept, not replaced";
    expect_nothing_lost();
    // Counted on, not from 0: at least every frame of the stream.
    EXPECT_GE(packets_counted(xconnect_1), received_);
    EXPECT_GT(packets_counted(xconnect_1), counted_at_kill);
}

TEST_F(RestartTest, SigtermWithKeepDataplaneLeavesEverythingForwardingForTheNextDaemon) {
    start_metered({"--keep-dataplane"});
    const auto before = programs();
    const auto entries = redirects();
    EXPECT_EQ(daemon_->terminate(), 0);
    EXPECT_TRUE(daemon_->logged("every pair keeps forwarding for the next xconnectd"));
    EXPECT_EQ(programs(), before) << "SIGTERM with --keep-dataplane detached something";
    EXPECT_EQ(redirects(), entries);

    start(two_pairs, {"--keep-dataplane"});
    EXPECT_EQ(programs(), before);
    expect_nothing_lost();
    EXPECT_GE(packets_counted(ifindex("xconnect-1")), received_);
}

TEST_F(RestartTest, WithoutKeepDataplaneSigtermDetachesAndUnpinsEverything) {
    start(two_pairs);
    EXPECT_TRUE(fs::exists(layout_dir() / "xc_ports"));
    EXPECT_EQ(daemon_->terminate(), 0);
    for (const auto& [ifname, id] : programs()) {
        EXPECT_EQ(id, 0u) << ifname;
    }
    EXPECT_FALSE(fs::exists(state_dir_)) << "pins left behind";
}

TEST_F(RestartTest, AChangedConfigurationTouchesOnlyTheChangedPair) {
    start_metered();
    const auto before = programs();
    const auto entries = redirects();
    const uint32_t xconnect_1 = ifindex("xconnect-1");
    const uint32_t xconnect_2 = ifindex("xconnect-2");
    const uint32_t xconnect_3 = ifindex("xconnect-3");
    kill_daemon();

    // xconnect-3 now reflects into itself; xconnect-4 is in no pair.
    start("links:\n  xconnect-1: xconnect-2\n  xconnect-3: xconnect-3\n");
    EXPECT_TRUE(daemon_->logged("xconnect-4: no pair uses it now")) << daemon_->log_text();
    const auto after = programs();
    EXPECT_EQ(after.at("xconnect-1"), before.at("xconnect-1"));
    EXPECT_EQ(after.at("xconnect-2"), before.at("xconnect-2"));
    EXPECT_EQ(after.at("xconnect-3"), before.at("xconnect-3"));
    EXPECT_EQ(after.at("xconnect-4"), 0u) << "the interface left in no pair keeps a program";
    const auto now = redirects();
    EXPECT_EQ(now.at(xconnect_1), entries.at(xconnect_1));
    EXPECT_EQ(now.at(xconnect_2), entries.at(xconnect_2));
    EXPECT_EQ(now.at(xconnect_3), xconnect_3);
    EXPECT_EQ(now.size(), 3u);
    expect_nothing_lost();
}

TEST_F(RestartTest, InterfacesDeletedAndRecreatedWhileNoDaemonRanAreCleanedUpAndReconnected) {
    start_metered();
    const auto before = programs();
    const uint32_t old_xconnect_4 = ifindex("xconnect-4");
    kill_daemon();
    sh(host_->ip() + "link del xconnect-4");
    add_veth("xconnect-4", *peers_[3], "xc-4", "169.254.1.41/24");
    const uint32_t new_xconnect_4 = ifindex("xconnect-4");
    ASSERT_NE(new_xconnect_4, old_xconnect_4);

    start(two_pairs);
    EXPECT_TRUE(daemon_->logged("ifindex " + std::to_string(old_xconnect_4) +
                                " (gone): no pair uses it now"))
        << daemon_->log_text();
    const auto now = redirects();
    EXPECT_EQ(now.at(ifindex("xconnect-3")), new_xconnect_4);
    EXPECT_EQ(now.at(new_xconnect_4), ifindex("xconnect-3"));
    EXPECT_FALSE(now.contains(old_xconnect_4)) << "the deleted interface's entry is left";
    EXPECT_EQ(packets_counted(old_xconnect_4), 0u) << "the deleted interface's counters are left";
    EXPECT_EQ(xdp_program_on("xconnect-1"), before.at("xconnect-1"));
    EXPECT_EQ(xdp_program_on("xconnect-4"), before.at("xconnect-1")) << "the same program";
    expect_nothing_lost();
}

TEST_F(RestartTest, AnUpgradeToAnotherProgramSwapsItAtomicallyOnTheSameMaps) {
    start_metered();
    const auto before = programs();
    const uint32_t ports_map = pinned_map_id("xc_ports");
    const auto entries = redirects();
    kill_daemon();

    start_build(XCONNECTD_VARIANT_PROGRAM_PATH, two_pairs);
    EXPECT_TRUE(
        daemon_->logged("taking over XDP program id " + std::to_string(before.at("xconnect-1"))));
    const auto after = programs();
    for (const auto& [ifname, id] : after) {
        EXPECT_NE(id, before.at(ifname)) << ifname << " still runs the old program";
        EXPECT_EQ(id, after.at("xconnect-1")) << ifname;
    }
    EXPECT_EQ(pinned_map_id("xc_ports"), ports_map) << "the maps were not reused";
    EXPECT_EQ(redirects(), entries);
    EXPECT_EQ(pinned_programs(), 1) << "the old program is still pinned";
    expect_nothing_lost();
    EXPECT_GE(packets_counted(ifindex("xconnect-1")), received_) << "the counters went on";
}

TEST_F(RestartTest, AnUpgradeToANewLayoutFillsNewMapsCarriesTheCountersAndUnpinsTheOld) {
    constexpr int new_layout =
        XC_LAYOUT_VERSION + 1;  // tests/CMakeLists.txt: xconnect_bpf_variant_layout
    constexpr uint32_t new_slot_count = 2048;
    start_metered();
    const auto before = programs();
    const auto entries = redirects();
    const uint32_t xconnect_1 = ifindex("xconnect-1");
    kill_daemon();
    const uint64_t counted_at_kill = packets_counted(xconnect_1);

    start_build(XCONNECTD_VARIANT_LAYOUT_PATH, two_pairs);
    EXPECT_TRUE(daemon_->logged("carried the counters of 4 interfaces over from layout-" +
                                std::to_string(XC_LAYOUT_VERSION)))
        << daemon_->log_text();
    for (const auto& [ifname, id] : programs()) {
        EXPECT_NE(id, before.at(ifname)) << ifname << " still runs the old program";
    }
    EXPECT_EQ(redirects(new_layout), entries);
    EXPECT_FALSE(fs::exists(layout_dir())) << "the old layout is still pinned";
    expect_nothing_lost();
    EXPECT_GE(packets_counted(xconnect_1, new_layout, new_slot_count), counted_at_kill);
    EXPECT_EQ(daemon_->terminate(), 0);
    EXPECT_FALSE(fs::exists(state_dir_));
}

TEST_F(RestartTest, FlushLeavesNothingAttachedOrPinnedAndNoOneElsesProgramTouched) {
    start(two_pairs, {"--keep-dataplane"});
    EXPECT_EQ(daemon_->terminate(), 0);
    replace_by_rename(config_, "links: {}\n");
    // Someone else's program on an interface of the same namespace.
    sh(host_->ip() + "link add name foreign-xdp type veth peer name foreign-peer");
    uint32_t foreign_id = 0;
    ASSERT_NO_THROW(foreign_id = attach_foreign_xdp_program("foreign-xdp"));

    ChildProcess flush(XCONNECTD_PATH, {"--flush", "--state-dir", state_dir_.string()},
                       host_.get());
    EXPECT_EQ(flush.wait_exit(), 0) << flush.log_text();
    EXPECT_TRUE(flush.logged("detached 4 programs")) << flush.log_text();
    for (const auto& [ifname, id] : programs()) {
        EXPECT_EQ(id, 0u) << ifname;
    }
    EXPECT_EQ(xdp_program_on("foreign-xdp"), foreign_id);
    EXPECT_FALSE(fs::exists(state_dir_)) << "pins left behind";
}

TEST_F(RestartTest, FlushOfAllNamespacesEntersEachOneThatHasState) {
    // One daemon in the host namespace, another in ns3, each in its
    // namespace's default state directory, both stopped leaving everything.
    start_daemon(two_pairs, {"--keep-dataplane"});
    expect_applied();
    const Netns& other = *peers_[2];
    sh(other.ip() + "link add name inner-a type veth peer name inner-b");
    sh(other.ip() + "link set inner-a up");
    sh(other.ip() + "link set inner-b up");
    const fs::path other_config = config_dir_ / "other.yaml";
    replace_by_rename(other_config, "links:\n  inner-a: inner-b\n");
    std::vector<std::string> command = xconnectd_as_the_unit_runs_it(
        {"--no-bus", "--keep-dataplane", "--config", other_config.string()});
    const std::string program = command.front();
    command.erase(command.begin());
    auto other_daemon = std::make_unique<ChildProcess>(program, command, &other);
    ASSERT_NO_THROW(other_daemon->expect_log("config " + other_config.string() + " applied"));
    EXPECT_EQ(daemon_->terminate(), 0);
    EXPECT_EQ(other_daemon->terminate(), 0);
    auto state_of = [](const Netns& netns) {
        struct stat inode {};
        EXPECT_EQ(stat(netns.path().c_str(), &inode), 0);
        return fs::path("/sys/fs/bpf/xconnect") / std::to_string(inode.st_ino);
    };
    ASSERT_TRUE(fs::exists(state_of(*host_)));
    ASSERT_TRUE(fs::exists(state_of(other)));
    EXPECT_NE(xdp_program_on("xconnect-1"), 0u);

    ChildProcess flush(XCONNECTD_PATH, {"--flush", "--all-namespaces"}, nullptr);
    EXPECT_EQ(flush.wait_exit(), 0) << flush.log_text();
    EXPECT_TRUE(flush.logged("detached 6 programs")) << flush.log_text();
    for (const auto& [ifname, id] : programs()) {
        EXPECT_EQ(id, 0u) << ifname;
    }
    {
        NetnsScope inside(other);
        uint32_t id = 0;
        EXPECT_EQ(bpf_xdp_query_id(static_cast<int>(if_nametoindex("inner-a")), 0, &id), 0);
        EXPECT_EQ(id, 0u) << "inner-a, in the other namespace";
    }
    EXPECT_FALSE(fs::exists(state_of(*host_)));
    EXPECT_FALSE(fs::exists(state_of(other)));
}

TEST_F(RestartTest, WithoutBpffsARootDaemonMountsItAndItsSuccessorLosesNothing) {
    // A mount namespace without bpffs, held by a process of its own, so that
    // what the first daemon mounts there outlives it for the next one.
    ChildProcess mounts("/usr/bin/unshare",
                        {"--mount", "--propagation", "private", "--", "sh", "-c",
                         "while umount /sys/fs/bpf 2>/dev/null; do :; done; "
                         "echo without bpffs >&2; exec sleep infinity"},
                        host_.get());
    ASSERT_NO_THROW(mounts.expect_log("without bpffs"));
    const std::string in_mounts = "--mount=/proc/" + std::to_string(mounts.pid()) + "/ns/mnt";
    replace_by_rename(config_, two_pairs);
    auto start_as_root = [&] {
        daemon_ = std::make_unique<ChildProcess>(
            "/usr/bin/nsenter",
            std::vector<std::string>{in_mounts, "--", XCONNECTD_PATH, "--no-bus", "--config",
                                     config_.string()},
            host_.get());
        expect_applied();
    };
    start_as_root();
    EXPECT_TRUE(daemon_->logged("mounted bpffs at /sys/fs/bpf")) << daemon_->log_text();
    struct stat host_netns {};
    ASSERT_EQ(stat(host_->path().c_str(), &host_netns), 0);
    const fs::path pins = fs::path("/proc") / std::to_string(mounts.pid()) / "root/sys/fs/bpf" /
                          "xconnect" / std::to_string(host_netns.st_ino) /
                          ("layout-" + std::to_string(XC_LAYOUT_VERSION));
    EXPECT_TRUE(fs::exists(pins / "xc_ports")) << pins;
    meter_ = std::make_unique<LossMeter>(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2",
                                         "169.254.1.20");
    ASSERT_NO_THROW(meter_->wait_until_flowing());
    const auto before = programs();
    kill_daemon();

    start_as_root();
    EXPECT_FALSE(daemon_->logged("mounted bpffs")) << "bpffs should have stayed mounted";
    EXPECT_EQ(programs(), before);
    expect_nothing_lost();
    EXPECT_EQ(daemon_->terminate(), 0);
    EXPECT_FALSE(fs::exists(pins)) << "pins left behind";
}

TEST_F(RestartTest, WithoutBpffsADaemonWithTheUnitsCapabilitiesSaysWhyAndStillForwards) {
    replace_by_rename(config_, two_pairs);
    std::vector<std::string> command =
        xconnectd_as_the_unit_runs_it({"--no-bus", "--config", config_.string()});
    command.insert(command.begin(),
                   {"--mount", "--propagation", "private", "--", "sh", "-c",
                    "while umount /sys/fs/bpf 2>/dev/null; do :; done; exec \"$@\"", "sh"});
    daemon_ = std::make_unique<ChildProcess>("/usr/bin/unshare", command, host_.get());
    expect_log("no bpffs at /sys/fs/bpf, and mounting it needs CAP_SYS_ADMIN");
    EXPECT_TRUE(daemon_->logged("running unpinned"));
    expect_applied();
    EXPECT_TRUE(reachable(1, "169.254.1.20")) << "unpinned, it still forwards";
    EXPECT_EQ(daemon_->terminate(), 0);
}

}  // namespace
}  // namespace xconnect
