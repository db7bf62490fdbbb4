#pragma once

// A bound on asynchronous work in flight (the polkit authorizer's round
// trips), apart from any bus so that it is unit-tested alone.

#include <cstddef>
#include <deque>
#include <functional>

namespace xconnect {

// Runs at most `max_running` jobs at a time and keeps up to `max_waiting`
// more, started in arrival order as running ones finish. A job is handed a
// `Finished` to call when its work is over (calling it again does nothing);
// it must not throw, and its Finished must not be called once the runner is
// destroyed. Single-threaded, like the loop it serves.
class BoundedRunner {
  public:
    using Finished = std::function<void()>;
    using Job = std::function<void(Finished)>;

    BoundedRunner(std::size_t max_running, std::size_t max_waiting);
    ~BoundedRunner();
    BoundedRunner(const BoundedRunner&) = delete;
    BoundedRunner& operator=(const BoundedRunner&) = delete;

    // Starts `job` now, or queues it; false (and `job` dropped unrun) when
    // max_running are running and max_waiting are waiting already.
    bool submit(Job job);

    std::size_t running() const { return running_; }
    std::size_t waiting() const { return waiting_.size(); }
    std::size_t max_running() const { return max_running_; }
    std::size_t max_waiting() const { return max_waiting_; }

  private:
    void start_waiting_jobs();
    void finish_one();

    const std::size_t max_running_;
    const std::size_t max_waiting_;
    std::size_t running_ = 0;
    std::deque<Job> waiting_;
    bool starting_ = false;  // start_waiting_jobs() is on the stack
};

}  // namespace xconnect
