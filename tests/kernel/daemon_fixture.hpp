#pragma once

// The daemon fixture shared by the end-to-end tests: the original demo's
// topology in namespaces with unique names, xconnectd running in the "host"
// one, its config file in a private directory. Everything is removed in
// TearDown, also when a test fails.

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "leftovers.hpp"
#include "loss_meter.hpp"
#include "netns.hpp"
#include "unit_capabilities.hpp"

namespace xconnect::test {

namespace fs = std::filesystem;

inline void write_whole(const fs::path& file, const std::string& text, int flags) {
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
    ASSERT_TRUE(fd) << "open " << file;
    ASSERT_EQ(write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

// The way most editors save: a new file renamed over the old one.
inline void replace_by_rename(const fs::path& file, const std::string& text) {
    const fs::path temporary = file.string() + ".tmp";
    write_whole(temporary, text, O_CREAT | O_TRUNC);
    fs::rename(temporary, file);
}

// Someone else's XDP program ("return XDP_PASS"), loaded, not attached.
inline UniqueFd load_foreign_xdp_program() {
    const bpf_insn pass[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K,
         .dst_reg = 0,
         .src_reg = 0,
         .off = 0,
         .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0}};
    return UniqueFd(bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign", "GPL", pass, 2, nullptr));
}

// The original demo's topology: xconnect-N in a "host" namespace where the
// daemon runs, its veth peer xc-N in namespace nsN at 169.254.1.N0/24.
class DaemonTest : public testing::Test {
  protected:
    void SetUp() override {
        XCONNECT_REQUIRE_ROOT();
        sweep_leftovers_once();
        ensure_bpffs_mounted();
        host_ = std::make_unique<Netns>("host");
        for (int n = 1; n <= 3; ++n) {
            peers_.push_back(std::make_unique<Netns>("ns" + std::to_string(n)));
            add_veth("xconnect-" + std::to_string(n), *peers_.back(), "xc-" + std::to_string(n),
                     "169.254.1." + std::to_string(n * 10) + "/24");
        }
        config_dir_ = fs::temp_directory_path() / ("xconnect-test-" + unique_suffix());
        fs::create_directories(config_dir_);
        config_ = config_dir_ / "xconnect.yaml";
        if (const auto user = daemon_user()) {
            // As tmpfiles.d gives it /etc/xconnect: the daemon writes its
            // pairs back through a temp file in this directory.
            daemon_user_ = std::make_unique<DaemonUser>(*user);
            ASSERT_EQ(::chown(config_dir_.c_str(), daemon_user_->uid(), daemon_user_->gid()), 0);
        }
    }

    void TearDown() override {
        if (HasFailure() && daemon_) {
            std::cerr << "xconnectd's log:\n" << daemon_->log_text();
        }
        daemon_.reset();  // before the namespaces it runs in
        peers_.clear();
        host_.reset();
        if (!config_dir_.empty()) {
            fs::remove_all(config_dir_);
        }
        daemon_user_.reset();  // once nothing runs as it
    }

    void add_veth(const std::string& name, const Netns& peer_netns, const std::string& peer,
                  const std::string& address, const std::string& extra = "") {
        sh(host_->ip() + "link add name " + name + " " + extra + " type veth peer name " + peer +
           " netns " + peer_netns.name());
        sh(host_->ip() + "link set " + name + " up");
        sh(peer_netns.ip() + "addr add " + address + " dev " + peer);
        sh(peer_netns.ip() + "link set " + peer + " up");
    }

    void start_daemon(const std::string& config_text, std::vector<std::string> extra_args = {}) {
        replace_by_rename(config_, config_text);
        std::vector<std::string> args{"--no-bus", "--config", config_.string()};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        daemon_ = start_xconnectd(args);
    }

    // xconnectd in the host namespace, under exactly the unit's capabilities.
    std::unique_ptr<ChildProcess> start_xconnectd(const std::vector<std::string>& args) {
        std::vector<std::string> command = xconnectd_as_the_unit_runs_it(args);
        const std::string program = command.front();
        command.erase(command.begin());
        return std::make_unique<ChildProcess>(program, command, host_.get());
    }

    // Waits for the daemon to log `text` (an event, not a fixed sleep).
    void expect_log(const std::string& text) { ASSERT_NO_THROW(daemon_->expect_log(text)); }
    void expect_applied() { expect_log("config " + config_.string() + " applied"); }

    bool reachable(int from, const std::string& address) {
        return test::reachable(*peers_[from - 1], address);
    }
    bool unreachable(int from, const std::string& address) {
        return test::unreachable(*peers_[from - 1], address);
    }

    // Someone else's program attached to a host interface in generic mode,
    // the legacy way (replacing whatever is attached): its id. The attachment
    // keeps the program loaded.
    uint32_t attach_foreign_xdp_program(const std::string& ifname) {
        const UniqueFd program = load_foreign_xdp_program();
        if (!program) {
            throw std::runtime_error("load a foreign XDP program: bpf_prog_load failed");
        }
        {
            NetnsScope inside(*host_);
            const int error = bpf_xdp_attach(static_cast<int>(if_nametoindex(ifname.c_str())),
                                             program.get(), XDP_FLAGS_SKB_MODE, nullptr);
            if (error != 0) {
                throw std::runtime_error("attach a foreign XDP program to " + ifname + ": " +
                                         std::strerror(-error));
            }
        }
        return xdp_program_on(ifname);
    }

    // Id of the XDP program attached to a host interface, 0 for none.
    uint32_t xdp_program_on(const std::string& ifname) {
        NetnsScope inside(*host_);
        const auto ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        EXPECT_NE(ifindex, 0) << ifname;
        uint32_t id = 0;
        EXPECT_EQ(bpf_xdp_query_id(ifindex, 0, &id), 0);
        return id;
    }

    std::unique_ptr<Netns> host_;
    std::vector<std::unique_ptr<Netns>> peers_;
    std::unique_ptr<DaemonUser> daemon_user_;  // set when the daemon does not run as root
    fs::path config_dir_;
    fs::path config_;
    std::unique_ptr<ChildProcess> daemon_;
};

// The daemon running with xconnect-1 <-> xconnect-2 active.
class ConnectedTest : public DaemonTest {
  protected:
    void SetUp() override {
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        start_daemon("links:\n  xconnect-1: xconnect-2\n");
        expect_log("xconnect-1<->xconnect-2: added, active (generic)");
        expect_applied();
    }
};

// ConnectedTest with a loss meter streaming across xconnect-1<->xconnect-2
// from SetUp on: the untouched pair of a fault test, which must lose nothing.
class MeteredTest : public ConnectedTest {
  protected:
    void SetUp() override {
        ConnectedTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        meter_ = std::make_unique<LossMeter>(*peers_[0], "xc-1", "169.254.1.10", *peers_[1], "xc-2",
                                             "169.254.1.20");
        ASSERT_NO_THROW(meter_->wait_until_flowing());
    }

    void TearDown() override {
        meter_.reset();  // before the namespaces it streams across
        ConnectedTest::TearDown();
    }

    std::unique_ptr<LossMeter> meter_;
};

}  // namespace xconnect::test
