// The faults that mean nothing to root: the daemon as the unit's user
// (xconnect, with the unit's capabilities) and a config file or directory that
// user may not read or write. The error says so, the running pairs are kept,
// and a change that cannot be saved is refused and taken back.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus_fixture.hpp"

namespace xconnect {
namespace {

using namespace test;

class UnprivilegedBusTest : public BusTest {
  protected:
    void SetUp() override {
        set_daemon_user("xconnect");
        BusTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        replace_by_rename(config_, "links:\n  xconnect-1: xconnect-2\n");
        ASSERT_EQ(busctl(std::string("call ") + manager + "ListPairs"),
                  "a(ssso) 1 \"xconnect-1\" \"xconnect-2\" \"active\" "
                  "\"/org/xconnect/pair/xconnect_2d1\"\n");
        ASSERT_NO_THROW(bus_->log().expect_log("running as user xconnect"));
    }
    void TearDown() override {
        BusTest::TearDown();
        set_daemon_user(std::nullopt);
        // Back to what the environment says, for a test that follows in
        // the same process.
        if (const char* user = std::getenv("XCONNECT_TEST_DAEMON_USER"); user && *user) {
            set_daemon_user(user);
        }
    }

    std::string pairs() { return busctl(std::string("call ") + manager + "ListPairs"); }
};

TEST_F(UnprivilegedBusTest, AConfigFileItMayNotReadIsSaidAndTheRunningPairsAreKept) {
    // Root's own file, mode 0600, renamed over the daemon's.
    replace_by_rename(config_, "links:\n  xconnect-1: xconnect-3\n");
    ASSERT_EQ(::chmod(config_.c_str(), 0600), 0);
    ASSERT_NO_THROW(
        bus_->log().expect_log("open: Permission denied (EACCES); keeping the last "
                               "good configuration (1 pair)"));
    // Asked for, the reload says the same, and changes nothing.
    const Outcome reload = gdbus("org.xconnect.Manager.Reload");
    expect_error(reload, "org.xconnect.Error.InvalidConfig");
    EXPECT_NE(reload.output.find("Permission denied"), std::string::npos) << reload.output;
    EXPECT_NE(pairs().find("\"xconnect-1\" \"xconnect-2\" \"active\""), std::string::npos);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    EXPECT_EQ(xdp_program_on("xconnect-3"), 0u);
}

TEST_F(UnprivilegedBusTest, AChangeItCannotSaveIsRefusedAndTakenBack) {
    add_veth("xconnect-4", *peers_[2], "xc-4", "169.254.1.40/24");
    const std::string saved = read_file(config_);
    // The directory still the daemon's, but not writable: no temp file.
    ASSERT_EQ(::chmod(config_dir_.c_str(), 0555), 0);
    const Outcome refused = gdbus("org.xconnect.Manager.AddPair xconnect-3 xconnect-4");
    expect_error(refused, "org.freedesktop.DBus.Error.Failed");
    EXPECT_NE(refused.output.find(config_dir_.string()), std::string::npos) << refused.output;
    EXPECT_NE(refused.output.find("Permission denied"), std::string::npos) << refused.output;
    // Taken back: no pair, no attachment, the file as it was.
    EXPECT_EQ(pairs(),
              "a(ssso) 1 \"xconnect-1\" \"xconnect-2\" \"active\" "
              "\"/org/xconnect/pair/xconnect_2d1\"\n");
    EXPECT_EQ(xdp_program_on("xconnect-3"), 0u);
    EXPECT_EQ(xdp_program_on("xconnect-4"), 0u);
    EXPECT_EQ(read_file(config_), saved);
    // ... and a remove the same way: the pair comes back and forwards.
    expect_error(gdbus("org.xconnect.Manager.RemovePair xconnect-1"),
                 "org.freedesktop.DBus.Error.Failed");
    EXPECT_NE(pairs().find("\"xconnect-1\" \"xconnect-2\" \"active\""), std::string::npos);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    EXPECT_EQ(read_file(config_), saved);

    // Writable again: the same change is made and saved.
    ASSERT_EQ(::chmod(config_dir_.c_str(), 0755), 0);
    EXPECT_EQ(busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-4"),
              "o \"/org/xconnect/pair/xconnect_2d3\"\n");
    EXPECT_NE(read_file(config_).find("xconnect-3: xconnect-4"), std::string::npos)
        << read_file(config_);
}

// Decided: at start, a config directory it cannot watch is fatal (it could
// never be told of an edit), and said with the path and errno; activation
// then fails with the daemon's exit status.
TEST_F(UnprivilegedBusTest, AConfigDirectoryItMayNotEnterStopsTheStartSayingWhy) {
    bus_->stop_xconnectd();
    ASSERT_EQ(::chown(config_dir_.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(config_dir_.c_str(), 0700), 0);
    const Outcome refused = run("busctl call " + std::string(manager) + "ListPairs");
    EXPECT_NE(refused.status, 0);
    EXPECT_NE(refused.output.find("exited with status 1"), std::string::npos) << refused.output;
    EXPECT_NO_THROW(bus_->log().expect_log("xconnectd: watch config directory " +
                                           config_dir_.string() +
                                           ": inotify_add_watch: Permission denied (EACCES)"));
}

}  // namespace
}  // namespace xconnect
