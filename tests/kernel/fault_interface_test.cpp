// Faults of the interfaces, each while xconnect-1<->xconnect-2 is active and a
// loss meter streams across it: interfaces deleted while their pair is being
// attached, renamed back and forth, and more pairs than the port map holds.
// The daemon stays up, names the pair and interface in its errors, ends in the
// right state with nothing left on interfaces that are gone, and the
// untouched pair loses no frame.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "daemon_fixture.hpp"
#include "loss_meter.hpp"

namespace xconnect {
namespace {

using namespace test;
using namespace std::chrono_literals;

// The ingress ifindexes in the xc_ports map of XDP program `program_id`.
std::set<uint32_t> port_map_keys(uint32_t program_id) {
    UniqueFd program(bpf_prog_get_fd_by_id(program_id));
    if (!program) {
        throw_errno("open XDP program id " + std::to_string(program_id), "bpf_prog_get_fd_by_id");
    }
    std::array<uint32_t, 16> map_ids{};
    bpf_prog_info info{};
    info.nr_map_ids = map_ids.size();
    info.map_ids = reinterpret_cast<uintptr_t>(map_ids.data());
    uint32_t length = sizeof(info);
    if (bpf_obj_get_info_by_fd(program.get(), &info, &length) != 0) {
        throw_errno("maps of XDP program id " + std::to_string(program_id),
                    "bpf_obj_get_info_by_fd");
    }
    for (uint32_t i = 0; i < std::min<uint32_t>(info.nr_map_ids, map_ids.size()); ++i) {
        UniqueFd map(bpf_map_get_fd_by_id(map_ids[i]));
        bpf_map_info map_info{};
        uint32_t map_info_length = sizeof(map_info);
        if (!map || bpf_obj_get_info_by_fd(map.get(), &map_info, &map_info_length) != 0 ||
            std::string(map_info.name) != "xc_ports") {
            continue;
        }
        std::set<uint32_t> keys;
        uint32_t key = 0;
        uint32_t next = 0;
        for (const void* previous = nullptr; bpf_map_get_next_key(map.get(), previous, &next) == 0;
             previous = &key) {
            keys.insert(next);
            key = next;
        }
        return keys;
    }
    throw std::runtime_error("XDP program id " + std::to_string(program_id) + " has no xc_ports");
}

class InterfaceFaultTest : public MeteredTest {
  protected:
    void SetUp() override {
        MeteredTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        program_ = xdp_program_on("xconnect-1");
        ASSERT_NE(program_, 0u);
    }

    uint32_t ifindex(const std::string& name) {
        NetnsScope inside(*host_);
        return if_nametoindex(name.c_str());
    }

    // Runs `commands` (one `ip` command a line, without "ip") in the host
    // namespace in one `ip -batch`, as fast as ip can.
    void ip_batch(const std::string& commands) {
        const fs::path file = config_dir_ / "batch";
        {
            std::ofstream out(file);
            out << commands;
        }
        sh(host_->ip() + "-batch " + file.string());
        fs::remove(file);
    }

    // Creates `name` (a veth: this kernel has no dummy) for the self-pair the config holds for it
    // and waits for that pair to be active: every link event before it has been handled by then
    // (they come in order on one socket).
    void mark(const std::string& name) {
        sh(host_->ip() + "link add " + name + " type veth peer name " + name + "p");
        expect_log(name + "<->" + name + ": active");
    }

    // The last state the daemon logged for the pair `label` ("a<->b").
    std::string last_state(const std::string& label) {
        std::istringstream log(daemon_->log_text());
        std::string state;
        for (std::string line; std::getline(log, line);) {
            const size_t at = line.find(label + ": ");
            if (at == std::string::npos) {
                continue;
            }
            std::string rest = line.substr(at + label.size() + 2);
            if (rest.starts_with("added, ")) {
                rest = rest.substr(7);
            }
            for (const char* word : {"active", "pending", "failed"}) {
                if (rest.starts_with(word)) {
                    state = rest;
                }
            }
        }
        return state;
    }

    // 0 frames lost on the untouched pair, the whole time.
    void expect_no_loss() {
        const LossReport report = meter_->stop();
        std::cout << "loss meter across xconnect-1<->xconnect-2: " << report.summary() << "\n";
        EXPECT_GT(report.received, 0u) << report.summary();
        EXPECT_EQ(report.forwarding_lost(), 0u) << report.summary();
        EXPECT_EQ(last_state("xconnect-1<->xconnect-2"), "active (generic)");
        EXPECT_EQ(xdp_program_on("xconnect-1"), program_) << "the untouched pair was re-attached";
        EXPECT_EQ(xdp_program_on("xconnect-2"), program_);
    }

    uint32_t program_ = 0;
};

TEST_F(InterfaceFaultTest, InterfacesDeletedWhileTheirPairIsBeingAttached) {
    replace_by_rename(config_,
                      "links:\n  xconnect-1: xconnect-2\n  race-a: race-b\n"
                      "  mark-1: mark-1\n  mark-2: mark-2\n");
    expect_applied();
    // The daemon attaches to each new race-a/race-b while the loop already
    // deletes them: attaches fail on vanished interfaces, events pile up.
    std::string churn;
    for (int round = 0; round < 300; ++round) {
        churn += "link add race-a type veth peer name race-b\nlink del race-a\n";
    }
    ip_batch(churn);
    mark("mark-1");
    // (Only a change of state is logged: the first side to go is named.)
    EXPECT_TRUE(last_state("race-a<->race-b").starts_with("pending (race-"))
        << last_state("race-a<->race-b");
    EXPECT_EQ(ifindex("race-a"), 0u);
    EXPECT_EQ(ifindex("race-b"), 0u);
    const uint32_t mark_1 = ifindex("mark-1");
    EXPECT_EQ(port_map_keys(program_),
              (std::set<uint32_t>{ifindex("xconnect-1"), ifindex("xconnect-2"), mark_1}))
        << "a map entry left for an interface that is gone";

    // The same race, ending with the interfaces there.
    ip_batch(churn + "link add race-a type veth peer name race-b\n");
    mark("mark-2");
    EXPECT_EQ(last_state("race-a<->race-b"), "active (generic)");
    EXPECT_EQ(xdp_program_on("race-a"), program_);
    EXPECT_EQ(xdp_program_on("race-b"), program_);
    EXPECT_EQ(port_map_keys(program_),
              (std::set<uint32_t>{ifindex("xconnect-1"), ifindex("xconnect-2"), mark_1,
                                  ifindex("mark-2"), ifindex("race-a"), ifindex("race-b")}));
    // Attaches that lost the race (if any did) name the interface.
    std::istringstream log(daemon_->log_text());
    int failures = 0;
    for (std::string line; std::getline(log, line);) {
        const std::string failed = "race-a<->race-b: failed: ";
        if (const size_t at = line.find(failed); at != std::string::npos) {
            ++failures;
            const std::string reason = line.substr(at + failed.size());
            EXPECT_TRUE(reason.starts_with("race-a") || reason.starts_with("race-b")) << line;
        }
    }
    std::cout << failures << " attaches lost the race\n";
    expect_no_loss();
}

TEST_F(InterfaceFaultTest, InterfaceRenamedBackAndForth1000Times) {
    // Down: Linux renames only interfaces that are down.
    sh(host_->ip() + "link add ren-a type veth peer name ren-b");
    replace_by_rename(config_,
                      "links:\n  xconnect-1: xconnect-2\n  ren-a: ren-b\n"
                      "  mark-1: mark-1\n  mark-2: mark-2\n");
    expect_log("ren-a<->ren-b: added, active (generic)");
    expect_applied();
    const uint32_t ren_a = ifindex("ren-a");

    std::string renames;
    for (int round = 0; round < 1000; ++round) {
        renames += "link set ren-a name ren-x\nlink set ren-x name ren-a\n";
    }
    ip_batch(renames);
    mark("mark-1");
    EXPECT_EQ(last_state("ren-a<->ren-b"), "active (generic)");
    EXPECT_EQ(ifindex("ren-a"), ren_a);
    EXPECT_EQ(xdp_program_on("ren-a"), program_);
    EXPECT_EQ(xdp_program_on("ren-b"), program_);
    EXPECT_EQ(port_map_keys(program_),
              (std::set<uint32_t>{ifindex("xconnect-1"), ifindex("xconnect-2"), ifindex("mark-1"),
                                  ren_a, ifindex("ren-b")}));

    // Ending under the other name: pending, and the program gone from it.
    ip_batch(renames + "link set ren-a name ren-x\n");
    mark("mark-2");
    EXPECT_EQ(last_state("ren-a<->ren-b"), "pending (ren-a absent)");
    EXPECT_EQ(xdp_program_on("ren-x"), 0u) << "our program left on an interface no pair names";
    EXPECT_EQ(xdp_program_on("ren-b"), 0u);
    EXPECT_EQ(port_map_keys(program_),
              (std::set<uint32_t>{ifindex("xconnect-1"), ifindex("xconnect-2"), ifindex("mark-1"),
                                  ifindex("mark-2")}));
    expect_no_loss();
}

// 10 000 pairs in one file; the port map holds XC_MAX_PORTS = 4096
// interfaces, 2 of them the fixture's.
class PortMapTest : public InterfaceFaultTest {
  protected:
    static constexpr int pairs = 10000;
    static constexpr int fitting = 4096 / 2 - 1;  // with xconnect-1<->xconnect-2
    static constexpr int beyond = 5;              // pairs that do not fit

    static std::string name(int n, char side) {
        char text[16];
        std::snprintf(text, sizeof(text), "pm%05d%c", n, side);
        return text;
    }
    static std::string label(int n) { return name(n, 'a') + "<->" + name(n, 'b'); }
    // `ip -batch` lines creating the interfaces of pairs [from, to): the two
    // ends of one veth each (this kernel has no dummy interfaces).
    static std::string create(int from, int to) {
        std::string commands;
        for (int n = from; n < to; ++n) {
            commands += "link add " + name(n, 'a') + " type veth peer name " + name(n, 'b') + "\n";
        }
        return commands;
    }
};

TEST_F(PortMapTest, TenThousandPairsThenAsManyInterfacesAsThePortMapHolds) {
    std::string text = "links:\n  xconnect-1: xconnect-2\n";
    for (int n = 0; n < pairs; ++n) {
        text += "  " + name(n, 'a') + ": " + name(n, 'b') + "\n";
    }
    replace_by_rename(config_, text);
    ASSERT_NO_THROW(daemon_->expect_log(
        "applied (changed): 10001 pairs: 1 active, 10000 pending, 0 failed", 120s));

    // As many as fit: all active.
    ip_batch(create(0, fitting));
    ASSERT_NO_THROW(daemon_->expect_log(label(fitting - 1) + ": active (generic)", 300s));
    daemon_->signal(SIGHUP);
    ASSERT_NO_THROW(
        daemon_->expect_log("applied (SIGHUP): 10001 pairs: 2048 active, 7953 "
                            "pending, 0 failed",
                            120s));
    EXPECT_EQ(port_map_keys(program_).size(), 4096u);

    // Beyond: failed, saying why, nothing attached; the others unharmed.
    ip_batch(create(fitting, fitting + beyond));
    for (int n = fitting; n < fitting + beyond; ++n) {
        ASSERT_NO_THROW(daemon_->expect_log(
            label(n) + ": failed: the port map is full: 4096 interfaces (XC_MAX_PORTS) are "
                       "cross-connected already",
            120s));
        EXPECT_EQ(xdp_program_on(name(n, 'a')), 0u);
        EXPECT_EQ(xdp_program_on(name(n, 'b')), 0u);
    }
    daemon_->signal(SIGHUP);
    ASSERT_NO_THROW(
        daemon_->expect_log("applied (SIGHUP): 10001 pairs: 2048 active, 7948 "
                            "pending, 5 failed",
                            120s));
    EXPECT_EQ(port_map_keys(program_).size(), 4096u);
    EXPECT_EQ(xdp_program_on(name(0, 'a')), program_);
    EXPECT_EQ(xdp_program_on(name(fitting - 1, 'b')), program_);
    EXPECT_FALSE(daemon_->logged(": removed"));
    expect_no_loss();

    // How the log reads at this scale: a line per pair at info level, errors
    // only for the pairs that did not fit, nothing at warning level. Outside
    // the journal, errors and warnings say so in words.
    std::map<std::string, int> by_level;
    std::istringstream log(daemon_->log_text());
    for (std::string line; std::getline(log, line);) {
        ++by_level[line.starts_with("error: ")     ? "error"
                   : line.starts_with("warning: ") ? "warning"
                                                   : "notice or info"];
    }
    std::cout << "daemon log: " << by_level["error"] << " error, " << by_level["warning"]
              << " warning, " << by_level["notice or info"] << " notice or info lines\n";
    EXPECT_EQ(by_level["error"], beyond) << "one error per pair that does not fit";
    EXPECT_EQ(by_level["warning"], 0) << daemon_->log_text().substr(0, 4096);
}

}  // namespace
}  // namespace xconnect
