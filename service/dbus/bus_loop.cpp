#include "bus_loop.hpp"

#include <poll.h>

#include <sdbus-c++/IConnection.h>
#include <boost/asio/post.hpp>
#include <chrono>
#include <limits>

#include "common/log.hpp"

namespace xconnect {

BusLoop::BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection,
                 std::function<void()> after_each_message, std::function<void()> lost)
    : io_(io),
      connection_(connection),
      after_each_message_(std::move(after_each_message)),
      lost_(std::move(lost)),
      descriptor_(io),
      timer_(io) {
    descriptor_.assign(connection_.getEventLoopPollData().fd);
    process();
}

BusLoop::~BusLoop() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    descriptor_.release();  // sd-bus closes its own fd
}

void BusLoop::wake() {
    if (wake_pending_ || broken_) {
        return;
    }
    wake_pending_ = true;
    boost::asio::post(io_, [this] {
        wake_pending_ = false;
        process();
    });
}

void BusLoop::process() {
    if (broken_) {
        return;
    }
    try {
        while (connection_.processPendingRequest()) {
            after_each_message_();
        }
        after_each_message_();
        arm();
    } catch (const std::exception& error) {
        // sd-bus fails here only when the connection itself is gone (method
        // handlers' errors become error replies).
        log::error("D-Bus: the connection to the bus broke: ", error.what());
        broken_ = true;
        boost::system::error_code ignored;
        descriptor_.cancel(ignored);
        timer_.cancel();
        lost_();
    }
}

void BusLoop::arm() {
    const uint64_t generation = ++generation_;
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    timer_.cancel();

    const sdbus::IConnection::PollData poll = connection_.getEventLoopPollData();
    auto on_ready = [this, generation](const boost::system::error_code& error) {
        if (error == boost::asio::error::operation_aborted || generation != generation_ ||
            broken_) {
            return;
        }
        process();
    };
    if (poll.events & POLLIN) {
        descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read, on_ready);
    }
    if (poll.events & POLLOUT) {
        descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_write, on_ready);
    }
    if (poll.timeout_usec != std::numeric_limits<uint64_t>::max()) {
        // sd-bus's timeout is absolute CLOCK_MONOTONIC, which steady_clock is.
        timer_.expires_at(std::chrono::steady_clock::time_point(
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::microseconds(poll.timeout_usec))));
        timer_.async_wait(on_ready);
    }
}

}  // namespace xconnect
