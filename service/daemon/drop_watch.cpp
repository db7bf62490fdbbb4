#include "drop_watch.hpp"

#include <fcntl.h>

#include "common/error.hpp"

namespace xconnect {

namespace {
constexpr std::chrono::seconds review_interval{1};
}  // namespace

DropWatch::DropWatch(boost::asio::io_context& io, DropMonitor& monitor, Engine& engine)
    : monitor_(monitor), engine_(engine), events_(io), tick_(io) {
    const int events = fcntl(monitor_.events_fd(), F_DUPFD_CLOEXEC, 0);
    if (events < 0) {
        throw_errno("watch the drop events", "fcntl(F_DUPFD_CLOEXEC)");
    }
    events_.assign(events);
    wait_for_drops();
}

void DropWatch::wait_for_drops() {
    events_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                       [this](const boost::system::error_code& error) {
                           if (error) {
                               return;  // cancelled: destroyed
                           }
                           monitor_.consume();
                           if (!ticking_) {
                               review();
                           }
                           wait_for_drops();
                       });
}

void DropWatch::review() {
    if (engine_.review_drops(DropSpell::Clock::now())) {
        ticking_ = true;
        tick_.expires_after(review_interval);
        tick_.async_wait([this](const boost::system::error_code& error) {
            if (!error) {
                review();
            }
        });
        return;
    }
    // Nothing losing: the next drop anywhere wakes this again.
    ticking_ = false;
    monitor_.rearm();
}

}  // namespace xconnect
