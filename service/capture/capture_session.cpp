#include "capture_session.hpp"

#include <time.h>

#include <boost/asio/write.hpp>

#include "common/error.hpp"
#include "common/log.hpp"
#include "contract/pcapng.hpp"
#include "contract/version.hpp"

namespace xconnect {

namespace {

// How much a slow reader may have waiting in memory.
constexpr size_t max_queued_bytes = 8 << 20;

uint64_t realtime_ns() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return uint64_t(now.tv_sec) * 1'000'000'000 + uint64_t(now.tv_nsec);
}

}  // namespace

CaptureSession::CaptureSession(boost::asio::io_context& io, std::string label, Sides sides,
                               CaptureOptions options, CaptureFilter filter, UniqueFd socket,
                               Hooks hooks)
    : label_(std::move(label)),
      sides_(std::move(sides)),
      options_(std::move(options)),
      filter_(std::move(filter)),
      socket_(io),
      deadline_(io),
      hooks_(std::move(hooks)),
      start_counts_(hooks_.counts()),
      start_ns_(realtime_ns()) {
    boost::system::error_code error;
    socket_.assign(boost::asio::local::stream_protocol(), socket.get(), error);
    if (error) {
        throw SystemError("capture of " + label_, "assign socket", error.value());
    }
    socket.release();
    std::string header = pcapng::section_header(std::string("xconnectd ") + version);
    for (const std::string& side : sides_) {
        header += pcapng::interface_description(side, options_.snaplen);
    }
    // Before the reply: an empty socket buffer takes it whole.
    boost::asio::write(socket_, boost::asio::buffer(header), error);
    if (error) {
        throw SystemError("capture of " + label_, "write the pcapng header", error.value());
    }
    if (options_.seconds > 0) {
        deadline_.expires_after(std::chrono::seconds(options_.seconds));
        deadline_.async_wait([this, alive = std::weak_ptr(alive_)](
                                 const boost::system::error_code& cancelled) {
            if (!cancelled && !alive.expired()) {
                end(options_.seconds == 1 ? "1 second elapsed"
                                          : std::to_string(options_.seconds) + " seconds elapsed");
            }
        });
    }
    watch_reader();
}

CaptureSession::~CaptureSession() = default;

void CaptureSession::watch_reader() {
    // The reader never writes: EOF means it shut its end down (asks to end),
    // an error that it is gone.
    socket_.async_read_some(
        boost::asio::buffer(&reader_byte_, 1),
        [this, alive = std::weak_ptr(alive_)](const boost::system::error_code& error, size_t) {
            if (alive.expired() || closed_) {
                return;
            }
            if (!error) {
                watch_reader();
            } else if (error == boost::asio::error::eof) {
                end("ended by the reader");
            } else if (error != boost::asio::error::operation_aborted) {
                log::info("capture of ", label_, ": the reader went away (", error.message(), ")");
                close();
            }
        });
}

void CaptureSession::offer(size_t side, const CapturedFrame& frame) {
    if (ended_ || !filter_.matches(frame.bytes, frame.length)) {
        return;
    }
    ++accepted_[side];
    const auto kept = frame.bytes.first(std::min<size_t>(frame.bytes.size(), options_.snaplen));
    std::string block = pcapng::enhanced_packet(uint32_t(side), frame.timestamp_ns, frame.length,
                                                kept, pcapng::Direction::inbound);
    if (queued_.size() + in_flight_.size() + block.size() > max_queued_bytes) {
        ++dropped_[side];
        return;
    }
    queue(std::move(block));
    if (options_.count > 0 && ++written_ == options_.count) {
        end(std::to_string(options_.count) + (options_.count == 1 ? " frame" : " frames") +
            " written (count)");
    }
}

void CaptureSession::end(const std::string& why) {
    if (ended_) {
        return;
    }
    ended_ = true;
    deadline_.cancel();
    const Counts now = hooks_.counts();
    const uint64_t end_ns = realtime_ns();
    for (uint32_t side = 0; side < 2; ++side) {
        auto since = [](uint64_t later, uint64_t earlier) {
            return later >= earlier ? later - earlier : 0;
        };
        queue(pcapng::interface_statistics({
            .interface_id = side,
            .timestamp_ns = end_ns,
            .start_ns = start_ns_,
            .end_ns = end_ns,
            .received = since(now[side].received, start_counts_[side].received),
            .dropped = since(now[side].lost, start_counts_[side].lost) + dropped_[side],
            .accepted = accepted_[side],
            .comment = "capture ended: " + why,
        }));
    }
    hooks_.ended(why);
}

void CaptureSession::queue(std::string block) {
    queued_ += block;
    flush();
}

void CaptureSession::flush() {
    if (writing_ || closed_) {
        return;
    }
    if (queued_.empty()) {
        if (ended_) {
            close();
        }
        return;
    }
    in_flight_.swap(queued_);
    queued_.clear();
    writing_ = true;
    boost::asio::async_write(
        socket_, boost::asio::buffer(in_flight_),
        [this, alive = std::weak_ptr(alive_)](const boost::system::error_code& error, size_t) {
            if (alive.expired()) {
                return;
            }
            writing_ = false;
            in_flight_.clear();
            if (closed_) {
                return;
            }
            if (error) {
                log::info("capture of ", label_, ": the reader went away (", error.message(), ")");
                close();
                return;
            }
            flush();
        });
}

void CaptureSession::close() noexcept {
    if (closed_) {
        return;
    }
    closed_ = true;
    if (!ended_) {
        ended_ = true;
        deadline_.cancel();
        hooks_.ended("the reader went away");
    }
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
    hooks_.closed();
}

}  // namespace xconnect
