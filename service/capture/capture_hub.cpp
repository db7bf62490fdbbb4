#include "capture_hub.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <set>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/quote.hpp"
#include "contract/errors.hpp"

namespace xconnect {

namespace {

std::string describe(const CaptureOptions& options) {
    std::string text = "snaplen " + std::to_string(options.snaplen);
    if (options.count > 0) {
        text += ", count " + std::to_string(options.count);
    }
    if (options.seconds > 0) {
        text += ", " + std::to_string(options.seconds) + " s";
    }
    if (!options.filter.empty()) {
        text += ", filter " + quote(options.filter);
    }
    return text;
}

}  // namespace

CaptureHub::CaptureHub(boost::asio::io_context& io, Engine& engine, FrameTap& tap)
    : io_(io), engine_(engine), tap_(tap) {
    tap_.set_delivery([this](const CapturedFrame& frame) { deliver(frame); });
    engine_.add_observer(*this);
}

CaptureHub::~CaptureHub() {
    engine_.remove_observer(*this);
    tap_.set_delivery(nullptr);
    try {
        tap_.capture({}, 0);
    } catch (const SystemError& error) {
        log::warning("capture: ", error.what());
    }
}

size_t CaptureHub::running() const {
    return static_cast<size_t>(std::count_if(captures_.begin(), captures_.end(),
                                             [](const auto& c) { return c.session->running(); }));
}

UniqueFd CaptureHub::start(const std::string& ifname, const CaptureOptions& asked,
                           const std::string& requester) {
    const CaptureOptions options = checked(asked, tap_.max_snaplen());
    if (auto reason = invalid_interface_name_reason(ifname)) {
        throw ContractError(ErrorKind::invalid_name, *reason);
    }
    const auto pair = engine_.find_pair(ifname);
    if (!pair) {
        throw ContractError(ErrorKind::no_such_pair, "no pair holds " + quote(ifname));
    }
    if (running() >= max_captures) {
        throw ContractError(ErrorKind::limits_exceeded,
                            std::to_string(max_captures) + " captures run already");
    }
    CaptureFilter filter(options.filter, options.snaplen);
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        throw ContractError(ErrorKind::failed, "capture of " + pair->spec.label() +
                                                   ": socketpair: " + errno_text(errno));
    }
    UniqueFd ours(ends[0]);
    UniqueFd theirs(ends[1]);

    Capture& capture = captures_.emplace_back();
    capture.left = pair->spec.left;
    capture.ifindexes = {pair->left_ifindex, pair->right_ifindex};
    const std::string label = pair->spec.label();
    try {
        capture.session = std::make_unique<CaptureSession>(
            io_, label, CaptureSession::Sides{pair->spec.left, pair->spec.right}, options,
            std::move(filter), std::move(ours),
            CaptureSession::Hooks{
                .counts = [this, &capture] { return counts_of(capture); },
                .ended =
                    [this, label](std::string_view why) {
                        log::info("capture of ", label, " ended: ", why);
                        retap();
                    },
                .closed = [this, &capture] { closed(&capture); },
            });
    } catch (const SystemError& error) {
        captures_.pop_back();
        throw ContractError(ErrorKind::failed, error.what());
    }
    retap();
    log::info("capture of ", label, " started by ", requester, " (", describe(options), ")");
    return theirs;
}

void CaptureHub::end_all(const std::string& why, std::function<void()> flushed) {
    flushed_ = std::move(flushed);
    for (Capture& capture : captures_) {
        capture.session->end(why);
    }
    if (captures_.empty() && flushed_) {
        std::exchange(flushed_, nullptr)();
    }
}

void CaptureHub::closed(Capture* capture) {
    // From the session's own handler: destroyed from a later one.
    boost::asio::post(io_, [this, capture] {
        captures_.remove_if([capture](const Capture& c) { return &c == capture; });
        if (captures_.empty() && flushed_) {
            std::exchange(flushed_, nullptr)();
        }
    });
}

CaptureSession::Counts CaptureHub::counts_of(const Capture& capture) const {
    CaptureSession::Counts counts;
    if (const auto counters = engine_.counters(capture.left)) {
        counts[0].received = counters->left_to_right.packets;
        counts[1].received = counters->right_to_left.packets;
    }
    for (size_t side = 0; side < 2; ++side) {
        if (capture.ifindexes[side] != 0) {
            counts[side].lost = tap_.lost(capture.ifindexes[side]);
        }
    }
    return counts;
}

void CaptureHub::retap() noexcept {
    std::set<uint32_t> ifindexes;
    uint32_t snaplen = 0;
    for (const Capture& capture : captures_) {
        if (!capture.session || !capture.session->running()) {
            continue;
        }
        for (uint32_t ifindex : capture.ifindexes) {
            if (ifindex != 0) {
                ifindexes.insert(ifindex);
            }
        }
        snaplen = std::max(snaplen, capture.session->options().snaplen);
    }
    try {
        tap_.capture(ifindexes, snaplen);
    } catch (const SystemError& error) {
        log::error("capture: ", error.what());
    }
}

void CaptureHub::deliver(const CapturedFrame& frame) {
    for (Capture& capture : captures_) {
        // A self-pair's one interface is its left side.
        for (size_t side = 0; side < 2; ++side) {
            if (capture.ifindexes[side] == frame.ifindex) {
                capture.session->offer(side, frame);
                break;
            }
        }
    }
}

void CaptureHub::pair_removed(const PairStatus& pair) {
    for (Capture& capture : captures_) {
        if (capture.left == pair.spec.left) {
            capture.session->end("pair " + pair.spec.label() + " removed");
        }
    }
}

void CaptureHub::pair_changed(const PairStatus& pair, PairFields changed) {
    if (!(changed & (field_left_ifindex | field_right_ifindex))) {
        return;
    }
    bool moved = false;
    for (Capture& capture : captures_) {
        if (capture.left == pair.spec.left) {
            capture.ifindexes = {pair.left_ifindex, pair.right_ifindex};
            moved = true;
        }
    }
    if (moved) {
        retap();
    }
}

}  // namespace xconnect
