#pragma once

// Every capture running, over one FrameTap: which interfaces the program
// copies (both sides of each captured pair, at the largest snaplen asked),
// and which capture each copied frame goes to. Captures follow their pair:
// a side that comes back with another ifindex is captured again; a pair
// removed ends its captures. At most max_captures run at once.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "capture_options.hpp"
#include "capture_session.hpp"
#include "common/unique_fd.hpp"
#include "engine/engine.hpp"
#include "engine/frame_tap.hpp"

namespace xconnect {

class CaptureHub final : private EngineObserver {
  public:
    static constexpr size_t max_captures = 8;

    CaptureHub(boost::asio::io_context& io, Engine& engine, FrameTap& tap);
    ~CaptureHub() override;
    CaptureHub(const CaptureHub&) = delete;
    CaptureHub& operator=(const CaptureHub&) = delete;

    uint32_t max_snaplen() const { return tap_.max_snaplen(); }
    size_t running() const;

    // Starts capturing the pair that holds `ifname`, for `requester` (named
    // in the log). Returns the reader's end of the stream, the pcapng header
    // already in it. Throws ContractError: invalid_name or no_such_pair,
    // invalid_args (options, filter), limits_exceeded (max_captures
    // running), failed (the kernel refused).
    UniqueFd start(const std::string& ifname, const CaptureOptions& options,
                   const std::string& requester);

    // Ends every capture with its statistics, saying `why`; `flushed` runs
    // once every stream is closed (at once when none runs).
    void end_all(const std::string& why, std::function<void()> flushed);

  private:
    struct Capture {
        std::string left;  // the pair's left name: its key in the engine
        std::array<uint32_t, 2> ifindexes{};
        std::unique_ptr<CaptureSession> session;
    };

    void pair_added(const PairStatus&) override {}
    void pair_removed(const PairStatus& pair) override;
    void pair_changed(const PairStatus& pair, PairFields changed) override;

    void deliver(const CapturedFrame& frame);
    CaptureSession::Counts counts_of(const Capture& capture) const;
    // Tells the tap what the running captures need. Logs what it refuses.
    void retap() noexcept;
    void closed(Capture* capture);

    boost::asio::io_context& io_;
    Engine& engine_;
    FrameTap& tap_;
    std::list<Capture> captures_;  // stable addresses: sessions' hooks point at them
    std::function<void()> flushed_;
};

}  // namespace xconnect
