#pragma once

// Traffic without pktgen, from user space or BPF_PROG_TEST_RUN, pinned to
// CPUs (senders.hpp has the ways of sending). Live frames (XDP frames from
// BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) are the fastest, but
// some kernels refuse them (EPERM where CAP_SYS_RESOURCE is missing) and no
// kernel takes them above a page ("disallow live data mode for jumbo frames"
// in bpf_prog_test_run_xdp): then AF_PACKET or AF_XDP sockets send instead,
// from one process per CPU if that is faster.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "generator_spec.hpp"
#include "netns.hpp"

namespace xconnect::bench {

// The `generate` subcommand: runs until SIGINT or SIGTERM.
int run_generator(const std::string& netns_path, const std::string& ifname, size_t frame_size,
                  int cpu, GeneratorKind kind);

// Whether the kernel runs live frames out of `ifname` in `netns`: nullopt if
// it does, else what it answered ("Operation not permitted").
std::optional<std::string> live_frames_refused(const test::Netns& netns, const std::string& ifname);

// The generator as child processes (this binary's `generate`), sending from
// `ifname` in `netns` for as long as the object lives.
class Generator {
  public:
    Generator(const std::string& self, const test::Netns& netns, const std::string& ifname,
              size_t frame_size, const GeneratorSpec& spec);
    ~Generator();
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    // Empty while every process sends; else what the first one that stopped
    // printed (the syscall and the kernel's errno text).
    std::string failure();

  private:
    std::vector<std::unique_ptr<test::ChildProcess>> processes_;
};

}  // namespace xconnect::bench
