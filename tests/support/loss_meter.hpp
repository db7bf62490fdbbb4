#pragma once

// Measures frame loss across a pair: a sequence-numbered UDP stream from one
// namespace to another, telling which frames never arrived, and how many of
// those the receiving socket dropped itself (a starved receiver, e.g. under
// AddressSanitizer on 2 cores) rather than the forwarding path.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.hpp"
#include "netns.hpp"

namespace xconnect::test {

struct LossReport {
    uint64_t sent = 0;              // frames the sender put on the wire
    uint64_t received = 0;          // distinct sequence numbers the receiver saw
    std::vector<uint64_t> missing;  // sequence numbers sent but never received, ascending
    uint64_t duplicates = 0;
    uint64_t receiver_drops = 0;  // dropped by the receiving socket itself (SO_RXQ_OVFL), not by
                                  // forwarding
    uint64_t forwarding_lost() const;  // missing.size() less receiver_drops, never below 0
    std::string summary() const;       // one line, with the first missing numbers, for failure
                                       // messages
};

// A sequence-numbered UDP stream, >= 5000 frames/s (default 10000), from a
// socket in `sender` (bound to sender_ifname/source_ip) to one in `receiver`
// (bound to receiver_ifname/destination_ip), in threads of the test process.
// Static neighbour entries on both sides, so ARP never stands in for
// forwarding loss.
class LossMeter {
  public:
    // Enough for several seconds of the stream, so a receiver thread that is
    // descheduled for a while does not drop frames.
    static constexpr int default_receive_buffer_bytes = 64 * 1024 * 1024;

    // `receive_buffer_bytes` exists for the meter's own test, which makes its
    // receiver drop frames on purpose.
    LossMeter(const Netns& sender, const std::string& sender_ifname, const std::string& source_ip,
              const Netns& receiver, const std::string& receiver_ifname,
              const std::string& destination_ip, unsigned frames_per_second = 10000,
              int receive_buffer_bytes = default_receive_buffer_bytes);
    ~LossMeter();  // stops and joins the threads if stop() was not called
    LossMeter(const LossMeter&) = delete;
    LossMeter& operator=(const LossMeter&) = delete;

    // Until the receiver has seen frames; throws std::runtime_error after 10 s.
    void wait_until_flowing();
    // Stops sending, lets the last frames arrive, reports. Throws
    // std::runtime_error if the sender or receiver failed.
    LossReport stop();

    // For the meter's own test: the receiver stops reading for `duration`,
    // from its next wakeup on, so its socket overflows.
    void pause_receiver(std::chrono::milliseconds duration);

  private:
    // `ip neigh replace ... nud permanent`, deleted again on destruction.
    class StaticNeighbour {
      public:
        StaticNeighbour(const Netns& netns, const std::string& ifname, const std::string& ip,
                        const std::string& mac);
        ~StaticNeighbour();
        StaticNeighbour(const StaticNeighbour&) = delete;
        StaticNeighbour& operator=(const StaticNeighbour&) = delete;

      private:
        std::string delete_command_;
    };

    void send_loop();
    void receive_loop();
    void receive_batch();
    void note_receiver_failure(const std::string& what);
    uint64_t socket_drops() const;

    const Netns& sender_netns_;
    const Netns& receiver_netns_;
    std::string sender_ifname_;
    std::string receiver_ifname_;
    std::string source_ip_;
    std::string destination_ip_;
    unsigned frames_per_second_;
    uint64_t stream_id_;
    StaticNeighbour towards_receiver_;
    StaticNeighbour towards_sender_;

    UniqueFd send_socket_;
    UniqueFd receive_socket_;
    UniqueFd wake_receiver_;  // eventfd: the sender has finished

    std::atomic<bool> stop_sending_{false};
    std::atomic<bool> sender_finished_{false};
    std::atomic<uint64_t> sent_{0};
    std::atomic<int64_t> pause_ms_{0};

    // Written by the receiver thread only while it runs; read after join.
    std::vector<bool> seen_;
    uint64_t received_ = 0;
    uint64_t duplicates_ = 0;
    uint64_t overflow_drops_ = 0;         // the latest SO_RXQ_OVFL count
    bool first_frame_seen_flag_ = false;  // the receiver's copy of first_frame_seen_

    std::mutex mutex_;  // guards the fields below
    std::condition_variable flowing_;
    bool first_frame_seen_ = false;
    std::string sender_error_;
    std::string receiver_error_;

    std::optional<LossReport> report_;
    std::thread sender_thread_;
    std::thread receiver_thread_;
};

}  // namespace xconnect::test
