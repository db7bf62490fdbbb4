// Faults of the config file, each while xconnect-1<->xconnect-2 is active and
// a loss meter streams across it: the daemon stays up and answers (a later
// good file is applied), says what is wrong naming the file (and line), keeps
// the last good configuration, and the untouched pair loses no frame.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "daemon_fixture.hpp"
#include "loss_meter.hpp"

namespace xconnect {
namespace {

using namespace test;

const std::string good_config = "links:\n  xconnect-1: xconnect-2\n";
// The good file plus one pair: applying it shows the daemon still answers.
const std::string later_config = "links:\n  xconnect-1: xconnect-2\n  xconnect-3: xconnect-3\n";

// A path of the test's own, removed at the end of the scope whatever happens.
struct RemovedAtEnd {
    fs::path path;
    ~RemovedAtEnd() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

class ConfigFaultTest : public MeteredTest {
  protected:
    // The daemon logs a line containing `what` (the file's name, and line
    // where there is one) that says it keeps the last good configuration.
    void expect_refused(
        const std::string& what,
        const std::string& keeping = "keeping the last good configuration (1 pair)") {
        std::string line;
        ASSERT_NO_THROW(line = daemon_->expect_log(what));
        EXPECT_NE(line.find(keeping), std::string::npos) << line;
        EXPECT_FALSE(daemon_->logged("xconnect-1<->xconnect-2: removed"));
    }

    // A good file written after the fault is applied.
    void expect_answering() {
        std::error_code ignored;
        if (fs::is_directory(config_, ignored)) {
            fs::remove_all(config_);
        }
        replace_by_rename(config_, later_config);
        expect_log("xconnect-3<->xconnect-3: added, active");
        expect_applied();
    }

    // 0 frames lost on the untouched pair, the whole time.
    void expect_no_loss() {
        const LossReport report = meter_->stop();
        std::cout << "loss meter across xconnect-1<->xconnect-2: " << report.summary() << "\n";
        EXPECT_GT(report.received, 0u) << report.summary();
        EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
        EXPECT_FALSE(daemon_->logged("xconnect-1<->xconnect-2: removed"));
        EXPECT_TRUE(daemon_->logged("xconnect-1<->xconnect-2: added, active"));
    }
};

TEST_F(ConfigFaultTest, FileTruncatedMidWrite) {
    // A writer that gives up half-way (and closes), then writes the rest.
    const std::string text = "links:\n  xconnect-1: xconnect-2\n  xconnect-3: {peer: xconnect-3}\n";
    const size_t half = text.find("peer: x") + 7;
    write_whole(config_, text.substr(0, half), O_TRUNC);
    expect_refused(config_.string() + ":3: not valid YAML");
    write_whole(config_, text.substr(half), O_APPEND);
    expect_log("xconnect-3<->xconnect-3: added, active");
    expect_applied();
    expect_no_loss();
}

TEST_F(ConfigFaultTest, FileReplacedByADirectory) {
    fs::remove(config_);
    fs::create_directory(config_);
    expect_refused(config_.string() + ": is a directory, not a config file");
    expect_answering();
    expect_no_loss();
}

TEST_F(ConfigFaultTest, FileReplacedByADanglingSymlink) {
    const RemovedAtEnd link_guard{config_.string() + ".link"};
    const fs::path& link = link_guard.path;
    fs::create_symlink(config_dir_ / "nowhere.yaml", link);
    fs::rename(link, config_);
    expect_refused("config file " + config_.string() + " is a symbolic link to \"" +
                       (config_dir_ / "nowhere.yaml").string() + "\", which does not exist",
                   "keeping the running 1 pair");
    expect_answering();
    expect_no_loss();
}

TEST_F(ConfigFaultTest, FileReplacedBy10MegabytesOfGarbage) {
    std::string garbage(10 * 1024 * 1024, '\0');
    std::mt19937_64 random(std::random_device{}());
    for (char& byte : garbage) {
        byte = static_cast<char>(random());
    }
    replace_by_rename(config_, garbage);
    expect_refused(config_.string() +
                   ": 10485760 bytes, more than the 4 MiB a config file may have");
    expect_answering();
    expect_no_loss();
}

TEST_F(ConfigFaultTest, FileOf100000NestedBrackets) {
    replace_by_rename(config_, std::string(100000, '['));
    expect_refused(config_.string() + ":1:101: nesting deeper than 100 levels");
    expect_answering();
    expect_no_loss();
}

TEST_F(ConfigFaultTest, ConfigDirectoryRemovedAndRecreated) {
    fs::remove_all(config_dir_);
    expect_log("config directory " + config_dir_.string() + " was removed");
    expect_refused("config file " + config_.string() + " does not exist",
                   "keeping the running 1 pair");
    fs::create_directory(config_dir_);
    expect_log("config directory " + config_dir_.string() + " is back");
    // A new file in the new directory is picked up.
    replace_by_rename(config_, later_config);
    expect_log("xconnect-3<->xconnect-3: added, active");
    expect_applied();
    expect_no_loss();
}

TEST_F(ConfigFaultTest, ConfigDirectoryReplacedWithTheFileAlreadyInIt) {
    // The new directory and its file appear before the daemon looks: it reads
    // the file when it sees the directory back.
    const RemovedAtEnd staged_guard{config_dir_.string() + ".new"};
    const fs::path& staged = staged_guard.path;
    fs::create_directory(staged);
    write_whole(staged / config_.filename(), later_config, O_CREAT | O_TRUNC);
    fs::remove_all(config_dir_);
    fs::rename(staged, config_dir_);
    expect_log("config directory " + config_dir_.string() + " is back");
    expect_log("xconnect-3<->xconnect-3: added, active");
    expect_applied();
    expect_no_loss();
}

}  // namespace
}  // namespace xconnect
