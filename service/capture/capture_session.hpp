#pragma once

// One capture of one pair: its filter, its limits, and the pcapng stream it
// writes to its reader's socket (contract/pcapng.hpp). The header and both
// interfaces' descriptions are written at construction, so a reader that has
// them knows every frame from then on is in the stream. Frames are queued in
// memory while the reader is slow, up to a bound; beyond it they are dropped
// and counted, never waited for: one slow reader holds up nobody.
//
// It ends on its own at its count or its time, when the reader shuts down its
// end (xconnectctl on Ctrl-C) or goes away, and when the hub ends it (pair
// removed, xconnectd stopping). Every end but a vanished reader writes one
// Interface Statistics Block per side, saying why in its comment.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "capture_filter.hpp"
#include "capture_options.hpp"
#include "common/unique_fd.hpp"
#include "engine/frame_tap.hpp"

namespace xconnect {

class CaptureSession {
  public:
    // The two sides, left then right: interface ids 0 and 1 of the stream.
    using Sides = std::array<std::string, 2>;
    // What the hub counts of a side: frames that entered it, and frames the
    // program could not copy.
    struct SideCounts {
        uint64_t received = 0;
        uint64_t lost = 0;
    };
    using Counts = std::array<SideCounts, 2>;

    struct Hooks {
        std::function<Counts()> counts;                   // now
        std::function<void(std::string_view why)> ended;  // statistics queued; ifindexes free
        std::function<void()> closed;                     // the stream is closed: destroy it later
    };

    // Writes the header to `socket` (the daemon's end of a stream socketpair).
    // Throws SystemError if it cannot.
    CaptureSession(boost::asio::io_context& io, std::string label, Sides sides,
                   CaptureOptions options, CaptureFilter filter, UniqueFd socket, Hooks hooks);
    ~CaptureSession();
    CaptureSession(const CaptureSession&) = delete;
    CaptureSession& operator=(const CaptureSession&) = delete;

    const std::string& label() const { return label_; }
    const CaptureOptions& options() const { return options_; }
    bool running() const { return !ended_; }

    // A frame that entered side 0 or 1.
    void offer(size_t side, const CapturedFrame& frame);

    // Writes the statistics saying `why`, then closes once they are flushed.
    void end(const std::string& why);

  private:
    void queue(std::string block);
    void flush();
    void watch_reader();
    void close() noexcept;

    std::string label_;
    Sides sides_;
    CaptureOptions options_;
    CaptureFilter filter_;
    boost::asio::local::stream_protocol::socket socket_;
    boost::asio::steady_timer deadline_;
    Hooks hooks_;
    Counts start_counts_;
    uint64_t start_ns_ = 0;
    std::array<uint64_t, 2> accepted_{};  // frames the filter took, per side
    std::array<uint64_t, 2> dropped_{};   // frames not queued (reader too slow), per side
    uint64_t written_ = 0;
    std::string queued_;     // blocks waiting for the socket
    std::string in_flight_;  // blocks being written
    bool writing_ = false;
    bool ended_ = false;
    bool closed_ = false;
    char reader_byte_ = 0;
    // Handlers still queued when this is destroyed find it expired.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xconnect
