#include "generator.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/unique_fd.hpp"
#include "frames.hpp"
#include "senders.hpp"

namespace xconnect::bench {

int run_generator(const std::string& netns_path, const std::string& ifname, size_t frame_size,
                  int cpu, GeneratorKind kind) {
    stop_on_signals();
    UniqueFd netns(open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns || setns(netns.get(), CLONE_NEWNET) != 0) {
        return sender_failed("setns(" + netns_path + ")");
    }
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(cpu, &cpus);
    if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
        return sender_failed("sched_setaffinity(CPU " + std::to_string(cpu) + ")");
    }
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) {
        return sender_failed("if_nametoindex(" + ifname + ")");
    }
    const test::Frame frame = generator_frame(frame_size);
    switch (kind) {
        case GeneratorKind::live_frames:
            return send_live_frames(ifindex, frame);
        case GeneratorKind::packet_socket:
            return send_from_packet_socket(ifindex, frame);
        case GeneratorKind::packet_ring:
            return send_from_packet_ring(ifindex, frame);
        case GeneratorKind::xsk_copy:
            return send_from_xsk(ifindex, frame, static_cast<unsigned>(cpu));
    }
    return 1;
}

std::optional<std::string> live_frames_refused(const test::Netns& netns,
                                               const std::string& ifname) {
    test::NetnsScope inside(netns);
    LiveFrames live(if_nametoindex(ifname.c_str()));
    const int rc = live.run(generator_frame(64), 1, 1);
    if (rc == 0) {
        return std::nullopt;
    }
    return std::string(std::strerror(-rc)) + " (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES)";
}

Generator::Generator(const std::string& self, const test::Netns& netns, const std::string& ifname,
                     size_t frame_size, const GeneratorSpec& spec) {
    for (int cpu : spec.cpus) {
        processes_.push_back(std::make_unique<test::ChildProcess>(
            self,
            std::vector<std::string>{"generate", netns.path(), ifname, std::to_string(frame_size),
                                     std::to_string(cpu), to_string(spec.kind)},
            nullptr));
    }
    for (auto& process : processes_) {
        process->expect_log("generator: sending");
    }
}

Generator::~Generator() {
    for (auto& process : processes_) {
        process->signal(SIGINT);
    }
    for (auto& process : processes_) {
        process->wait_exit();
    }
}

std::string Generator::failure() {
    for (auto& process : processes_) {
        if (process->wait_exit(std::chrono::milliseconds(0)) >= 0) {
            process->logged("");  // reads what it printed before it exited
            return process->log_text();
        }
    }
    return "";
}

}  // namespace xconnect::bench
