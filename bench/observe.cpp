#include "observe.hpp"

#include <bpf/bpf.h>

#include <unistd.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "child_process.hpp"
#include "common/unique_fd.hpp"
#include "contract/pcapng.hpp"
#include "forwarding.hpp"
#include "settings.hpp"
#include "system_bus.hpp"

namespace xconnect::bench {

namespace {

std::vector<std::string>& notes() {
    static std::vector<std::string> all;
    return all;
}

std::vector<std::string> daemon_args(const std::filesystem::path& config, const std::string& mode) {
    return {"--no-bus", "--config", config.string(), "--xdp-mode", mode};
}

std::shared_ptr<void> started(std::shared_ptr<ChildProcess> daemon, const std::string& label,
                              const std::string& mode) {
    const std::string line = daemon->expect_log(label + ": added, ");
    if (line.find(label + ": added, active (" + mode + ")") == std::string::npos) {
        throw std::runtime_error("xconnectd was to make " + label + " active (" + mode +
                                 "): " + line);
    }
    return daemon;
}

// What the capture file's statistics say.
std::string summary(const std::filesystem::path& file, const std::string& what) {
    std::ifstream stream(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(stream)),
                            std::istreambuf_iterator<char>());
    pcapng::StreamReader reader(64 << 20);
    reader.feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    uint64_t written = 0, received = 0, lost = 0, start = 0, end = 0;
    uint32_t frame_size = 0;
    while (auto block = reader.next()) {
        if (auto* packet = std::get_if<pcapng::Packet>(&*block)) {
            frame_size = frame_size ? frame_size : packet->original_length;
            ++written;
        } else if (auto* isb = std::get_if<pcapng::InterfaceStatistics>(&*block)) {
            received += isb->received.value_or(0);
            lost += isb->dropped.value_or(0);
            start = isb->start_ns.value_or(0);
            end = isb->end_ns.value_or(0);
        }
    }
    const double seconds = end > start ? double(end - start) / 1e9 : 0;
    std::ostringstream line;
    line << what << " " << frame_size << " B: " << written << " frames written in "
         << two_places(seconds) << " s ("
         << two_places(seconds > 0 ? double(written) / seconds / 1e6 : 0) << " Mpps), " << received
         << " received, " << lost << " lost (ring or reader full)";
    return line.str();
}

}  // namespace

std::shared_ptr<void> xconnectd_before_capture(Topology& topology,
                                               const std::filesystem::path& config,
                                               const std::string& mode, const std::string& label) {
    return started(std::make_shared<ChildProcess>(XCONNECTD_BEFORE_CAPTURE_PATH,
                                                  daemon_args(config, mode), &topology.mid),
                   label, mode);
}

std::shared_ptr<void> xconnectd_without_drop_accounting(Topology& topology,
                                                        const std::filesystem::path& config,
                                                        const std::string& mode,
                                                        const std::string& label) {
    const std::string caps = "-all,+bpf,+net_admin";
    std::vector<std::string> args{"--inh-caps=" + caps, "--ambient-caps=" + caps,
                                  "--bounding-set=" + caps, "--", XCONNECTD_PATH};
    for (std::string& arg : daemon_args(config, mode)) {
        args.push_back(std::move(arg));
    }
    auto daemon = std::make_shared<ChildProcess>("/usr/bin/setpriv", args, &topology.mid);
    daemon->expect_log("drop accounting: ");
    return started(std::move(daemon), label, mode);
}

std::shared_ptr<void> xconnectd_counting_ring_drops(Topology& topology,
                                                    const std::filesystem::path& config,
                                                    const std::string& mode,
                                                    const std::string& label) {
    std::vector<std::string> args = daemon_args(config, mode);
    args.push_back("--count-ring-drops");
    auto daemon = std::make_shared<ChildProcess>(XCONNECTD_PATH, args, &topology.mid);
    daemon->expect_log("xdp:xdp_devmap_xmit");
    return started(std::move(daemon), label, mode);
}

std::shared_ptr<void> xconnectd_capturing(Topology& topology, const std::filesystem::path& config,
                                          const std::string& mode, const std::string& label,
                                          const std::filesystem::path& scratch, std::string what) {
    struct Capturing {
        std::unique_ptr<test::SystemBus> bus;
        std::unique_ptr<ChildProcess> capture;
        std::filesystem::path file;
        std::string what;
        ~Capturing() {
            if (capture) {
                capture->signal(SIGINT);  // ends it through the daemon, with statistics
                capture->wait_exit();
                notes().push_back(summary(file, what));
                std::filesystem::remove(file);
            }
            bus.reset();  // stops xconnectd
        }
    };
    auto capturing = std::make_shared<Capturing>();
    capturing->what = std::move(what);
    capturing->file = scratch / "bench-capture.pcapng";
    capturing->bus = std::make_unique<test::SystemBus>(
        topology.mid, std::vector<std::string>{"--config", config.string(), "--xdp-mode", mode});
    const std::string left = label.substr(0, label.find("<->"));
    capturing->capture = std::make_unique<ChildProcess>(
        XCONNECTCTL_PATH, std::vector<std::string>{"capture", left, "-w", capturing->file.string()},
        nullptr);
    const std::string added = capturing->bus->log().expect_log(label + ": added, ");
    if (added.find(label + ": added, active (" + mode + ")") == std::string::npos) {
        throw std::runtime_error("xconnectd was to make " + label + " active (" + mode +
                                 "): " + added);
    }
    capturing->bus->log().expect_log("capture of " + label + " started by");
    return capturing;
}

namespace {

// Runs of every xconnect program, by name (as the kernel keeps it: 15 bytes).
std::map<std::string, uint64_t> program_runs() {
    std::map<std::string, uint64_t> runs;
    for (uint32_t id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
        const UniqueFd program(bpf_prog_get_fd_by_id(id));
        bpf_prog_info info{};
        uint32_t length = sizeof info;
        if (program && bpf_obj_get_info_by_fd(program.get(), &info, &length) == 0 &&
            std::string_view(info.name).starts_with("xconnect")) {
            runs[info.name] += info.run_cnt;
        }
    }
    return runs;
}

std::vector<DropTraceCount>& counts() {
    static std::vector<DropTraceCount> all;
    return all;
}

}  // namespace

std::string DropTraceCount::text() const {
    if (!error.empty()) {
        return name + ": runs not counted (" + error + ")";
    }
    auto per_frame = [&](uint64_t runs) {
        return two_places(frames ? double(runs) / double(frames) : 0.0);
    };
    return name + " 64 B: " + std::to_string(frames) +
           " frames through the XDP program; per frame, xdp:xdp_redirect_err's program ran " +
           per_frame(redirect_err_runs) + " times, xdp:xdp_devmap_xmit's " +
           per_frame(devmap_xmit_runs);
}

void count_drop_traces(const std::string& name, Topology& topology,
                       const std::function<std::shared_ptr<void>(Topology&)>& forwarder,
                       const std::function<Traffic()>& traffic) {
    DropTraceCount& count = counts().emplace_back();
    count.name = name;
    const auto forwarding = forwarder(topology);
    const UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
    if (!stats) {
        count.error = std::string("BPF_ENABLE_STATS: ") + std::strerror(errno);
        return;
    }
    const std::map<std::string, uint64_t> before = program_runs();
    {
        const Traffic running = traffic();
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::map<std::string, uint64_t> after = program_runs();
    auto runs = [&](const std::string& program) {
        const auto earlier = before.find(program);
        return after[program] - (earlier != before.end() ? earlier->second : 0);
    };
    count.frames = runs("xconnect");
    count.redirect_err_runs = runs("xconnect_redire");
    count.devmap_xmit_runs = runs("xconnect_devmap");
}

const std::vector<DropTraceCount>& drop_trace_counts() {
    return counts();
}

const std::vector<std::string>& capture_notes() {
    return notes();
}

}  // namespace xconnect::bench
