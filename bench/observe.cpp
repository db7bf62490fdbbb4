#include "observe.hpp"

#include <csignal>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "child_process.hpp"
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

const std::vector<std::string>& capture_notes() {
    return notes();
}

}  // namespace xconnect::bench
