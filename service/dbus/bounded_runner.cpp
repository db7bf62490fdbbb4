#include "bounded_runner.hpp"

#include <memory>
#include <utility>

namespace xconnect {

BoundedRunner::BoundedRunner(std::size_t max_running, std::size_t max_waiting)
    : max_running_(max_running), max_waiting_(max_waiting) {
}

BoundedRunner::~BoundedRunner() = default;

bool BoundedRunner::submit(Job job) {
    if (running_ >= max_running_ && waiting_.size() >= max_waiting_) {
        return false;
    }
    waiting_.push_back(std::move(job));
    start_waiting_jobs();
    return true;
}

void BoundedRunner::start_waiting_jobs() {
    // A job that finishes at once calls finish_one() from inside job(): the
    // loop here starts the next, instead of recursing once per waiting job.
    if (starting_) {
        return;
    }
    starting_ = true;
    while (running_ < max_running_ && !waiting_.empty()) {
        Job job = std::move(waiting_.front());
        waiting_.pop_front();
        ++running_;
        auto finished_already = std::make_shared<bool>(false);
        Finished finished = [this, finished_already] {
            if (!*finished_already) {
                *finished_already = true;
                finish_one();
            }
        };
        try {
            job(finished);
        } catch (...) {
            // Against the rules, but the slot must not leak with it.
            starting_ = false;
            finished();
            throw;
        }
    }
    starting_ = false;
}

void BoundedRunner::finish_one() {
    --running_;
    start_waiting_jobs();
}

}  // namespace xconnect
