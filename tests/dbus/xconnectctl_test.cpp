// xconnectctl against the real daemon on a private bus with real polkitd
// (the D-Bus tests' fixture): every verb, --json, exit codes, monitor.
#include <gtest/gtest.h>

#include "bus_fixture.hpp"
#include "user_readable.hpp"

namespace xconnect {
namespace {

using namespace test;

class XconnectctlTest : public BusTest {
  protected:
    // Runs xconnectctl (as `as`, if given) with `args`; status and output.
    Outcome ctl(const std::string& args, const TestUser* as = nullptr) {
        // No terminal on stdin: never a password prompt in a test.
        return run((as ? as->run_as() : "") + xconnectctl_.string() + " " + args + " </dev/null");
    }
    // Users run a copy: the build tree may be under /root.
    const UserReadableCopy installed_{{XCONNECTCTL_PATH}};
    const fs::path xconnectctl_ = installed_["xconnectctl"];
    // Runs `command` under script(1), which gives it a terminal.
    Outcome on_terminal(const std::string& command) {
        const fs::path script = config_dir_ / "on-terminal.sh";
        std::ofstream(script) << command << "\n";
        fs::permissions(script, fs::perms::owner_all | fs::perms::others_read);
        return run("script -qec 'sh " + script.string() + "' /dev/null </dev/null");
    }
    // A --json document, checked by Python's json module: prints `expression`.
    std::string json_query(const std::string& document, const std::string& expression) {
        const fs::path file = config_dir_ / "out.json";
        std::ofstream(file) << document;
        return sh(
            "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
            "print(" +
            expression + ")' " + file.string());
    }
};

TEST_F(XconnectctlTest, WithoutArgumentsItPrintsTheTable) {
    EXPECT_EQ(ctl("add xconnect-1 xconnect-2").status, 0);
    EXPECT_EQ(ctl("add xconnect-3 later-0").status, 0);
    const Outcome table = ctl("");
    ASSERT_EQ(table.status, 0) << table.output;
    std::istringstream lines(table.output);
    std::string header, first, second;
    std::getline(lines, header);
    std::getline(lines, first);
    std::getline(lines, second);
    EXPECT_EQ(header.rfind("LEFT", 0), 0u) << table.output;
    for (const char* column : {"RIGHT", "STATE", "MODE", "LEFT->RIGHT", "RIGHT->LEFT"}) {
        EXPECT_NE(header.find(column), std::string::npos) << column;
    }
    EXPECT_NE(first.find("xconnect-1"), std::string::npos);
    EXPECT_NE(first.find("active"), std::string::npos);
    EXPECT_NE(first.find("generic"), std::string::npos);
    EXPECT_NE(second.find("pending"), std::string::npos);
    EXPECT_NE(table.output.find("\n2 pairs listed.\n"), std::string::npos) << table.output;
    EXPECT_EQ(table.output.find("\033["), std::string::npos) << "no colours into a pipe";
    // Columns line up: RIGHT starts where the right names start.
    EXPECT_EQ(header.find("RIGHT"), first.find("xconnect-2"));

    const Outcome bare = ctl("list --no-legend");
    EXPECT_EQ(bare.output.find("LEFT"), std::string::npos);
    EXPECT_EQ(bare.output.find("listed"), std::string::npos);
    EXPECT_EQ(std::count(bare.output.begin(), bare.output.end(), '\n'), 2);
}

TEST_F(XconnectctlTest, JsonIsOneDocumentWithStableKeys) {
    const Outcome added = ctl("--json add xconnect-1 xconnect-2");
    ASSERT_EQ(added.status, 0) << added.output;
    EXPECT_EQ(json_query(added.output, "d[\"path\"]"), "/org/xconnect/pair/xconnect_2d1\n");

    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    const Outcome listed = ctl("list --json");
    ASSERT_EQ(listed.status, 0) << listed.output;
    EXPECT_EQ(json_query(listed.output, "sorted(d[\"pairs\"][0].keys())"),
              "['drop_reason', 'error', 'left', 'left_ifindex', 'left_mode', 'left_oper_state', "
              "'left_to_right', 'mode', 'mode_reason', 'path', 'right', 'right_ifindex', "
              "'right_mode', 'right_oper_state', 'right_to_left', 'state', 'warning']\n");
    EXPECT_EQ(json_query(listed.output, "sorted(d[\"pairs\"][0][\"left_to_right\"].keys())"),
              "['bytes', 'dropped', 'packets']\n");
    EXPECT_EQ(json_query(listed.output, "d[\"pairs\"][0][\"state\"], d[\"pairs\"][0][\"mode\"]"),
              "active generic\n");
    EXPECT_EQ(json_query(listed.output, "d[\"pairs\"][0][\"left_to_right\"][\"packets\"] > 0"),
              "True\n");

    const Outcome status = ctl("status --json xconnect-2");
    ASSERT_EQ(status.status, 0) << status.output;
    EXPECT_EQ(
        json_query(status.output,
                   "len(d[\"pairs\"]), sorted(d[\"pairs\"][0][\"rates\"][\"left_to_right\"])"),
        "1 ['bytes_per_second', 'packets_per_second']\n");
    EXPECT_EQ(json_query(ctl("--json remove xconnect-1").output, "d[\"removed\"]"),
              "/org/xconnect/pair/xconnect_2d1\n");
    EXPECT_EQ(json_query(ctl("--json list").output, "d[\"pairs\"]"), "[]\n");
}

TEST_F(XconnectctlTest, StatusShowsEverythingAboutAPair) {
    ctl("add xconnect-1 xconnect-2");
    ctl("add xconnect-3 absent-0");
    const Outcome status = ctl("status");
    ASSERT_EQ(status.status, 0) << status.output;
    for (const std::string& expected :
         {std::string("● xconnect-1<->xconnect-2"),
          "Left: xconnect-1 (ifindex " + std::to_string(host_ifindex("xconnect-1")) + ", up)",
          std::string("State: active"), std::string("Mode: generic"), std::string("Left->Right: "),
          std::string("packets/s"), std::string("● xconnect-3<->absent-0"),
          std::string("Right: absent-0 (absent)"), std::string("State: pending"),
          std::string("Object: /org/xconnect/pair/xconnect_2d3")}) {
        EXPECT_NE(status.output.find(expected), std::string::npos) << expected << " not in:\n"
                                                                   << status.output;
    }
    const Outcome one = ctl("status xconnect-2");
    EXPECT_EQ(one.output.find("absent-0"), std::string::npos) << "only the pair asked for";
    EXPECT_NE(one.output.find("Why: xconnect-1: generic: "), std::string::npos) << one.output;
    EXPECT_EQ(one.output.find("Warning:"), std::string::npos) << "no warning: " << one.output;

    // Frames the kernel drops for their size are shown, in words and in JSON.
    sh(host_->ip() + "link set xconnect-2 mtu 1400");
    ASSERT_NO_THROW(bus_->log().expect_log("xconnect-1<->xconnect-2: frames above 1400 bytes"));
    const std::string warning =
        "frames above 1400 bytes are dropped: xconnect-2 MTU 1400 < xconnect-1 MTU 1500";
    const Outcome warned = ctl("status xconnect-1");
    EXPECT_NE(warned.output.find("Warning: " + warning), std::string::npos) << warned.output;
    EXPECT_EQ(json_query(ctl("--json status xconnect-1").output,
                         "d[\"pairs\"][0][\"warning\"], d[\"pairs\"][0][\"state\"]"),
              warning + " active\n");
}

TEST_F(XconnectctlTest, ExitCodesTellWhatWentWrong) {
    ctl("add xconnect-1 xconnect-2");
    Outcome outcome = ctl("remove nope");
    EXPECT_EQ(outcome.status, 3) << outcome.output;
    EXPECT_NE(outcome.output.find("no pair holds interface nope"), std::string::npos);
    outcome = ctl("add xconnect-2 xconnect-3");
    EXPECT_EQ(outcome.status, 2) << outcome.output;
    EXPECT_NE(outcome.output.find("already in pair xconnect-1<->xconnect-2"), std::string::npos);
    outcome = ctl("add 'a b' xconnect-3");
    EXPECT_EQ(outcome.status, 2) << outcome.output;
    outcome = ctl("add xconnect-3");
    EXPECT_EQ(outcome.status, 2) << outcome.output;
    outcome = ctl("frobnicate");
    EXPECT_EQ(outcome.status, 2) << outcome.output;

    replace_by_rename(config_, "links: [\n");
    outcome = ctl("reload");
    EXPECT_EQ(outcome.status, 1) << outcome.output;
    EXPECT_NE(outcome.output.find(config_.string() + ":"), std::string::npos) << outcome.output;

    const std::string address = bus_->address();
    outcome = run("DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/socket " + xconnectctl_.string());
    EXPECT_EQ(outcome.status, 5) << outcome.output;
    EXPECT_NE(outcome.output.find("Start D-Bus"), std::string::npos) << outcome.output;
    EXPECT_EQ(ctl("").status, 0) << "the daemon is fine on the real address " << address;
}

TEST_F(XconnectctlTest, PolkitDecidesForUnprivilegedUsers) {
    start_polkit();
    ctl("add xconnect-1 xconnect-2");
    Outcome refused = ctl("--no-ask-password add xconnect-3 xconnect-3", outsider_.get());
    EXPECT_EQ(refused.status, 4) << refused.output;
    EXPECT_NE(refused.output.find("Authentication is required for org.xconnect.manage-pairs"),
              std::string::npos)
        << refused.output;
    refused = ctl("reload", outsider_.get());  // no terminal: never interactive
    EXPECT_EQ(refused.status, 4) << refused.output;
    EXPECT_EQ(ctl("list --no-legend", outsider_.get()).status, 0) << "reading is open";

    EXPECT_EQ(ctl("add xconnect-3 xconnect-3", member_.get()).status, 0);
    EXPECT_EQ(ctl("reload", member_.get()).status, 0);
    EXPECT_EQ(ctl("remove xconnect-3", member_.get()).status, 0);
    EXPECT_EQ(ctl("--json list").output.find("xconnect-3"), std::string::npos);
}

TEST_F(XconnectctlTest, InterfacesListsTheDaemonsNamespaceWithThePairHoldingEach) {
    ctl("add xconnect-1 xconnect-2");
    const Outcome table = ctl("interfaces");
    ASSERT_EQ(table.status, 0) << table.output;
    std::istringstream lines(table.output);
    std::string header;
    std::getline(lines, header);
    EXPECT_EQ(header.rfind("NAME", 0), 0u) << table.output;
    for (const char* column : {"IFINDEX", "STATE", "KIND", "PAIR"}) {
        EXPECT_NE(header.find(column), std::string::npos) << column;
    }
    std::map<std::string, std::string> row_of;  // name -> its line
    for (std::string line; std::getline(lines, line) && !line.empty();) {
        row_of[line.substr(0, line.find(' '))] = line;
    }
    ASSERT_EQ(row_of.count("xconnect-1"), 1u) << table.output;
    EXPECT_NE(row_of["xconnect-1"].find(" " + std::to_string(host_ifindex("xconnect-1")) + " "),
              std::string::npos)
        << row_of["xconnect-1"];
    EXPECT_NE(row_of["xconnect-1"].find("veth"), std::string::npos);
    EXPECT_NE(row_of["xconnect-1"].find("xconnect-1<->xconnect-2"), std::string::npos);
    EXPECT_NE(row_of["xconnect-2"].find("xconnect-1<->xconnect-2"), std::string::npos);
    EXPECT_EQ(row_of["xconnect-3"].find("<->"), std::string::npos) << "in no pair";
    EXPECT_EQ(row_of.count("xc-1"), 0u) << "a name of another namespace";
    EXPECT_NE(table.output.find(" interfaces in xconnectd's network namespace.\n"),
              std::string::npos)
        << table.output;

    const std::string document = ctl("--json interfaces", outsider_.get()).output;
    EXPECT_EQ(
        json_query(document,
                   "[(i[\"kind\"], i[\"oper_state\"], i[\"pair\"]) for i in d[\"interfaces\"] "
                   "if i[\"name\"] == \"xconnect-2\"][0]"),
        "('veth', 'up', 'xconnect-1<->xconnect-2')\n");
    EXPECT_EQ(ctl("interfaces extra").status, 2);
}

TEST_F(XconnectctlTest, PermissionsSaysWhatPolkitAllowsTheCaller) {
    start_polkit();
    const Outcome outsider = ctl("permissions", outsider_.get());
    ASSERT_EQ(outsider.status, 0) << outsider.output;
    EXPECT_EQ(outsider.output,
              "ACTION                       PERMISSION\n"
              "org.xconnect.capture         auth\n"
              "org.xconnect.manage-pairs    auth\n"
              "org.xconnect.reload          auth\n");
    EXPECT_EQ(json_query(ctl("--json permissions", member_.get()).output, "d[\"permissions\"]"),
              "{'org.xconnect.capture': 'yes', 'org.xconnect.manage-pairs': 'yes', "
              "'org.xconnect.reload': 'yes'}\n");
}

TEST_F(XconnectctlTest, MonitorSeesPairsComeChangeAndGo) {
    ctl("add xconnect-1 xconnect-2");
    ChildProcess monitor(xconnectctl_.string(), {"monitor"}, nullptr, /*with_stdout=*/true);
    ASSERT_NO_THROW(monitor.expect_log("existing xconnect-1<->xconnect-2 active"));
    ctl("add xconnect-3 later-0");
    ASSERT_NO_THROW(monitor.expect_log("added xconnect-3<->later-0 pending"));
    auto ns4 = std::make_unique<Netns>("ns4");
    add_veth("later-0", *ns4, "lp-0", "169.254.1.40/24");
    const std::string changed = monitor.expect_log("changed xconnect-3<->later-0 ");
    EXPECT_NE(changed.find("State=active"), std::string::npos) << changed;
    EXPECT_NE(changed.find("RightIfindex="), std::string::npos) << changed;
    ctl("remove later-0");
    ASSERT_NO_THROW(monitor.expect_log("removed xconnect-3<->later-0"));

    ChildProcess json_monitor(xconnectctl_.string(), {"--json", "monitor"}, nullptr, true);
    const std::string existing = json_monitor.expect_log("\"event\":\"existing\"");
    EXPECT_NE(existing.find("\"left\":\"xconnect-1\""), std::string::npos) << existing;
    ctl("remove xconnect-1");
    const std::string removed = json_monitor.expect_log("\"event\":\"removed\"");
    EXPECT_NE(removed.find("\"pair\":\"xconnect-1<->xconnect-2\""), std::string::npos) << removed;
}

TEST_F(XconnectctlTest, OnATerminalTheOutputGoesThroughThePager) {
    ctl("add xconnect-1 xconnect-2");
    // A pager that records what it is given.
    const fs::path paged = config_dir_ / "paged";
    const fs::path pager = config_dir_ / "pager";
    std::ofstream(pager) << "#!/bin/sh\nexec cat >" << paged.string() << "\n";
    fs::permissions(pager, fs::perms::owner_all);
    auto on_terminal = [&](const std::string& environment, const std::string& args) {
        return XconnectctlTest::on_terminal(environment + " " + xconnectctl_.string() + " " + args);
    };
    const std::string with_pager = "PAGER=" + pager.string();

    Outcome shown = on_terminal(with_pager, "list");
    ASSERT_EQ(shown.status, 0) << shown.output;
    EXPECT_EQ(shown.output.find("listed"), std::string::npos) << "the pager had it:\n"
                                                              << shown.output;
    const std::string table = read_file(paged);
    EXPECT_EQ(table.rfind("LEFT", 0), 0u) << table;
    EXPECT_NE(table.find("\n1 pair listed.\n"), std::string::npos) << table;
    ASSERT_EQ(on_terminal(with_pager, "status xconnect-2").status, 0);
    EXPECT_EQ(read_file(paged).rfind("● xconnect-1<->xconnect-2\n", 0), 0u) << read_file(paged);
    fs::remove(paged);

    // Not with --no-pager, not into a pipe, not for --json.
    shown = on_terminal(with_pager, "--no-pager list");
    EXPECT_NE(shown.output.find("1 pair listed."), std::string::npos) << shown.output;
    shown = run(with_pager + " " + xconnectctl_.string() + " list </dev/null");
    EXPECT_NE(shown.output.find("1 pair listed."), std::string::npos) << shown.output;
    shown = on_terminal(with_pager, "--json list");
    EXPECT_NE(shown.output.find("\"pairs\""), std::string::npos) << shown.output;
    EXPECT_FALSE(fs::exists(paged));

    // Neither $PAGER nor less: straight to the terminal.
    shown = on_terminal("env -u PAGER PATH=/nonexistent", "list");
    EXPECT_EQ(shown.status, 0) << shown.output;
    EXPECT_NE(shown.output.find("1 pair listed."), std::string::npos) << shown.output;
}

// On a terminal a change runs pkttyagent for as long as the call, allowing
// interactive authorization. Here the agent has no login session that polkit
// could find it by, so auth_admin ends in a refusal instead of a prompt.
TEST_F(XconnectctlTest, OnATerminalAChangeRunsTheAgentForTheCall) {
    start_polkit();
    Outcome outcome =
        on_terminal(member_->run_as() + xconnectctl_.string() + " add xconnect-3 xconnect-3");
    EXPECT_EQ(outcome.status, 0) << "the group is allowed without asking:\n" << outcome.output;
    outcome = on_terminal(outsider_->run_as() + xconnectctl_.string() + " remove xconnect-3");
    EXPECT_EQ(outcome.status, 4) << outcome.output;
    EXPECT_NE(outcome.output.find("polkit does not allow uid"), std::string::npos)
        << "interactive, so not InteractiveAuthorizationRequired:\n"
        << outcome.output;
    for (const TestUser* user : {member_.get(), outsider_.get()}) {
        EXPECT_NE(run("pgrep -u " + user->name() + " pkttyagent").status, 0) << "agent left";
    }
    EXPECT_NE(ctl("--json list").output.find("xconnect-3"), std::string::npos) << "not removed";
}

// The verbs table checks argument counts, with its own words, before the bus
// is reached (none is here).
TEST(XconnectctlUsageTest, ArgumentCountsComeFromTheVerbsTable) {
    const std::string ctl = std::string("DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/socket ") +
                            XCONNECTCTL_PATH + " ";
    const std::pair<const char*, const char*> refused[] = {
        {"add", "add needs LEFT and RIGHT"},
        {"add xconnect-1", "add needs LEFT and RIGHT"},
        {"add xconnect-1 xconnect-2 xconnect-3", "add needs LEFT and RIGHT"},
        {"remove", "remove needs one IFNAME"},
        {"--json remove xconnect-1 xconnect-2", "remove needs one IFNAME"},
        {"reload now", "reload takes no arguments"},
        {"frobnicate", "unknown command frobnicate"},
        {"--frobnicate", "unknown option --frobnicate"},
    };
    for (const auto& [args, message] : refused) {
        const Outcome outcome = run(ctl + args + " </dev/null");
        EXPECT_EQ(outcome.status, 2) << args;
        EXPECT_EQ(outcome.output, "xconnectctl: " + std::string(message) + " (see --help)\n")
            << args;
    }
    for (const char* args : {"", "list", "status", "status xconnect-1 xconnect-2", "add a b",
                             "remove a", "reload", "monitor"}) {
        const Outcome outcome = run(ctl + args + " </dev/null");
        EXPECT_EQ(outcome.status, 5) << "accepted, then no bus: " << args << "\n" << outcome.output;
    }
}

TEST_F(XconnectctlTest, HelpAndVersion) {
    for (const char* args : {"--help", "add --help", "-h"}) {
        const Outcome help = ctl(args);
        EXPECT_EQ(help.status, 0);
        EXPECT_NE(help.output.find("Exit status:"), std::string::npos) << args;
    }
    EXPECT_EQ(ctl("--version").output, "xconnectctl 0.1.0\n");
}

TEST_F(XconnectctlTest, ACallDuringARestartWaitsForTheNextDaemonAndNothingIsLost) {
    // As the unit and the activation file run it: a stop leaves the dataplane.
    // Under /sys/fs/bpf/xconnect, the one directory the unit lets user
    // xconnect reach.
    const fs::path state_dir =
        fs::path("/sys/fs/bpf/xconnect") / ("xconnect-test-" + unique_suffix());
    bus_.reset();  // the fixture's, before this one takes its place
    bus_ = std::make_unique<SystemBus>(
        *host_, std::vector<std::string>{"--config", config_.string(), "--keep-dataplane",
                                         "--state-dir", state_dir.string()});
    ASSERT_EQ(ctl("add xconnect-1 xconnect-2").status, 0);
    LossMeter meter(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2", "169.254.1.20");
    ASSERT_NO_THROW(meter.wait_until_flowing());
    auto owner = [&] {
        return sh(
            "busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus "
            "GetNameOwner s org.xconnect");
    };
    const std::string first_owner = owner();
    const Outcome before = ctl("--json");
    ASSERT_EQ(before.status, 0) << before.output;
    const uint64_t counted_before =
        std::stoull(json_query(before.output, "d[\"pairs\"][0][\"left_to_right\"][\"packets\"]"));

    // systemctl restart: SIGTERM, and a call at once, while the name is gone
    // or going; D-Bus activates the next xconnectd, and xconnectctl waits.
    // "[-]": the pattern must not match this shell's own command line.
    sh("pkill -TERM -f -- '[-]-config " + config_.string() + "'");
    const Outcome during = ctl("--json");
    ASSERT_EQ(during.status, 0) << during.output;
    EXPECT_EQ(json_query(during.output, "d[\"pairs\"][0][\"state\"]"), "active\n");
    EXPECT_GE(
        std::stoull(json_query(during.output, "d[\"pairs\"][0][\"left_to_right\"][\"packets\"]")),
        counted_before)
        << "the counters went on";
    EXPECT_NE(owner(), first_owner) << "another daemon owns the name now";

    const LossReport report = meter.stop();
    EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
    std::cout << "  untouched pair: " << report.summary() << "\n";
    bus_.reset();  // stops that daemon too, leaving its dataplane
    ChildProcess flush(XCONNECTD_PATH, {"--flush", "--state-dir", state_dir.string()}, host_.get());
    EXPECT_EQ(flush.wait_exit(), 0) << flush.log_text();
    EXPECT_EQ(xdp_program_on("xconnect-1"), 0u);
    EXPECT_FALSE(fs::exists(state_dir));
}

TEST_F(XconnectctlTest, ACallTheDaemonDidNotAnswerBeforeItDiedIsMadeAgainToTheNextOne) {
    ASSERT_EQ(ctl("add xconnect-1 xconnect-2").status, 0);
    const std::string daemon_pid = sh("pgrep -f -- '[-]-config " + config_.string() + "'");
    // The daemon stops reading; the call is queued at its socket (the bus
    // monitor sees it pass), then the daemon dies without answering.
    sh("kill -STOP " + daemon_pid);
    ChildProcess monitor("/usr/bin/busctl", {"monitor", "org.xconnect"}, nullptr,
                         /*with_stdout=*/true);
    ASSERT_NO_THROW(monitor.expect_log("Monitoring bus message stream"));
    ChildProcess client(xconnectctl_.string(), {"--json", "list"}, nullptr, /*with_stdout=*/true);
    ASSERT_NO_THROW(monitor.expect_log("Member=GetManagedObjects"));
    sh("kill -KILL " + daemon_pid);
    EXPECT_EQ(client.wait_exit(), 0) << client.log_text();
    EXPECT_TRUE(client.logged("xconnectd exited before answering")) << client.log_text();
    EXPECT_TRUE(client.logged("\"active\"")) << client.log_text();
}

}  // namespace
}  // namespace xconnect
