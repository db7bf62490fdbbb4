// The fault table's polkit rows: polkitd absent, polkitd stalled for every
// caller, and a caller that leaves while its authorisation is pending. In
// each, xconnectd stays up, says clearly why it refused, and the untouched
// pair xconnect-1<->xconnect-2 loses not one frame.
#include <gtest/gtest.h>

#include "fault_bus_fixture.hpp"

namespace xconnect {
namespace {

using namespace test;
using namespace std::chrono_literals;

using PolkitFault = FaultBusTest;

TEST_F(PolkitFault, AbsentPolkitDeniesEveryoneButRootSayingWhy) {
    start_untouched_pair_stream();
    const std::string pairs_before = busctl(std::string("call ") + manager + "ListPairs");
    const std::string file_before = read_file(config_);

    for (const TestUser* user : {member_.get(), outsider_.get()}) {
        SCOPED_TRACE(user->name());
        for (const Outcome& refused :
             {gdbus("org.xconnect.Manager.AddPair xconnect-3 xconnect-3", user),
              gdbus("org.xconnect.Manager.RemovePair xconnect-1", user),
              gdbus("org.xconnect.Manager.Reload", user),
              gdbus("org.xconnect.Pair.Remove", user, stable_pair_path)}) {
            expect_error(refused, "org.freedesktop.DBus.Error.AccessDenied");
            EXPECT_NE(refused.output.find("polkit (org.freedesktop.PolicyKit1) is not running"),
                      std::string::npos)
                << refused.output;
        }
    }
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), pairs_before);
    EXPECT_EQ(read_file(config_), file_before);
    // Root needs no polkit.
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-3"),
              "o \"/org/xconnect/pair/xconnect_2d3\"\n");
    expect_untouched_pair_lost_nothing();
    expect_clean_exit();
}

TEST_F(PolkitFault, StalledPolkitHoldsOnlyTheCallWaitingForIt) {
    start_stalling_polkit();
    start_untouched_pair_stream();

    auto stalled =
        call_in_background(*member_, {"org.xconnect.Manager.AddPair", "zz-stall-a", "zz-stall-b"});
    const pid_t stall = wait_for_polkit_stall();
    ASSERT_NE(stall, 0) << "polkitd never ran the stalling rule\n" << stalled->log_text();

    // While polkitd sleeps in the member's check: reads from anyone, and
    // root's change, which needs no polkit, are answered ...
    for (const TestUser* reader :
         std::vector<const TestUser*>{outsider_.get(), member_.get(), nullptr}) {
        SCOPED_TRACE(reader ? reader->name() : "root");
        EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs", reader),
                  std::string("a(ssso) 1 \"xconnect-1\" \"xconnect-2\" \"active\" \"") +
                      stable_pair_path + "\"\n");
        EXPECT_EQ(busctl(std::string("call ") + manager + "GetPair s xconnect-2", reader),
                  std::string("o \"") + stable_pair_path + "\"\n");
        EXPECT_EQ(busctl(std::string("get-property org.xconnect ") + stable_pair_path +
                             " org.xconnect.Pair State",
                         reader),
                  "s \"active\"\n");
        EXPECT_EQ(
            busctl("get-property org.xconnect /org/xconnect org.xconnect.Manager Version", reader),
            "s \"0.1.0\"\n");
    }
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-3"),
              "o \"/org/xconnect/pair/xconnect_2d3\"\n");
    EXPECT_EQ(property("/org/xconnect/pair/xconnect_2d3", "State"), "s \"active\"\n");
    // ... before polkit has answered the stalled call: its sleep still runs
    // and its caller still waits.
    EXPECT_TRUE(still_stalled(stall)) << "the test took longer than the stall; it proves nothing";
    EXPECT_LT(stalled->wait_exit(0ms), 0) << stalled->log_text();

    // Then the stalled call gets its proper result.
    EXPECT_EQ(stalled->wait_exit(60s), 0) << stalled->log_text();
    EXPECT_TRUE(stalled->logged("(objectpath '/org/xconnect/pair/zz_2dstall_2da',)"))
        << stalled->log_text();
    EXPECT_EQ(property("/org/xconnect/pair/zz_2dstall_2da", "State"), "s \"pending\"\n");
    EXPECT_NE(read_file(config_).find("zz-stall-a: zz-stall-b"), std::string::npos)
        << read_file(config_);
    expect_untouched_pair_lost_nothing();
    expect_clean_exit();
}

TEST_F(PolkitFault, ACallerThatLeavesWhileAuthorisationIsPendingChangesNothing) {
    start_stalling_polkit();
    start_untouched_pair_stream();
    const std::string pairs_before = busctl(std::string("call ") + manager + "ListPairs");
    const std::string file_before = read_file(config_);

    auto leaving =
        call_in_background(*member_, {"org.xconnect.Manager.AddPair", "zz-gone-a", "zz-gone-b"});
    const pid_t stall = wait_for_polkit_stall();
    ASSERT_NE(stall, 0) << "polkitd never ran the stalling rule\n" << leaving->log_text();
    // The caller goes away (its connection closes) while polkit thinks.
    leaving->signal(SIGKILL);
    EXPECT_EQ(leaving->wait_exit(10s), 128 + SIGKILL);
    EXPECT_TRUE(still_stalled(stall)) << "polkit answered before the caller left";

    // polkit allows it (the rules grant the group), but the caller is gone.
    EXPECT_NO_THROW(bus_->log().expect_log(
        "left the bus before polkit allowed org.xconnect.manage-pairs; nothing done", 60s));
    EXPECT_EQ(busctl(std::string("call ") + manager + "ListPairs"), pairs_before);
    EXPECT_EQ(read_file(config_), file_before);
    expect_error(gdbus("org.xconnect.Manager.GetPair zz-gone-a"), "org.xconnect.Error.NoSuchPair");
    EXPECT_FALSE(bus_->log().logged("zz-gone-a<->zz-gone-b: added")) << bus_->log().log_text();

    expect_untouched_pair_lost_nothing();
    // The pending entry was released (in a sanitized build LeakSanitizer
    // would report it at exit).
    expect_clean_exit();
}

}  // namespace
}  // namespace xconnect
