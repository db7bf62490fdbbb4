#include "topology.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "bench.skel.h"
#include "child_process.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "frames.hpp"
#include "generator.hpp"
#include "loader/bpf_skeleton.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netlink/links.hpp"
#include "netns.hpp"
#include "system_bus.hpp"

namespace xconnect::bench {

Skeleton load_skeleton() {
    return Skeleton::open_and_load("load the benchmark's BPF programs");
}

uint32_t ifindex_in(const Netns& netns, const std::string& ifname) {
    NetnsScope inside(netns);
    const uint32_t ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) {
        throw std::runtime_error("no interface " + ifname + " in " + netns.name());
    }
    return ifindex;
}

// ------------------------------------------------------------------ taps

Tap::Tap(const Netns& netns, const std::string& ifname) : name_(ifname) {
    {
        NetnsScope inside(netns);  // the tap is created in the caller's namespace
        fd_.reset(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
        if (!fd_) {
            throw_errno("create tap " + ifname + " in " + netns.name(), "open(/dev/net/tun)");
        }
        ifreq request{};
        // No packet information header: each read() and write() is one frame.
        request.ifr_flags = IFF_TAP | IFF_NO_PI;
        std::strncpy(request.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
        if (ioctl(fd_.get(), TUNSETIFF, &request) != 0) {
            throw_errno("create tap " + ifname + " in " + netns.name(), "ioctl(TUNSETIFF)");
        }
    }
    sh(netns.ip() + "link set " + ifname + " up");
}

namespace {

void pin_this_thread(int cpu, const std::string& who) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(cpu, &cpus);
    if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus); rc != 0) {
        throw SystemError("pin " + who + " to CPU " + std::to_string(cpu), "pthread_setaffinity_np",
                          rc);
    }
}

}  // namespace

TapTraffic::TapTraffic(const Tap& from, const Tap* to, size_t frame_size, int writer_cpu,
                       int reader_cpu) {
    // The reader first, so that the writer's first frames find it reading.
    if (to) {
        reader_ =
            std::thread(&TapTraffic::read_loop, this, to->fd(), to->name(), frame_size, reader_cpu);
    }
    writer_ =
        std::thread(&TapTraffic::write_loop, this, from.fd(), from.name(), frame_size, writer_cpu);
}

TapTraffic::~TapTraffic() {
    stop_ = true;
    writer_.join();
    if (reader_.joinable()) {
        reader_.join();
    }
}

uint64_t TapTraffic::frames_read() const {
    std::lock_guard lock(mutex_);
    if (!error_.empty()) {
        throw std::runtime_error(error_);
    }
    return read_.load(std::memory_order_relaxed);
}

void TapTraffic::fail(const std::string& what) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) {
        error_ = what;
    }
    stop_ = true;
}

void TapTraffic::write_loop(int fd, const std::string& name, size_t frame_size, int cpu) {
    try {
        pin_this_thread(cpu, "the writer into " + name);
    } catch (const std::exception& error) {
        fail(error.what());
        return;
    }
    const test::Frame frame =
        test::ipv4_udp_frame({2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, frame_size, 1);
    while (!stop_.load(std::memory_order_relaxed)) {
        // One frame per write(): a tap takes no batches from user space.
        if (::write(fd, frame.data(), frame.size()) < 0 && errno != EAGAIN && errno != EINTR &&
            errno != ENOBUFS) {
            fail("write a " + std::to_string(frame_size) + "-byte frame into tap " + name + ": " +
                 errno_text(errno));
            return;
        }
    }
}

void TapTraffic::read_loop(int fd, const std::string& name, size_t frame_size, int cpu) {
    try {
        pin_this_thread(cpu, "the reader of " + name);
    } catch (const std::exception& error) {
        fail(error.what());
        return;
    }
    std::vector<uint8_t> buffer(65536);
    uint64_t frames = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        // Only ours: the stack sends a router solicitation or two on its own.
        if (n == static_cast<ssize_t>(frame_size)) {
            read_.store(++frames, std::memory_order_relaxed);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            fail("read from tap " + name + ": " + errno_text(errno));
            return;
        }
    }
}

}  // namespace xconnect::bench
