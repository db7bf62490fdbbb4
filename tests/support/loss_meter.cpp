#include "loss_meter.hpp"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>

#include "common/error.hpp"

namespace xconnect::test {

namespace {

// What every frame of the stream carries; anything else reaching the receiver
// (another meter's stream, a stray datagram) is ignored.
struct Payload {
    uint64_t stream_id;
    uint64_t sequence;
};

constexpr size_t batch_size = 64;
// A received sequence number beyond this is not ours (nobody sends that long).
constexpr uint64_t sequence_limit = uint64_t{1} << 28;
// After the sender stops: wait for the last frame, at most this long in total
// and at most `quiet_period` without any frame.
constexpr auto drain_limit = std::chrono::seconds(3);
constexpr auto quiet_period = std::chrono::milliseconds(300);
// A sender that fell further behind its schedule (descheduled) drops the debt
// rather than flood the path with a burst that is not the stream we promised.
constexpr auto catch_up_limit = std::chrono::milliseconds(50);

std::string mac_of(const Netns& netns, const std::string& ifname) {
    NetnsScope inside(netns);
    UniqueFd probe(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!probe) {
        throw_errno("read the MAC address of " + ifname + " in " + netns.name(), "socket");
    }
    ifreq request{};
    if (ifname.size() >= sizeof(request.ifr_name)) {
        throw std::invalid_argument("interface name too long: " + ifname);
    }
    std::memcpy(request.ifr_name, ifname.c_str(), ifname.size() + 1);
    if (ioctl(probe.get(), SIOCGIFHWADDR, &request) != 0) {
        throw_errno("read the MAC address of " + ifname + " in " + netns.name(), "SIOCGIFHWADDR");
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(request.ifr_hwaddr.sa_data);
    char text[18];
    std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return text;
}

sockaddr_in ipv4_address(const std::string& ip, uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
        throw std::invalid_argument("not an IPv4 address: " + ip);
    }
    return address;
}

void set_option(int fd, int level, int name, int value, const std::string& context,
                const char* option) {
    if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
        throw_errno(context, std::string("setsockopt ") + option);
    }
}

// A UDP socket in `netns`, bound to ifname and ip (port 0: any).
UniqueFd bound_udp_socket(const Netns& netns, const std::string& ifname, const std::string& ip,
                          const std::string& context) {
    NetnsScope inside(netns);
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw_errno(context, "socket");
    }
    if (setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                   static_cast<socklen_t>(ifname.size())) != 0) {
        throw_errno(context, "setsockopt SO_BINDTODEVICE " + ifname);
    }
    const sockaddr_in address = ipv4_address(ip, 0);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        throw_errno(context, "bind " + ip);
    }
    return fd;
}

// "12, 40-57, 90" for the first `limit` runs of consecutive numbers.
std::string ranges(const std::vector<uint64_t>& numbers, size_t limit) {
    std::ostringstream text;
    size_t runs = 0;
    for (size_t i = 0; i < numbers.size();) {
        size_t end = i;
        while (end + 1 < numbers.size() && numbers[end + 1] == numbers[end] + 1) {
            ++end;
        }
        if (runs == limit) {
            text << ", ...";
            break;
        }
        text << (runs > 0 ? ", " : "") << numbers[i];
        if (end > i) {
            text << "-" << numbers[end];
        }
        ++runs;
        i = end + 1;
    }
    return text.str();
}

uint64_t random_stream_id() {
    std::random_device random;
    return (uint64_t{random()} << 32) | random();
}

}  // namespace

uint64_t LossReport::forwarding_lost() const {
    return missing.size() > receiver_drops ? missing.size() - receiver_drops : 0;
}

std::string LossReport::summary() const {
    std::ostringstream text;
    text << "sent " << sent << ", received " << received << ", missing " << missing.size();
    if (!missing.empty()) {
        text << " (" << ranges(missing, 10) << ")";
    }
    text << ", duplicates " << duplicates << ", receiver drops " << receiver_drops
         << ", forwarding lost " << forwarding_lost();
    return text.str();
}

LossMeter::StaticNeighbour::StaticNeighbour(const Netns& netns, const std::string& ifname,
                                            const std::string& ip, const std::string& mac)
    : delete_command_(netns.ip() + "neigh del " + ip + " dev " + ifname) {
    sh(netns.ip() + "neigh replace " + ip + " lladdr " + mac + " dev " + ifname + " nud permanent");
}

LossMeter::StaticNeighbour::~StaticNeighbour() {
    sh_status(delete_command_);
}

LossMeter::LossMeter(const Netns& sender, const std::string& sender_ifname,
                     const std::string& source_ip, const Netns& receiver,
                     const std::string& receiver_ifname, const std::string& destination_ip,
                     unsigned frames_per_second, int receive_buffer_bytes)
    : sender_netns_(sender),
      receiver_netns_(receiver),
      sender_ifname_(sender_ifname),
      receiver_ifname_(receiver_ifname),
      source_ip_(source_ip),
      destination_ip_(destination_ip),
      frames_per_second_(frames_per_second),
      stream_id_(random_stream_id()),
      towards_receiver_(sender, sender_ifname, destination_ip, mac_of(receiver, receiver_ifname)),
      towards_sender_(receiver, receiver_ifname, source_ip, mac_of(sender, sender_ifname)) {
    if (frames_per_second_ == 0) {
        throw std::invalid_argument("LossMeter: frames_per_second must be positive");
    }
    const std::string receiver_context = "loss meter receiver on " + receiver_ifname + " (" +
                                         destination_ip + ") in " + receiver.name();
    receive_socket_ = bound_udp_socket(receiver, receiver_ifname, destination_ip, receiver_context);
    set_option(receive_socket_.get(), SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer_bytes,
               receiver_context, "SO_RCVBUFFORCE");
    // Each datagram then carries the socket's cumulative drop count.
    set_option(receive_socket_.get(), SOL_SOCKET, SO_RXQ_OVFL, 1, receiver_context, "SO_RXQ_OVFL");
    sockaddr_in bound{};
    socklen_t bound_length = sizeof(bound);
    if (getsockname(receive_socket_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) !=
        0) {
        throw_errno(receiver_context, "getsockname");
    }

    const std::string sender_context =
        "loss meter sender on " + sender_ifname + " (" + source_ip + ") in " + sender.name();
    send_socket_ = bound_udp_socket(sender, sender_ifname, source_ip, sender_context);
    const sockaddr_in destination = ipv4_address(destination_ip, ntohs(bound.sin_port));
    if (connect(send_socket_.get(), reinterpret_cast<const sockaddr*>(&destination),
                sizeof(destination)) != 0) {
        throw_errno(sender_context, "connect " + destination_ip);
    }

    wake_receiver_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_receiver_) {
        throw_errno("loss meter", "eventfd");
    }

    receiver_thread_ = std::thread([this] { receive_loop(); });
    try {
        sender_thread_ = std::thread([this] { send_loop(); });
    } catch (...) {
        sender_finished_ = true;
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = write(wake_receiver_.get(), &one, sizeof(one));
        receiver_thread_.join();
        throw;
    }
}

LossMeter::~LossMeter() {
    if (!report_) {
        try {
            stop();
        } catch (const std::exception&) {
            // A failure was the test's to see through stop(); here only the
            // threads must end.
        }
    }
}

void LossMeter::pause_receiver(std::chrono::milliseconds duration) {
    pause_ms_ = duration.count();
}

void LossMeter::wait_until_flowing() {
    std::unique_lock lock(mutex_);
    const bool flowing = flowing_.wait_for(lock, std::chrono::seconds(10), [this] {
        return first_frame_seen_ || !sender_error_.empty() || !receiver_error_.empty();
    });
    if (!flowing || !first_frame_seen_) {
        throw std::runtime_error(
            "loss meter: no frame of the stream from " + sender_ifname_ + " (" + source_ip_ + ", " +
            sender_netns_.name() + ") reached " + receiver_ifname_ + " (" + destination_ip_ + ", " +
            receiver_netns_.name() + ") within 10 s; sent " + std::to_string(sent_.load()) +
            (sender_error_.empty() ? "" : "; sender: " + sender_error_) +
            (receiver_error_.empty() ? "" : "; receiver: " + receiver_error_));
    }
}

LossReport LossMeter::stop() {
    if (!report_) {
        stop_sending_ = true;
        if (sender_thread_.joinable()) {
            sender_thread_.join();
        }
        sender_finished_ = true;
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = write(wake_receiver_.get(), &one, sizeof(one));
        if (receiver_thread_.joinable()) {
            receiver_thread_.join();
        }

        LossReport report;
        report.sent = sent_;
        for (uint64_t sequence = 0; sequence < report.sent; ++sequence) {
            if (sequence < seen_.size() && seen_[sequence]) {
                ++report.received;
            } else {
                report.missing.push_back(sequence);
            }
        }
        report.duplicates = duplicates_;
        // SO_RXQ_OVFL tells the count as of the last datagram queued; drops
        // after it show only in the socket's own counter.
        report.receiver_drops = std::max(overflow_drops_, socket_drops());
        report_ = report;
    }
    std::lock_guard lock(mutex_);
    if (!sender_error_.empty() || !receiver_error_.empty()) {
        throw std::runtime_error(
            "loss meter failed:" + (sender_error_.empty() ? "" : " sender: " + sender_error_) +
            (receiver_error_.empty() ? "" : " receiver: " + receiver_error_) + "; " +
            report_->summary());
    }
    return *report_;
}

void LossMeter::send_loop() {
    using clock = std::chrono::steady_clock;
    std::array<Payload, batch_size> payloads{};
    std::array<iovec, batch_size> vectors{};
    std::array<mmsghdr, batch_size> messages{};
    for (size_t i = 0; i < batch_size; ++i) {
        payloads[i].stream_id = stream_id_;
        vectors[i] = {&payloads[i], sizeof(Payload)};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    const auto catch_up_frames = std::max<uint64_t>(
        1, frames_per_second_ *
               std::chrono::duration_cast<std::chrono::microseconds>(catch_up_limit).count() /
               1000000);
    // Frames due by `now`: base_count plus the rate times the time since base_time.
    auto base_time = clock::now();
    uint64_t base_count = 0;
    uint64_t sent = 0;
    timespec tick{};
    clock_gettime(CLOCK_MONOTONIC, &tick);
    while (!stop_sending_) {
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - base_time).count();
        uint64_t due =
            base_count + static_cast<uint64_t>(elapsed) * frames_per_second_ / 1000000000u;
        if (due > sent + catch_up_frames) {
            base_time = clock::now();
            base_count = sent + catch_up_frames;
            due = base_count;
        }
        while (sent < due) {
            const auto count = static_cast<unsigned>(std::min<uint64_t>(due - sent, batch_size));
            for (unsigned i = 0; i < count; ++i) {
                payloads[i].sequence = sent + i;
            }
            const int accepted = sendmmsg(send_socket_.get(), messages.data(), count, 0);
            if (accepted < 0) {
                // Transient (a full queue, an ICMP error reported back): the
                // same sequence numbers go out on the next tick.
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR ||
                    errno == ECONNREFUSED) {
                    break;
                }
                std::lock_guard lock(mutex_);
                sender_error_ = "sendmmsg to " + destination_ip_ + ": " + errno_text(errno);
                flowing_.notify_all();
                return;
            }
            sent += static_cast<unsigned>(accepted);
            sent_.store(sent, std::memory_order_relaxed);
        }
        // A batch every millisecond, on absolute deadlines so pacing does not drift.
        tick.tv_nsec += 1000000;
        if (tick.tv_nsec >= 1000000000) {
            tick.tv_nsec -= 1000000000;
            ++tick.tv_sec;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, nullptr);
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > tick.tv_sec + 1) {
            tick = now;  // far behind (stopped in a debugger): do not spin to catch up
        }
    }
}

void LossMeter::note_receiver_failure(const std::string& what) {
    std::lock_guard lock(mutex_);
    receiver_error_ = what;
    flowing_.notify_all();
}

uint64_t LossMeter::socket_drops() const {
    std::array<uint32_t, SK_MEMINFO_VARS> meminfo{};
    socklen_t length = sizeof(meminfo);
    if (getsockopt(receive_socket_.get(), SOL_SOCKET, SO_MEMINFO, meminfo.data(), &length) != 0 ||
        length < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1)) {
        return 0;
    }
    return meminfo[SK_MEMINFO_DROPS];
}

void LossMeter::receive_batch() {
    std::array<Payload, batch_size> payloads{};
    std::array<iovec, batch_size> vectors{};
    std::array<mmsghdr, batch_size> messages{};
    alignas(cmsghdr) std::array<std::array<char, CMSG_SPACE(sizeof(uint32_t))>, batch_size>
        controls{};
    for (;;) {
        for (size_t i = 0; i < batch_size; ++i) {
            vectors[i] = {&payloads[i], sizeof(Payload)};
            messages[i].msg_hdr = {};
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_control = controls[i].data();
            messages[i].msg_hdr.msg_controllen = controls[i].size();
        }
        const int count =
            recvmmsg(receive_socket_.get(), messages.data(), batch_size, MSG_DONTWAIT, nullptr);
        if (count < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }
            throw SystemError("loss meter receiver on " + receiver_ifname_, "recvmmsg", errno);
        }
        for (int i = 0; i < count; ++i) {
            msghdr& header = messages[i].msg_hdr;
            for (cmsghdr* control = CMSG_FIRSTHDR(&header); control != nullptr;
                 control = CMSG_NXTHDR(&header, control)) {
                if (control->cmsg_level == SOL_SOCKET && control->cmsg_type == SO_RXQ_OVFL) {
                    uint32_t drops = 0;
                    std::memcpy(&drops, CMSG_DATA(control), sizeof(drops));
                    overflow_drops_ = std::max<uint64_t>(overflow_drops_, drops);
                }
            }
            const Payload& payload = payloads[i];
            if (messages[i].msg_len != sizeof(Payload) || (header.msg_flags & MSG_TRUNC) ||
                payload.stream_id != stream_id_ || payload.sequence >= sequence_limit) {
                continue;
            }
            if (payload.sequence >= seen_.size()) {
                seen_.resize(std::max<uint64_t>(payload.sequence + 1, seen_.size() * 2));
            }
            if (seen_[payload.sequence]) {
                ++duplicates_;
            } else {
                seen_[payload.sequence] = true;
                ++received_;
            }
        }
        if (received_ > 0 && !first_frame_seen_flag_) {
            first_frame_seen_flag_ = true;
            std::lock_guard lock(mutex_);
            first_frame_seen_ = true;
            flowing_.notify_all();
        }
        if (static_cast<size_t>(count) < batch_size) {
            return;
        }
    }
}

void LossMeter::receive_loop() {
    using clock = std::chrono::steady_clock;
    try {
        std::array<pollfd, 2> watched{
            {{receive_socket_.get(), POLLIN, 0}, {wake_receiver_.get(), POLLIN, 0}}};
        // While the stream runs: read whatever arrives until the sender finishes.
        while (!sender_finished_) {
            if (const int64_t pause = pause_ms_.exchange(0); pause > 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(pause));
            }
            if (poll(watched.data(), watched.size(), 100) < 0 && errno != EINTR) {
                throw SystemError("loss meter receiver", "poll", errno);
            }
            if (watched[0].revents & POLLIN) {
                receive_batch();
            }
        }
        // Then the stragglers: until the last frame has arrived (and whatever
        // was queued before it is read), a quiet period passes, or the limit.
        const uint64_t last = sent_.load();
        const auto give_up = clock::now() + drain_limit;
        for (;;) {
            receive_batch();
            if (last == 0 || (last - 1 < seen_.size() && seen_[last - 1])) {
                return;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(give_up - clock::now());
            if (left.count() <= 0) {
                return;
            }
            const auto wait = std::min<std::chrono::milliseconds>(left, quiet_period);
            const int ready = poll(watched.data(), 1, static_cast<int>(wait.count()));
            if (ready < 0 && errno != EINTR) {
                throw SystemError("loss meter receiver", "poll", errno);
            }
            if (ready == 0) {
                return;  // quiet: whatever has not come by now is lost
            }
        }
    } catch (const std::exception& error) {
        note_receiver_failure(error.what());
    }
}

}  // namespace xconnect::test
