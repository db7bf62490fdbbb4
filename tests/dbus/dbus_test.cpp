// The D-Bus contract (docs/dbus-api.md) end to end: a private system bus
// that D-Bus-activates the freshly built xconnectd in a test namespace, real
// polkitd, unprivileged users, and the clients people use: busctl, gdbus and
// a GDBus ObjectManagerClient like a GUI frontend's.
#include <gtest/gtest.h>
#include <net/if.h>
#include <signal.h>

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <regex>

#include "bus_fixture.hpp"
#include "loss_meter.hpp"
#include "user_readable.hpp"

namespace xconnect {
namespace {

using namespace test;

TEST_F(BusTest, FirstCallActivatesTheDaemonAndAPairAddedOverTheBusForwards) {
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2"),
              "o \"/org/xconnect/pair/xconnect_2d1\"\n");
    ASSERT_NO_THROW(bus_->log().expect_log("Activating service name='org.xconnect'"));
    ASSERT_NO_THROW(bus_->log().expect_log("xconnect-1<->xconnect-2: added, active (generic)"));
    const std::string pair = "/org/xconnect/pair/xconnect_2d1";
    EXPECT_EQ(property(pair, "State"), "s \"active\"\n");
    EXPECT_EQ(property(pair, "Mode"), "s \"generic\"\n");

    // The peers' own chatter (IPv6 neighbour discovery) may cross too: compare.
    const uint64_t left_before = counter(pair, "LeftToRightPackets");
    const uint64_t right_before = counter(pair, "RightToLeftPackets");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    EXPECT_GT(counter(pair, "LeftToRightPackets"), left_before);
    EXPECT_GT(counter(pair, "RightToLeftPackets"), right_before);
    EXPECT_GE(counter(pair, "LeftToRightBytes"), 28 * counter(pair, "LeftToRightPackets"));
    EXPECT_GT(counter(pair, "RightToLeftBytes"), 0u);

    EXPECT_NE(read_file(config_).find("xconnect-1: xconnect-2"), std::string::npos)
        << read_file(config_);
}

// The unit's user (in the second pass, as xconnect) and exactly its two
// capabilities: nothing more is effective, permitted or inheritable, and
// nothing can be regained (bounding set, no_new_privs).
TEST_F(BusTest, TheActivatedDaemonRunsAsTheUnitsUserWithExactlyItsTwoCapabilities) {
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2"),
              "o \"/org/xconnect/pair/xconnect_2d1\"\n");
    const pid_t pid = bus_->owner_pid("org.xconnect");
    ASSERT_GT(pid, 0);
    std::map<std::string, std::string> status;
    std::ifstream file("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(file, line);) {
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            const auto value = line.find_first_not_of(" \t", colon + 1);
            status[line.substr(0, colon)] =
                value == std::string::npos ? std::string() : line.substr(value);
        }
    }
    // CAP_NET_ADMIN (12), CAP_PERFMON (38) and CAP_BPF (39).
    const std::string unit_capabilities = "000000c000001000";
    EXPECT_EQ(status["CapEff"], unit_capabilities);
    EXPECT_EQ(status["CapPrm"], unit_capabilities);
    EXPECT_EQ(status["CapBnd"], unit_capabilities);
    EXPECT_EQ(status["NoNewPrivs"], "1");
    const uid_t uid = daemon_user_ ? daemon_user_->uid() : 0;
    EXPECT_TRUE(status["Uid"].starts_with(std::to_string(uid) + "\t")) << status["Uid"];
    EXPECT_NO_THROW(bus_->log().expect_log("running as user " + daemon_user().value_or("root") +
                                           " (uid " + std::to_string(uid) +
                                           ") with CAP_NET_ADMIN CAP_PERFMON CAP_BPF"));
    // They are enough for the warm tap too (the unit gives it /dev/net/tun).
    EXPECT_NO_THROW(bus_->log().expect_log("warm tap: xconnect-warm0 (ifindex " +
                                           std::to_string(host_ifindex("xconnect-warm0")) + ")"));
    // What it pins is its own (as the unit's ExecStartPre= leaves it).
    struct stat pin {};
    const auto state = "/sys/fs/bpf/xconnect/" + std::to_string([&] {
                           struct stat netns {};
                           ::stat(host_->path().c_str(), &netns);
                           return netns.st_ino;
                       }());
    ASSERT_EQ(::stat(state.c_str(), &pin), 0) << state;
    EXPECT_EQ(pin.st_uid, uid) << state;
}

TEST_F(BusTest, EveryMethodAndProperty) {
    const std::string pair = "/org/xconnect/pair/xconnect_2d1";
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    // Idempotent, in either order.
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-2 xconnect-1"),
              "o \"" + pair + "\"\n");
    // A self-pair, and a pair for an interface that does not exist yet.
    busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-3");
    busctl(std::string("call ") + manager + "AddPair ss zz-later zz-later2");
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"),
              "a(ssso) 3 \"xconnect-1\" \"xconnect-2\" \"active\" \"" + pair +
                  "\" \"xconnect-3\" \"xconnect-3\" \"active\" "
                  "\"/org/xconnect/pair/xconnect_2d3\" \"zz-later\" \"zz-later2\" \"pending\" "
                  "\"/org/xconnect/pair/zz_2dlater\"\n");
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPair s xconnect-2"),
              "o \"" + pair + "\"\n");
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPair s xconnect-1"),
              "o \"" + pair + "\"\n");

    EXPECT_EQ(property(pair, "Left"), "s \"xconnect-1\"\n");
    EXPECT_EQ(property(pair, "Right"), "s \"xconnect-2\"\n");
    EXPECT_EQ(property(pair, "LeftIfindex"),
              "u " + std::to_string(host_ifindex("xconnect-1")) + "\n");
    EXPECT_EQ(property(pair, "RightIfindex"),
              "u " + std::to_string(host_ifindex("xconnect-2")) + "\n");
    EXPECT_EQ(property(pair, "Error"), "s \"\"\n");
    EXPECT_EQ(property(pair, "Warning"), "s \"\"\n");
    EXPECT_EQ(property(pair, "LeftMode"), "s \"generic\"\n");
    EXPECT_EQ(property(pair, "RightMode"), "s \"generic\"\n");
    // The peers run no NAPI (GRO off, no XDP program): no native redirect into them.
    EXPECT_EQ(property(pair, "ModeReason").rfind("s \"xconnect-1: generic: ", 0), 0u)
        << property(pair, "ModeReason");
    EXPECT_EQ(property(pair, "LeftOperState"), "s \"up\"\n");
    EXPECT_EQ(property(pair, "RightOperState"), "s \"up\"\n");
    const std::string later = "/org/xconnect/pair/zz_2dlater";
    EXPECT_EQ(property(later, "State"), "s \"pending\"\n");
    EXPECT_EQ(property(later, "Mode"), "s \"\"\n");
    EXPECT_EQ(property(later, "LeftMode"), "s \"\"\n");
    EXPECT_EQ(property(later, "ModeReason"), "s \"\"\n");
    EXPECT_EQ(property(later, "LeftIfindex"), "u 0\n");
    EXPECT_EQ(property(later, "LeftOperState"), "s \"\"\n");

    EXPECT_EQ(busctl("get-property org.xconnect /org/xconnect org.xconnect.Manager Version"),
              "s \"0.1.0\"\n");
    EXPECT_EQ(busctl("get-property org.xconnect /org/xconnect org.xconnect.Manager ConfigFile"),
              "s \"" + config_.string() + "\"\n");
    const std::string objects = busctl(
        "call org.xconnect /org/xconnect org.freedesktop.DBus.ObjectManager "
        "GetManagedObjects");
    EXPECT_EQ(objects.rfind("a{oa{sa{sv}}} 3 ", 0), 0u) << objects;

    // Pair.Remove and RemovePair (by either side) remove and persist.
    busctl("call org.xconnect " + later + " org.xconnect.Pair Remove");
    busctl(std::string("call ") + manager + "RemovePair s xconnect-2");
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"),
              "a(ssso) 1 \"xconnect-3\" \"xconnect-3\" \"active\" "
              "\"/org/xconnect/pair/xconnect_2d3\"\n");
    EXPECT_EQ(read_file(config_).find("xconnect-1"), std::string::npos) << read_file(config_);
    EXPECT_TRUE(unreachable(1, "169.254.1.20"));

    // Reload applies a file edited by hand (whatever the watcher did already).
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
    busctl(std::string("call ") + manager + "Reload");
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"),
              "a(ssso) 1 \"xconnect-1\" \"xconnect-2\" \"active\" \"" + pair + "\"\n");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(BusTest, BadInputGetsTheContractsErrorAndChangesNothing) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    const std::string before = busctl(std::string("call ") + manager + "ListPairs");
    const std::string file_before = read_file(config_);

    for (const std::string& bad :
         {std::string("''"), std::string("abcdefghijklmnop"), std::string("."), std::string(".."),
          std::string("a/b"), std::string("a:b"), std::string("'a b'"), std::string(100000, 'x')}) {
        SCOPED_TRACE("name " + bad.substr(0, 20));
        const Outcome refused = gdbus("org.xconnect.Manager.AddPair " + bad + " xconnect-3");
        expect_error(refused, "org.xconnect.Error.InvalidName");
        // What is quoted back is bounded, whatever came in.
        EXPECT_LT(refused.output.size(), 512u) << refused.output.substr(0, 512);
        expect_error(gdbus("org.xconnect.Manager.AddPair xconnect-3 " + bad),
                     "org.xconnect.Error.InvalidName");
        expect_error(gdbus("org.xconnect.Manager.GetPair " + bad),
                     "org.xconnect.Error.InvalidName");
        expect_error(gdbus("org.xconnect.Manager.RemovePair " + bad),
                     "org.xconnect.Error.InvalidName");
    }
    expect_error(gdbus("org.xconnect.Manager.AddPair xconnect-2 xconnect-3"),
                 "org.xconnect.Error.InUse");
    expect_error(gdbus("org.xconnect.Manager.AddPair xconnect-3 xconnect-1"),
                 "org.xconnect.Error.InUse");
    expect_error(gdbus("org.xconnect.Manager.GetPair xconnect-3"), "org.xconnect.Error.NoSuchPair");
    expect_error(gdbus("org.xconnect.Manager.RemovePair xconnect-3"),
                 "org.xconnect.Error.NoSuchPair");
    expect_error(gdbus("org.freedesktop.DBus.Properties.Get org.xconnect.Pair State", nullptr,
                       "/org/xconnect/pair/nope"),
                 "org.freedesktop.DBus.Error.UnknownObject");

    // A bad file: Reload fails with InvalidConfig, saying where and why.
    replace_by_rename(config_, "links:\n  xconnect-1: [xconnect-2\n");
    const Outcome reload = gdbus("org.xconnect.Manager.Reload");
    expect_error(reload, "org.xconnect.Error.InvalidConfig");
    EXPECT_NE(reload.output.find(config_.string() + ":"), std::string::npos) << reload.output;

    // A file of random bytes: still an InvalidConfig reply (sd-bus sends only
    // valid UTF-8), bounded, naming the file.
    std::string garbage;
    for (int n = 0; n < 65536; ++n) {
        garbage += static_cast<char>((n * 2654435761u) >> 24);
    }
    replace_by_rename(config_, garbage);
    const Outcome garbage_reload = gdbus("org.xconnect.Manager.Reload");
    expect_error(garbage_reload, "org.xconnect.Error.InvalidConfig");
    EXPECT_NE(garbage_reload.output.find(config_.string()), std::string::npos)
        << garbage_reload.output.substr(0, 512);
    EXPECT_LT(garbage_reload.output.size(), 2048u) << garbage_reload.output.substr(0, 512);
    EXPECT_FALSE(bus_->log().logged("is not valid UTF-8")) << "the reply was refused by sd-bus";

    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), before);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    replace_by_rename(config_, file_before);
}

TEST_F(BusTest, PolkitDecidesForEveryoneButRoot) {
    start_polkit();
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");  // root
    const std::string file_before = read_file(config_);

    // Outside the granted group: refused, and nothing changes. Without
    // interaction polkit's auth_admin becomes InteractiveAuthorizationRequired;
    // with it (busctl's default) there is no agent to ask, so AccessDenied.
    expect_error(gdbus("org.xconnect.Manager.AddPair xconnect-3 xconnect-3", outsider_.get()),
                 "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
    const Outcome interactive =
        run(outsider_->run_as() + "busctl call " + manager + "AddPair ss xconnect-3 xconnect-3");
    EXPECT_NE(interactive.status, 0);
    EXPECT_NE(interactive.output.find("Access denied"), std::string::npos) << interactive.output;
    expect_error(gdbus("org.xconnect.Manager.RemovePair xconnect-1", outsider_.get()),
                 "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
    expect_error(gdbus("org.xconnect.Manager.Reload", outsider_.get()),
                 "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
    expect_error(
        gdbus("org.xconnect.Pair.Remove", outsider_.get(), "/org/xconnect/pair/xconnect_2d1"),
        "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
    EXPECT_EQ(read_file(config_), file_before);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    // ... but may read everything.
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs", outsider_.get()),
              "a(ssso) 1 \"xconnect-1\" \"xconnect-2\" \"active\" "
              "\"/org/xconnect/pair/xconnect_2d1\"\n");
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPair s xconnect-1", outsider_.get()),
              "o \"/org/xconnect/pair/xconnect_2d1\"\n");
    EXPECT_EQ(busctl("get-property org.xconnect /org/xconnect/pair/xconnect_2d1 "
                     "org.xconnect.Pair State",
                     outsider_.get()),
              "s \"active\"\n");

    // In the group the rules file grants: allowed.
    EXPECT_EQ(
        busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-3", member_.get()),
        "o \"/org/xconnect/pair/xconnect_2d3\"\n");
    busctl(std::string("call ") + manager + "Reload", member_.get());
    busctl("call org.xconnect /org/xconnect/pair/xconnect_2d3 org.xconnect.Pair Remove",
           member_.get());
    busctl(std::string("call ") + manager + "RemovePair s xconnect-2", member_.get());
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), "a(ssso) 0\n");
}

// What a frontend asks before it offers anything: polkit's answer per action
// for the caller, without interaction.
TEST_F(BusTest, GetPermissionsSaysWhatPolkitWouldAllowEachCaller) {
    start_polkit();
    const std::string granted =
        "a{ss} 3 \"org.xconnect.capture\" \"yes\" \"org.xconnect.manage-pairs\" \"yes\" "
        "\"org.xconnect.reload\" \"yes\"\n";
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPermissions"), granted);  // root
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPermissions", member_.get()), granted);
    // The action file's auth_admin: allowed after authenticating as an administrator.
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPermissions", outsider_.get()),
              "a{ss} 3 \"org.xconnect.capture\" \"auth\" \"org.xconnect.manage-pairs\" \"auth\" "
              "\"org.xconnect.reload\" \"auth\"\n");
}

// The picker's list: every link of the daemon's namespace, sorted by name,
// with what the kernel says of it, as it changes.
TEST_F(BusTest, ListInterfacesIsTheDaemonsNamespaceAsTheKernelReportsIt) {
    auto listed = [&] { return busctl(std::string("call ") + manager + "ListInterfaces"); };
    auto entry = [&](const std::string& name, const std::string& oper, const std::string& kind) {
        return "\"" + name + "\" " + std::to_string(host_ifindex(name)) + " \"" + oper + "\" \"" +
               kind + "\"";
    };
    const std::string first = listed();
    EXPECT_EQ(first.rfind("a(suss) ", 0), 0u) << first;
    // lo is no device of a kind; the test's veths are up. Sorted: lo first.
    const size_t lo = first.find(entry("lo", "unknown", ""));
    const size_t one = first.find(entry("xconnect-1", "up", "veth"));
    const size_t two = first.find(entry("xconnect-2", "up", "veth"));
    ASSERT_NE(lo, std::string::npos) << first;
    ASSERT_NE(one, std::string::npos) << first;
    ASSERT_NE(two, std::string::npos) << first;
    EXPECT_LT(lo, one);
    EXPECT_LT(one, two);
    // Only the daemon's namespace: xc-1 is in a peer's.
    EXPECT_EQ(first.find("\"xc-1\""), std::string::npos) << "a peer's name: " << first;

    // Names the kernel allows and no pair can hold (not UTF-8; a control
    // character) are left out, and the rest is still listed.
    sh(host_->ip() +
       "link add name \"$(printf 'xc\\377')\" type veth peer name \"$(printf 'xc\\033')\"");
    // A pair on xconnect-2 logs when the daemon has the kernel's news of it.
    busctl(std::string("call ") + manager + "AddPair ss xconnect-2 xconnect-3");
    sh(host_->ip() + "link set xconnect-2 down");
    ASSERT_NO_THROW(bus_->log().expect_log("xconnect-2<->xconnect-3: xconnect-2 is down"));
    const std::string last = listed();
    EXPECT_NE(last.find(entry("xconnect-2", "down", "veth")), std::string::npos) << last;
    // "a(suss) N ...": the same N as before the two were added.
    EXPECT_EQ(std::stoi(last.substr(8)), std::stoi(first.substr(8))) << last;
}

// One call for every pair's counters: the same numbers the properties give.
TEST_F(BusTest, GetAllCountersGivesEveryPairsCountersInOneCall) {
    const std::string pair = "/org/xconnect/pair/xconnect_2d1";
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    busctl(std::string("call ") + manager + "AddPair ss zz-later zz-later2");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    const std::vector<std::string> names = {"LeftToRightPackets", "LeftToRightBytes",
                                            "RightToLeftPackets", "RightToLeftBytes"};
    std::vector<uint64_t> before;
    for (const std::string& name : names) {
        before.push_back(counter(pair, name));
    }
    const std::string all = busctl(std::string("call ") + manager + "GetAllCounters");
    std::vector<uint64_t> after;
    for (const std::string& name : names) {
        after.push_back(counter(pair, name));
    }
    const std::string counters = R"re( "([^"]+)" (\d+) (\d+) (\d+) (\d+))re";
    const std::regex shape(R"re(a\(otttt\) 2)re" + counters + counters + "\n");
    std::smatch found;
    ASSERT_TRUE(std::regex_match(all, found, shape)) << all;
    EXPECT_EQ(found[1], pair);
    // The peers' own chatter may cross between the reads: in between.
    for (size_t i = 0; i < names.size(); ++i) {
        SCOPED_TRACE(names[i]);
        const uint64_t value = std::stoull(found[2 + i]);
        EXPECT_GE(value, before[i]);
        EXPECT_LE(value, after[i]);
    }
    EXPECT_GT(std::stoull(found[2]), 0u) << "the ping crossed";
    EXPECT_EQ(found[6], "/org/xconnect/pair/zz_2dlater");
    for (size_t i = 7; i <= 10; ++i) {
        EXPECT_EQ(found[i], "0") << "a pending pair has forwarded nothing";
    }
}

TEST_F(BusTest, WithoutPolkitOnlyRootMayChangeThings) {
    const Outcome refused =
        gdbus("org.xconnect.Manager.AddPair xconnect-1 xconnect-2", member_.get());
    expect_error(refused, "org.freedesktop.DBus.Error.AccessDenied");
    EXPECT_NE(refused.output.find("polkit"), std::string::npos) << refused.output;
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), "a(ssso) 0\n");
    EXPECT_EQ(busctl(std::string("call ") + manager + "GetPermissions", member_.get()),
              "a{ss} 3 \"org.xconnect.capture\" \"no\" \"org.xconnect.manage-pairs\" \"no\" "
              "\"org.xconnect.reload\" \"no\"\n");
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2"),
              "o \"/org/xconnect/pair/xconnect_2d1\"\n");
}

TEST_F(BusTest, GuiClientSeesPairsComeChangeAndGo) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    // A frontend runs as a user, who may read everything on the bus (and
    // nothing under the checkout, which may be in /root).
    const UserReadableCopy script({XCONNECT_SOURCE_DIR "/tests/dbus/gui_client.py"});
    gui_ = std::make_unique<ChildProcess>(
        "/usr/bin/setpriv",
        std::vector<std::string>{"--reuid=" + outsider_->name(), "--regid=" + outsider_->name(),
                                 "--init-groups", "--", "/usr/bin/python3",
                                 script["gui_client.py"].string()},
        nullptr, /*with_stdout=*/true);
    ASSERT_NO_THROW(gui_->expect_log("existing /org/xconnect/pair/xconnect_2d1 active"));
    ASSERT_NO_THROW(gui_->expect_log("ready"));

    // Added for an interface that does not exist yet: pending ...
    busctl(std::string("call ") + manager + "AddPair ss xconnect-3 late-0");
    ASSERT_NO_THROW(gui_->expect_log("added /org/xconnect/pair/xconnect_2d3 pending"));
    // ... active once it appears: PropertiesChanged carries what changed, only.
    auto ns4 = std::make_unique<Netns>("ns4");
    add_veth("late-0", *ns4, "lp-0", "169.254.1.40/24");
    const std::string changed = gui_->expect_log("changed /org/xconnect/pair/xconnect_2d3 ");
    EXPECT_NE(changed.find("State=active"), std::string::npos) << changed;
    EXPECT_NE(changed.find("Mode=generic"), std::string::npos) << changed;
    EXPECT_NE(changed.find("RightIfindex="), std::string::npos) << changed;
    EXPECT_NE(changed.find("RightOperState="), std::string::npos) << changed;
    for (const char* constant : {"Left=", "Right=", "LeftIfindex=", "Packets=", "Bytes="}) {
        EXPECT_EQ(changed.find(std::string(" ") + constant), std::string::npos)
            << constant << " is not news: " << changed;
    }
    // The next change of the pair but its DropReason: while xconnect-1 is
    // down, what the namespaces' own stacks send towards it is dropped, and
    // DropReason says so whenever that happens.
    auto next_change = [this](const std::string& path) {
        return gui_->expect_line(
            [&](const std::string& line) {
                return line.starts_with("changed " + path + " ") &&
                       line.find(" DropReason=") == std::string::npos;
            },
            "a change of " + path + " other than DropReason");
    };
    // An interface going down is news about its operational state only.
    sh(host_->ip() + "link set xconnect-1 down");
    EXPECT_EQ(next_change("/org/xconnect/pair/xconnect_2d1"),
              "changed /org/xconnect/pair/xconnect_2d1 LeftOperState=down");
    // Two MTUs that differ are a Warning while the pair stays active, and
    // the warning goes when they agree again.
    sh(host_->ip() + "link set xconnect-2 mtu 1400");
    EXPECT_EQ(next_change("/org/xconnect/pair/xconnect_2d1"),
              "changed /org/xconnect/pair/xconnect_2d1 Warning=frames above 1400 bytes are "
              "dropped: xconnect-2 MTU 1400 < xconnect-1 MTU 1500");
    EXPECT_EQ(property("/org/xconnect/pair/xconnect_2d1", "State"), "s \"active\"\n");
    EXPECT_EQ(property("/org/xconnect/pair/xconnect_2d1", "Error"), "s \"\"\n");
    sh(host_->ip() + "link set xconnect-2 mtu 1500");
    EXPECT_EQ(next_change("/org/xconnect/pair/xconnect_2d1"),
              "changed /org/xconnect/pair/xconnect_2d1 Warning=");

    busctl(std::string("call ") + manager + "RemovePair s late-0");
    ASSERT_NO_THROW(gui_->expect_log("removed /org/xconnect/pair/xconnect_2d3"));
    // Changes made by editing the file reach the frontend the same way.
    replace_by_rename(config_, "links:\n  xconnect-2: xconnect-3\n");
    ASSERT_NO_THROW(gui_->expect_logs({"removed /org/xconnect/pair/xconnect_2d1",
                                       "added /org/xconnect/pair/xconnect_2d2 active"}));
    gui_.reset();
    ns4.reset();
}

TEST_F(BusTest, PairsSurviveARestartAndOwnWritesAreNotReapplied) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    busctl(std::string("call ") + manager + "AddPair ss xconnect-3 gone-0");
    const std::string listed = busctl(std::string("call ") + manager + "ListPairs");
    ASSERT_NO_THROW(bus_->log().expect_log("xconnect-3<->gone-0: added over D-Bus"));
    bus_->stop_xconnectd();
    ASSERT_NO_THROW(bus_->log().expect_log("xconnectd: Terminated"));
    // The daemon never took its own writes for edits to apply.
    EXPECT_FALSE(bus_->log().logged("applied (changed)")) << bus_->log().log_text();

    EXPECT_EQ(bus_->owner_pid("org.xconnect"), 0);
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), listed);  // re-activated
    ASSERT_NO_THROW(bus_->log().expect_log("applied (start): 2 pairs: 1 active, 1 pending"));
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(BusTest, PairRemoveAnswersWithAnEmptyReplyFromRootAndThroughPolkit) {
    start_polkit();
    const std::string path = "/org/xconnect/pair/xconnect_2d1";
    for (const TestUser* caller :
         {static_cast<const TestUser*>(nullptr), static_cast<const TestUser*>(member_.get())}) {
        SCOPED_TRACE(caller ? "as " + caller->name() : std::string("as root"));
        busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
        // The reply is sent after the object is gone from the bus: it still
        // must be an ordinary empty method return.
        const Outcome removed = run((caller ? caller->run_as() : "") + "busctl call org.xconnect " +
                                    path + " org.xconnect.Pair Remove");
        EXPECT_EQ(removed.status, 0) << removed.output;
        EXPECT_EQ(removed.output, "");
        EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), "a(ssso) 0\n");
    }
}

// Signals emitted outside a bus callback (file and link changes) while
// dbus-daemon reads nothing pile up in sd-bus's queue, once the kernel's
// socket buffer (sd-bus asks for 8 MiB) is full; once the bus reads again,
// the daemon must flush all of them by itself, in order, without an incoming
// call to wake it.
TEST_F(BusTest, SignalsQueuedWhileTheBusIsStoppedAllArriveInOrder) {
    busctl(std::string("call ") + manager + "ListPairs");  // activates xconnectd
    ChildProcess recorder("/usr/bin/python3",
                          {XCONNECT_SOURCE_DIR "/tests/dbus/signal_recorder.py"}, nullptr,
                          /*with_stdout=*/true);
    ASSERT_NO_THROW(recorder.expect_log("ready"));
    auto ns4 = std::make_unique<Netns>("ns4");
    ::kill(bus_->log().pid(), SIGSTOP);

    // From the file watcher: rounds of 600 pairs replaced by 600 others,
    // each announced (InterfacesAdded carries the whole object), tens of
    // MiB in all.
    constexpr int rounds = 20;
    constexpr int pairs = 600;
    std::vector<std::string> expected;
    std::vector<std::string> previous;
    char left[16];
    for (int round = 0; round < rounds; ++round) {
        std::string config = "links:\n";
        std::vector<std::string> current;
        for (int n = 0; n < pairs; ++n) {
            std::snprintf(left, sizeof left, "s%dq%04d", round, n);
            config += std::string("  ") + left + ": " + left + "r\n";
            current.push_back(std::string("/org/xconnect/pair/") + left);
        }
        for (const std::string& path : previous) {
            expected.push_back("InterfacesRemoved " + path);
        }
        for (const std::string& path : current) {
            expected.push_back("InterfacesAdded " + path);
        }
        previous = current;
        replace_by_rename(config_, config);
        ASSERT_NO_THROW(
            bus_->log().expect_log("applied (changed): 600 pairs", std::chrono::seconds(120)));
    }
    // From netlink: one pair comes up, flaps, and goes pending again when
    // its left side is deleted.
    const std::string pair = "s19q0007";
    add_veth(pair, *ns4, "qp-7", "169.254.1.40/24");
    add_veth(pair + "r", *ns4, "rp-7", "169.254.1.41/24");
    ASSERT_NO_THROW(bus_->log().expect_log(pair + "<->" + pair + "r: active"));
    sh(host_->ip() + "link set " + pair + " down");
    sh(host_->ip() + "link set " + pair + " up");
    sh(host_->ip() + "link del " + pair);
    ASSERT_NO_THROW(bus_->log().expect_log(pair + "<->" + pair + "r: pending"));
    ::kill(bus_->log().pid(), SIGCONT);

    for (const std::string& line : expected) {
        ASSERT_EQ(recorder.expect_log("Interfaces", std::chrono::seconds(30)), line);
    }
    // The pair's changes in order: it comes up, flaps, and goes pending last.
    std::vector<std::string> states;
    size_t flaps_seen = 0;
    while (states.empty() || states.back() != "State=pending") {
        const std::string change = recorder.expect_log(
            "PropertiesChanged /org/xconnect/pair/" + pair + " ", std::chrono::seconds(30));
        if (const auto state = change.find(" State="); state != std::string::npos) {
            states.push_back(change.substr(state + 1, change.find(' ', state + 1) - state - 1));
        } else if (change.find("LeftOperState=") != std::string::npos) {
            ++flaps_seen;
        }
    }
    EXPECT_EQ(states, (std::vector<std::string>{"State=active", "State=pending"}));
    EXPECT_GT(flaps_seen, 0u);
}

TEST_F(BusTest, BusRestartLosesNoFrameAndTheServiceComesBack) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    const pid_t xconnectd = bus_->owner_pid("org.xconnect");
    LossMeter meter(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2", "169.254.1.20");
    meter.wait_until_flowing();

    bus_->restart();
    ASSERT_NO_THROW(
        bus_->log().expect_log("D-Bus: lost the system bus; every pair keeps forwarding"));
    // Published again by the same daemon, unasked: nobody calls it meanwhile
    // (a call would D-Bus-activate a second xconnectd here, where no systemd
    // ties activation to the running unit).
    ASSERT_NO_THROW(bus_->log().expect_log("D-Bus: serving org.xconnect"));
    EXPECT_EQ(bus_->owner_pid("org.xconnect"), xconnectd);
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"),
              "a(ssso) 1 \"xconnect-1\" \"xconnect-2\" \"active\" "
              "\"/org/xconnect/pair/xconnect_2d1\"\n");
    EXPECT_EQ(property("/org/xconnect/pair/xconnect_2d1", "State"), "s \"active\"\n");
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-3"),
              "o \"/org/xconnect/pair/xconnect_2d3\"\n");

    const LossReport report = meter.stop();
    EXPECT_GT(report.received, 0u);
    EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
}

TEST_F(BusTest, IntrospectionMatchesTheContract) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    const fs::path manager_xml = config_dir_ / "manager.xml";
    const fs::path pair_xml = config_dir_ / "pair.xml";
    std::ofstream(manager_xml) << busctl("introspect --xml-interface org.xconnect /org/xconnect");
    std::ofstream(pair_xml) << busctl(
        "introspect --xml-interface org.xconnect /org/xconnect/pair/xconnect_2d1");
    const std::string checker =
        "/usr/bin/python3 " XCONNECT_SOURCE_DIR "/tests/dbus/check_introspection.py ";
    EXPECT_EQ(run(checker + manager_xml.string() + " " + pair_xml.string()).status, 0)
        << run(checker + manager_xml.string() + " " + pair_xml.string()).output;
    // The objects also implement what the contract lists besides.
    const std::string interfaces = busctl("introspect org.xconnect /org/xconnect");
    for (const char* name :
         {"org.freedesktop.DBus.ObjectManager", "org.freedesktop.DBus.Properties",
          "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer"}) {
        EXPECT_NE(interfaces.find(name), std::string::npos) << name;
    }
}

TEST_F(DaemonTest, WithNoBusReachableItSaysSoOnceAndRunsFromTheFile) {
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/xconnect-test-socket", 1);
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
    daemon_ = start_xconnectd({"--config", config_.string()});
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    expect_log("D-Bus: no system bus");
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-3\n");
    expect_log("xconnect-1<->xconnect-3: added, active");
    EXPECT_EQ(daemon_->terminate(), 0);
    const std::string log = daemon_->log_text();
    EXPECT_EQ(log.find("no system bus"), log.rfind("no system bus")) << "said more than once";
}

}  // namespace
}  // namespace xconnect
