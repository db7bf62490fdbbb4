// The sweep of what a killed test run left: objects with a dead run's marker
// go, everything else stays.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "leftovers.hpp"
#include "netns.hpp"

namespace xconnect {
namespace {

using namespace test;
namespace fs = std::filesystem;

// A pid that no process has now: a child that has exited and been reaped.
pid_t dead_pid() {
    const pid_t child = fork();
    if (child == 0) {
        _exit(0);
    }
    waitpid(child, nullptr, 0);
    return child;
}

TEST(LeftoversTest, WhatADeadRunLeftGoesAndNothingElse) {
    XCONNECT_REQUIRE_ROOT();
    const std::string dead = std::to_string(dead_pid()) + "x0";
    const std::string alive = unique_suffix();  // this process's: must stay
    const std::string dead_netns = "xct-" + dead + "-left";
    const std::string live_netns = "xct-" + alive + "-mine";
    const std::string foreign_netns = "xconnect-sweep-" + alive;  // no marker
    for (const std::string& name : {dead_netns, live_netns, foreign_netns}) {
        sh("ip netns add " + name);
    }
    const fs::path rules_dir = "/etc/polkit-1/rules.d";
    fs::create_directories(rules_dir);
    const fs::path dead_rules = rules_dir / ("49-xconnect-test-" + dead + ".rules");
    const fs::path foreign_rules = rules_dir / ("49-xconnect-sweep-" + alive + ".rules");
    std::ofstream(dead_rules) << "";
    std::ofstream(foreign_rules) << "";
    const fs::path dead_dir = fs::temp_directory_path() / ("xconnect-test-" + dead);
    const fs::path live_dir = fs::temp_directory_path() / ("xconnect-test-" + alive);
    fs::create_directories(dead_dir);
    fs::create_directories(live_dir);
    sh("groupadd xct" + dead);

    sweep_leftovers();

    const std::string namespaces = sh("ip netns list");
    EXPECT_EQ(namespaces.find(dead_netns), std::string::npos) << namespaces;
    EXPECT_NE(namespaces.find(live_netns), std::string::npos) << namespaces;
    EXPECT_NE(namespaces.find(foreign_netns), std::string::npos) << namespaces;
    EXPECT_FALSE(fs::exists(dead_rules));
    EXPECT_TRUE(fs::exists(foreign_rules));
    EXPECT_FALSE(fs::exists(dead_dir));
    EXPECT_TRUE(fs::exists(live_dir));
    EXPECT_NE(sh_status("getent group xct" + dead), 0);

    for (const std::string& name : {dead_netns, live_netns, foreign_netns}) {
        sh_status("ip netns del " + name);
    }
    sh_status("groupdel xct" + dead);
    std::error_code ignored;
    fs::remove(dead_rules, ignored);
    fs::remove(foreign_rules, ignored);
    fs::remove_all(dead_dir, ignored);
    fs::remove_all(live_dir, ignored);
}

}  // namespace
}  // namespace xconnect
