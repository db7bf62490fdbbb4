#pragma once

// The rig: namespaces gen, mid and sink joined by veth pairs, and the BPF
// pieces attached to it (sink counter, attachments of the bare programs).

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench.skel.h"
#include "common/unique_fd.hpp"
#include "loader/bpf_skeleton.hpp"
#include "settings.hpp"

namespace xconnect::bench {

// ------------------------------------------------------------ BPF helpers

using Skeleton = BpfSkeleton<bench_bpf>;

Skeleton load_skeleton();
uint32_t ifindex_in(const Netns& netns, const std::string& ifname);

// An XDP program of ours attached to an interface for as long as this lives.
class Attachment {
  public:
    Attachment(const Netns& netns, const std::string& ifname, int program_fd, uint32_t mode_flag)
        : netns_(netns), ifname_(ifname), mode_flag_(mode_flag) {
        NetnsScope inside(netns_);
        const int rc = bpf_xdp_attach(static_cast<int>(if_nametoindex(ifname.c_str())), program_fd,
                                      mode_flag, nullptr);
        if (rc != 0) {
            throw std::runtime_error("attach XDP to " + ifname + ": " + std::strerror(-rc));
        }
    }
    ~Attachment() {
        NetnsScope inside(netns_);
        bpf_xdp_detach(static_cast<int>(if_nametoindex(ifname_.c_str())), mode_flag_, nullptr);
    }
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;

  private:
    const Netns& netns_;
    std::string ifname_;
    uint32_t mode_flag_;
};

// Counts (and drops) every frame arriving on an interface, natively.
class Sink {
  public:
    Sink(const Netns& netns, const std::string& ifname)
        : skeleton_(load_skeleton()),
          attachment_(netns, ifname, bpf_program__fd(skeleton_->progs.sink), XDP_FLAGS_DRV_MODE) {}

    uint64_t packets() const {
        std::vector<uint64_t> per_cpu(2 * static_cast<size_t>(libbpf_num_possible_cpus()));
        const uint32_t zero = 0;
        if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.sink_counts), &zero, per_cpu.data()) !=
            0) {
            throw std::runtime_error("read sink counters");
        }
        uint64_t sum = 0;
        for (size_t cpu = 0; cpu < per_cpu.size(); cpu += 2) {
            sum += per_cpu[cpu];
        }
        return sum;
    }
    // .bss is memory-mapped: the program and we share it.
    void arm() { __atomic_store_n(&skeleton_->bss->first_seen_ns, 0, __ATOMIC_SEQ_CST); }
    uint64_t first_seen_ns() const {
        return __atomic_load_n(&skeleton_->bss->first_seen_ns, __ATOMIC_SEQ_CST);
    }

  private:
    Skeleton skeleton_;
    Attachment attachment_;
};

// -------------------------------------------------------------- topology

// gen: g0 ⇄ m0 :mid: m1 ⇄ s0 :sink. What forwards sits in mid.
struct Topology {
    Netns gen{"bgen"};
    Netns mid{"bmid"};
    Netns sink_ns{"bsnk"};

    Topology() {
        // A queue per CPU at g0 (and m0, which must take as many): one AF_XDP
        // socket per queue, for a generator on every CPU.
        const std::string queues = "numtxqueues " + std::to_string(cpu_count()) + " numrxqueues " +
                                   std::to_string(cpu_count()) + " ";
        sh(mid.ip() + "link add name m0 " + queues + "type veth peer name g0 " + queues + "netns " +
           gen.name());
        sh(mid.ip() + "link add name m1 type veth peer name s0 netns " + sink_ns.name());
        for (const char* name : {"m0", "m1"}) {
            sh(mid.ip() + "link set " + name + " up");
        }
        sh(gen.ip() + "link set g0 up");
        sh(sink_ns.ip() + "link set s0 up");
    }
    // NAPI on m0 for methods without a native XDP program there: the
    // generator's XDP transmit into a veth needs it on the peer.
    void gro(bool on) { sh(mid.exec() + "ethtool -K m0 gro " + (on ? "on" : "off")); }
};

// ------------------------------------------------------------------ taps

// A tap in `netns`, up, for as long as this holds its file descriptor (not
// persistent: closing the fd removes the interface, even on failure). The
// fd is non-blocking: only then does tun build frames written to it in one
// page and run a native XDP program on them (tun_can_build_skb); otherwise
// it makes an skb and runs the program in generic mode whatever was asked.
class Tap {
  public:
    Tap(const Netns& netns, const std::string& ifname);
    int fd() const { return fd_.get(); }
    const std::string& name() const { return name_; }

  private:
    UniqueFd fd_;
    std::string name_;
};

// A user-space writer putting frames into `from`'s fd as fast as it can
// (the kernel receives them on that tap, where XDP runs) on one CPU, and a
// reader counting the frames of that size read() from `to`'s fd on another
// (nullptr: nobody reads, what arrives at `from` is counted elsewhere).
// Both busy-poll their non-blocking fds: a reader asleep in poll() would
// make every transmit into its tap pay for a wake-up.
class TapTraffic {
  public:
    TapTraffic(const Tap& from, const Tap* to, size_t frame_size, int writer_cpu, int reader_cpu);
    ~TapTraffic();
    TapTraffic(const TapTraffic&) = delete;
    TapTraffic& operator=(const TapTraffic&) = delete;

    // Frames read so far; throws if the writer or the reader failed.
    uint64_t frames_read() const;

  private:
    void write_loop(int fd, const std::string& name, size_t frame_size, int cpu);
    void read_loop(int fd, const std::string& name, size_t frame_size, int cpu);
    void fail(const std::string& what);

    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> read_{0};
    mutable std::mutex mutex_;
    std::string error_;  // the first failure, with context
    std::thread reader_;
    std::thread writer_;
};

}  // namespace xconnect::bench
