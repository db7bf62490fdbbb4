#pragma once

// Traffic without pktgen: BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES
// runs a program that bpf_redirect()s every frame out of a veth, for as long
// as it is not interrupted, pinned to one CPU. Live frames are at most one
// page (the kernel refuses larger ones with EINVAL: "disallow live data mode
// for jumbo frames" in bpf_prog_test_run_xdp), so 9000-byte frames come from
// an AF_PACKET socket instead (sendmmsg, PACKET_QDISC_BYPASS), also pinned.

#include <memory>
#include <string>

#include "child_process.hpp"
#include "netns.hpp"

namespace xconnect::bench {

enum class GeneratorKind {
    live_frames,    // XDP frames straight into the veth's peer (up to one page)
    packet_socket,  // skbs from AF_PACKET, any size up to the MTU
};

std::string to_string(GeneratorKind kind);
GeneratorKind generator_kind(const std::string& text);

// The `generate` subcommand: runs until SIGINT or SIGTERM.
int run_generator(const std::string& netns_path, const std::string& ifname, size_t frame_size,
                  int cpu, GeneratorKind kind);

// The generator as a child process (this binary's `generate`), sending from
// `ifname` in `netns` for as long as the object lives.
class Generator {
  public:
    Generator(const std::string& self, const test::Netns& netns, const std::string& ifname,
              size_t frame_size, int cpu, GeneratorKind kind = GeneratorKind::live_frames);
    ~Generator();
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

  private:
    std::unique_ptr<test::ChildProcess> process_;
};

}  // namespace xconnect::bench
