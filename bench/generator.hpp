#pragma once

// Traffic without pktgen: BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES
// runs a program that bpf_redirect()s every frame out of a veth, for as long
// as it is not interrupted, pinned to one CPU.

#include <memory>
#include <string>

#include "child_process.hpp"
#include "netns.hpp"

namespace xconnect::bench {

// The `generate` subcommand: runs until SIGINT or SIGTERM.
int run_generator(const std::string& netns_path, const std::string& ifname, size_t frame_size,
                  int cpu);

// The generator as a child process (this binary's `generate`), sending from
// `ifname` in `netns` for as long as the object lives.
class Generator {
  public:
    Generator(const std::string& self, const test::Netns& netns, const std::string& ifname,
              size_t frame_size, int cpu);
    ~Generator();
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

  private:
    std::unique_ptr<test::ChildProcess> process_;
};

}  // namespace xconnect::bench
