// The fault table's D-Bus abuse rows: 100 KB strings in every string
// argument, 10 clients at 1 000 calls/s each with up to 100 in flight, and a
// client that never reads its replies. xconnectd stays up and bounded in
// memory, answers every call exactly once with an error the contract allows,
// and the untouched pair xconnect-1<->xconnect-2 loses not one frame.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "fault_bus_fixture.hpp"
#include "user_readable.hpp"

namespace xconnect {
namespace {

using namespace test;
using namespace std::chrono_literals;

// The load client as the test users may run it: the build tree sits under
// the checkout, which may be /root (mode 0700).
class LoadClientCopy {
  public:
    LoadClientCopy() : copy_({BUS_LOAD_CLIENT_PATH}) {}
    fs::path binary() const { return copy_["bus_load_client"]; }

  private:
    UserReadableCopy copy_;
};

// key=value words of the load client's report line.
std::map<std::string, std::string> parse_report(const std::string& line) {
    std::map<std::string, std::string> fields;
    static const std::regex field("([a-z_]+)=(\\S+)");
    for (auto match = std::sregex_iterator(line.begin(), line.end(), field);
         match != std::sregex_iterator(); ++match) {
        fields[(*match)[1]] = (*match)[2];
    }
    return fields;
}

uint64_t number(const std::map<std::string, std::string>& fields, const std::string& key) {
    const auto found = fields.find(key);
    return found == fields.end() ? ~uint64_t{0} : std::stoull(found->second);
}

class DbusAbuse : public FaultBusTest {
  protected:
    // gdbus with each argument its own argv word: two 100 KB arguments do
    // not fit in one shell command line (MAX_ARG_STRLEN is 128 KiB).
    Outcome gdbus_without_shell(const std::vector<std::string>& method_and_args, const TestUser* as,
                                const std::string& path) {
        std::vector<std::string> args{"call",          "--system", "--dest",  "org.xconnect",
                                      "--object-path", path,       "--method"};
        args.insert(args.end(), method_and_args.begin(), method_and_args.end());
        std::string binary = "/usr/bin/gdbus";
        if (as != nullptr) {
            args.insert(args.begin(), {"--reuid=" + as->name(), "--regid=" + group_of(*as),
                                       "--init-groups", "--", binary});
            binary = "/usr/bin/setpriv";
        }
        ChildProcess process(binary, args, nullptr, /*with_stdout=*/true);
        Outcome outcome;
        outcome.status = process.wait_exit(std::chrono::seconds(60));
        outcome.output = process.log_text();
        return outcome;
    }

    // A busctl call that must be answered, now, as anyone: the daemon serves.
    void expect_responsive() {
        EXPECT_EQ(busctl(std::string("call ") + manager + "GetPair s xconnect-1", outsider_.get()),
                  std::string("o \"") + stable_pair_path + "\"\n");
    }
};

TEST_F(DbusAbuse, HundredKilobyteStringsInEveryArgumentGetBoundedErrors) {
    start_untouched_pair_stream();
    const std::string pairs_before = busctl(std::string("call ") + manager + "ListPairs");
    const std::string file_before = read_file(config_);
    RssSampler rss(daemon_pid_);

    const std::string huge(100 * 1000, 'x');
    struct Abuse {
        std::vector<std::string> call;    // gdbus --method and its arguments
        std::string path;                 // object
        std::vector<std::string> errors;  // any of these is the contract's answer
    };
    const std::vector<std::string> bad_name{"org.xconnect.Error.InvalidName"};
    // sd-bus answers unknown interfaces and properties itself.
    const std::vector<std::string> unknown_property{"org.freedesktop.DBus.Error.UnknownInterface",
                                                    "org.freedesktop.DBus.Error.UnknownProperty",
                                                    "org.freedesktop.DBus.Error.InvalidArgs"};
    const std::string manager_object = "/org/xconnect";
    const std::vector<Abuse> abuses{
        {{"org.xconnect.Manager.AddPair", huge, "xconnect-3"}, manager_object, bad_name},
        {{"org.xconnect.Manager.AddPair", "xconnect-3", huge}, manager_object, bad_name},
        {{"org.xconnect.Manager.AddPair", huge, huge}, manager_object, bad_name},
        {{"org.xconnect.Manager.RemovePair", huge}, manager_object, bad_name},
        {{"org.xconnect.Manager.GetPair", huge}, manager_object, bad_name},
        {{"org.freedesktop.DBus.Properties.Get", huge, "Version"},
         manager_object,
         unknown_property},
        {{"org.freedesktop.DBus.Properties.Get", "org.xconnect.Manager", huge},
         manager_object,
         unknown_property},
        {{"org.freedesktop.DBus.Properties.GetAll", huge}, manager_object, unknown_property},
        {{"org.freedesktop.DBus.Properties.Get", huge, "State"},
         stable_pair_path,
         unknown_property},
        {{"org.freedesktop.DBus.Properties.Get", "org.xconnect.Pair", huge},
         stable_pair_path,
         unknown_property},
        {{"org.freedesktop.DBus.Properties.GetAll", huge}, stable_pair_path, unknown_property},
        {{"org.freedesktop.DBus.Properties.Set", "org.xconnect.Pair", huge, "<'" + huge + "'>"},
         stable_pair_path,
         unknown_property},
    };
    // As root (no polkit involved) and as an unprivileged user.
    for (const TestUser* caller : std::vector<const TestUser*>{nullptr, outsider_.get()}) {
        for (const Abuse& abuse : abuses) {
            SCOPED_TRACE((caller ? caller->name() : "root") + ": " + abuse.call.front() + " on " +
                         abuse.path + ", arguments of " +
                         [&] {
                             std::string sizes;
                             for (size_t at = 1; at < abuse.call.size(); ++at) {
                                 sizes += " " + std::to_string(abuse.call[at].size());
                             }
                             return sizes;
                         }() +
                         " bytes");
            const Outcome outcome = gdbus_without_shell(abuse.call, caller, abuse.path);
            const std::string shown = outcome.output.substr(0, 300);
            EXPECT_NE(outcome.status, 0) << shown;
            bool expected = false;
            for (const std::string& error : abuse.errors) {
                expected |= outcome.output.find("GDBus.Error:" + error + ":") != std::string::npos;
            }
            EXPECT_TRUE(expected) << shown;
            // The message quotes the input bounded (about 64 bytes).
            EXPECT_LT(outcome.output.size(), 1024u)
                << "unbounded reply, " << outcome.output.size() << " bytes: " << shown;
        }
        expect_responsive();
    }
    rss.finish();
    std::cerr << "100 KB strings: " << rss.summary() << "\n";
    EXPECT_LT(rss.peak(), rss.before() + rss_growth_bound_kib) << rss.summary();
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), pairs_before);
    EXPECT_EQ(read_file(config_), file_before);
    expect_untouched_pair_lost_nothing();
    expect_clean_exit();
}

TEST_F(DbusAbuse, TenClientsAtAThousandCallsASecondEachGetEveryReplyOnce) {
    start_polkit();
    start_untouched_pair_stream();
    LoadClientCopy client;
    RssSampler rss(daemon_pid_);

    // Readers and writers as root, as the polkit-granted member (every write
    // a polkit round trip) and as an outsider (reads only); the writers add
    // and remove the same self-pair on xconnect-3, racing one another.
    struct Role {
        const TestUser* user;
        const char* write_percent;
    };
    const std::vector<Role> roles{{nullptr, "20"},        {nullptr, "20"},
                                  {nullptr, "20"},        {member_.get(), "50"},
                                  {member_.get(), "50"},  {member_.get(), "50"},
                                  {member_.get(), "50"},  {outsider_.get(), "0"},
                                  {outsider_.get(), "0"}, {outsider_.get(), "0"}};
    std::vector<std::unique_ptr<ChildProcess>> clients;
    for (const Role& role : roles) {
        std::vector<std::string> args{"load", "xconnect-1", "xconnect-3",      "10",
                                      "1000", "100",        role.write_percent};
        if (role.user == nullptr) {
            clients.push_back(
                std::make_unique<ChildProcess>(client.binary().string(), args, nullptr, true));
        } else {
            std::vector<std::string> as_user{"--reuid=" + role.user->name(),
                                             "--regid=" + group_of(*role.user), "--init-groups",
                                             "--", client.binary().string()};
            as_user.insert(as_user.end(), args.begin(), args.end());
            clients.push_back(
                std::make_unique<ChildProcess>("/usr/bin/setpriv", as_user, nullptr, true));
        }
    }
    uint64_t calls = 0;
    uint64_t replies = 0;
    std::vector<ChildProcess*> processes;
    for (const auto& process : clients) {
        processes.push_back(process.get());
    }
    const std::vector<std::string> lines = wait_for_lines(processes, "calls=", 150s);
    for (size_t index = 0; index < clients.size(); ++index) {
        const std::string who = roles[index].user ? roles[index].user->name() : "root";
        SCOPED_TRACE("client " + std::to_string(index) + " as " + who);
        const std::string& line = lines[index];
        EXPECT_FALSE(line.empty()) << clients[index]->log_text();
        std::cerr << "load client " << index << " (" << who << ", " << roles[index].write_percent
                  << "% writes): " << line << "\n";
        const auto report = parse_report(line);
        EXPECT_GT(number(report, "calls"), 0u) << line;
        EXPECT_EQ(number(report, "replies"), number(report, "calls")) << line;
        EXPECT_EQ(number(report, "lost"), 0u) << line;
        EXPECT_EQ(number(report, "duplicates"), 0u) << line;
        EXPECT_EQ(number(report, "unknown"), 0u) << line;
        EXPECT_EQ(number(report, "unexpected"), 0u) << line;
        EXPECT_EQ(clients[index]->wait_exit(30s), 0) << clients[index]->log_text();
        calls += number(report, "calls");
        replies += number(report, "replies");
    }
    rss.finish();
    std::cerr << "10 clients: " << calls << " calls, " << replies << " replies; " << rss.summary()
              << "\n";
    EXPECT_LT(rss.peak(), rss.before() + rss_growth_bound_kib) << rss.summary();
    // Root and the member are allowed everything; the outsider only reads.
    const std::string log = bus_->log().log_text();
    const auto refusal = log.find(" refused: ");
    EXPECT_EQ(refusal, std::string::npos) << log.substr(log.rfind('\n', refusal) + 1, 300);
    expect_responsive();
    expect_untouched_pair_lost_nothing();
    expect_clean_exit();
}

TEST_F(DbusAbuse, AClientThatNeverReadsItsRepliesDoesNotStallOthers) {
    start_untouched_pair_stream();
    LoadClientCopy client;
    RssSampler rss(daemon_pid_);

    const std::vector<std::string> flood_args{"--reuid=" + outsider_->name(),
                                              "--regid=" + group_of(*outsider_),
                                              "--init-groups",
                                              "--",
                                              client.binary().string(),
                                              "flood",
                                              "20000",
                                              "2000"};
    ChildProcess flooder("/usr/bin/setpriv", flood_args, nullptr, true);
    // While its replies pile up unread, others are served, in full.
    ChildProcess reader(client.binary().string(),
                        {"load", "xconnect-1", "xconnect-3", "5", "500", "50", "0"}, nullptr, true);
    const std::string line = wait_for_lines({&reader}, "calls=", 120s).front();
    ASSERT_FALSE(line.empty()) << reader.log_text();
    std::cerr << "reader beside a client that never reads: " << line << "\n";
    const auto report = parse_report(line);
    EXPECT_GT(number(report, "calls"), 0u) << line;
    EXPECT_EQ(number(report, "replies"), number(report, "calls")) << line;
    EXPECT_EQ(number(report, "unexpected"), 0u) << line;
    const std::string flooded = wait_for_lines({&flooder}, "sent 20000", 120s).front();
    ASSERT_FALSE(flooded.empty()) << flooder.log_text();
    // Where the unread replies wait: dbus-daemon's memory, not xconnectd's.
    std::cerr << "client that never reads: " << flooded << "; dbus-daemon VmRSS "
              << rss_kib(bus_->log().pid()) << " KiB\n";
    expect_responsive();
    EXPECT_EQ(bus_->owner_pid("org.xconnect"), daemon_pid_);
    const uint64_t during = rss_kib(daemon_pid_);
    flooder.terminate();
    expect_responsive();
    rss.finish();
    std::cerr << "client that never reads: " << rss.summary() << " (" << during
              << " KiB while it was connected)\n";
    EXPECT_LT(rss.peak(), rss.before() + rss_growth_bound_kib) << rss.summary();
    expect_untouched_pair_lost_nothing();
    expect_clean_exit();
}

}  // namespace
}  // namespace xconnect
