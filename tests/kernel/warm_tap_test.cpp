// The warm tap (loader/warm_tap.hpp): a tap of the daemon's own holds its XDP
// program in the kernel's XDP dispatcher while the daemon lives, and goes
// with it, however it ends.

#include <gtest/gtest.h>
#include <net/if.h>

#include <csignal>
#include <string>

#include "daemon_fixture.hpp"

namespace xconnect::test {
namespace {

class WarmTapTest : public DaemonTest {
  protected:
    // The line the daemon logs about its tap, and the program id it names.
    uint32_t expect_warm_tap(const std::string& name) {
        std::string line;
        EXPECT_NO_THROW(line = daemon_->expect_log("warm tap: " + name + " (ifindex "));
        const std::string marker = "holds XDP program id ";
        const size_t at = line.find(marker);
        EXPECT_NE(at, std::string::npos) << line;
        return at == std::string::npos ? 0 : std::stoul(line.substr(at + marker.size()));
    }

    bool exists(const std::string& ifname) {
        NetnsScope inside(*host_);
        return if_nametoindex(ifname.c_str()) != 0;
    }

    uint32_t native_program_on(const std::string& ifname) {
        NetnsScope inside(*host_);
        uint32_t id = 0;
        EXPECT_EQ(bpf_xdp_query_id(static_cast<int>(if_nametoindex(ifname.c_str())),
                                   XDP_FLAGS_DRV_MODE, &id),
                  0);
        return id;
    }
};

TEST_F(WarmTapTest, HoldsTheProgramNativelyOnADownTapWhileTheDaemonRuns) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    const uint32_t program = expect_warm_tap("xconnect-warm0");
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    expect_applied();
    ASSERT_NE(program, 0u);
    EXPECT_EQ(native_program_on("xconnect-warm0"), program);
    EXPECT_EQ(xdp_program_on("xconnect-1"), program) << "the pair runs another program";
    const std::string details = sh(host_->ip() + "-details link show xconnect-warm0");
    EXPECT_NE(details.find("state DOWN"), std::string::npos) << details;
    EXPECT_NE(details.find("tun type tap"), std::string::npos) << details;
    EXPECT_TRUE(reachable(1, "169.254.1.20"));

    // Removing the last pair leaves the program where it is held.
    replace_by_rename(config_, "links: {}\n");
    expect_log("xconnect-1<->xconnect-2: removed");
    EXPECT_EQ(xdp_program_on("xconnect-1"), 0u);
    EXPECT_EQ(native_program_on("xconnect-warm0"), program);

    EXPECT_EQ(daemon_->terminate(), 0);
    EXPECT_FALSE(exists("xconnect-warm0")) << "the tap outlived a stopped daemon";
}

TEST_F(WarmTapTest, GoesWithAKilledDaemon) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    expect_warm_tap("xconnect-warm0");
    expect_applied();
    daemon_->signal(SIGKILL);
    EXPECT_EQ(daemon_->wait_exit(), 128 + SIGKILL);
    EXPECT_FALSE(exists("xconnect-warm0")) << "the tap outlived a killed daemon";
    // What the killed one left forwarding is taken over, and held again.
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
    start_daemon("links:\n  xconnect-1: xconnect-2\n");
    const uint32_t program = expect_warm_tap("xconnect-warm0");
    expect_applied();
    EXPECT_EQ(native_program_on("xconnect-warm0"), program);
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

TEST_F(WarmTapTest, NoWarmTapMakesNone) {
    start_daemon("links:\n  xconnect-1: xconnect-2\n", {"--no-warm-tap"});
    expect_log("xconnect-1<->xconnect-2: added, active (generic)");
    expect_applied();
    EXPECT_FALSE(daemon_->logged("warm tap:"));
    EXPECT_FALSE(exists("xconnect-warm0"));
    EXPECT_TRUE(reachable(1, "169.254.1.20"));
}

}  // namespace
}  // namespace xconnect::test
