// The bound PolkitAuthorizer keeps on its round trips, without a bus: jobs are
// lambdas that keep their Finished for the test to call, as a D-Bus reply
// handler would.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "dbus/bounded_runner.hpp"

namespace xconnect {
namespace {

struct Recorder {
    std::vector<int> started;
    std::vector<BoundedRunner::Finished> finish;  // by job number

    BoundedRunner::Job job(int number) {
        return [this, number](BoundedRunner::Finished finished) {
            started.push_back(number);
            if (finish.size() <= static_cast<size_t>(number)) {
                finish.resize(number + 1);
            }
            finish[number] = std::move(finished);
        };
    }
};

TEST(BoundedRunner, RunsUpToTheBoundAndStartsTheRestInArrivalOrder) {
    BoundedRunner runner(2, 10);
    Recorder recorder;
    for (int number = 0; number < 5; ++number) {
        EXPECT_TRUE(runner.submit(recorder.job(number)));
    }
    EXPECT_EQ(recorder.started, (std::vector<int>{0, 1}));
    EXPECT_EQ(runner.running(), 2u);
    EXPECT_EQ(runner.waiting(), 3u);

    recorder.finish[1]();
    EXPECT_EQ(recorder.started, (std::vector<int>{0, 1, 2}));
    recorder.finish[0]();
    EXPECT_EQ(recorder.started, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(runner.running(), 2u);
    EXPECT_EQ(runner.waiting(), 1u);
    recorder.finish[2]();
    recorder.finish[3]();
    recorder.finish[4]();
    EXPECT_EQ(recorder.started, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(runner.running(), 0u);
    EXPECT_EQ(runner.waiting(), 0u);
}

TEST(BoundedRunner, RefusesBeyondTheQueueAndAcceptsAgainOnceItMoves) {
    BoundedRunner runner(1, 2);
    Recorder recorder;
    EXPECT_TRUE(runner.submit(recorder.job(0)));  // runs
    EXPECT_TRUE(runner.submit(recorder.job(1)));  // waits
    EXPECT_TRUE(runner.submit(recorder.job(2)));  // waits
    EXPECT_FALSE(runner.submit(recorder.job(3)));
    EXPECT_EQ(recorder.started, (std::vector<int>{0}));
    EXPECT_EQ(runner.waiting(), 2u);

    recorder.finish[0]();
    EXPECT_TRUE(runner.submit(recorder.job(4)));
    EXPECT_EQ(recorder.started, (std::vector<int>{0, 1}));
    EXPECT_EQ(runner.waiting(), 2u);
}

TEST(BoundedRunner, FinishingTwiceFreesOneSlotOnly) {
    BoundedRunner runner(1, 10);
    Recorder recorder;
    runner.submit(recorder.job(0));
    runner.submit(recorder.job(1));
    runner.submit(recorder.job(2));
    recorder.finish[0]();
    recorder.finish[0]();  // a second call must not start job 2 beside job 1
    EXPECT_EQ(recorder.started, (std::vector<int>{0, 1}));
    EXPECT_EQ(runner.running(), 1u);
}

TEST(BoundedRunner, JobsThatFinishAtOnceRunWithoutRecursingPerJob) {
    BoundedRunner runner(1, 200000);
    int started = 0;
    int depth = 0;
    int deepest = 0;
    // Queue many behind one that is still running, then let them all go:
    // each finishes inside its own start, as a refusal without a round trip does.
    BoundedRunner::Finished first;
    runner.submit([&](BoundedRunner::Finished finished) { first = std::move(finished); });
    for (int number = 0; number < 100000; ++number) {
        runner.submit([&](BoundedRunner::Finished finished) {
            ++depth;
            deepest = std::max(deepest, depth);
            ++started;
            finished();
            --depth;
        });
    }
    first();
    EXPECT_EQ(started, 100000);
    EXPECT_EQ(deepest, 1);
    EXPECT_EQ(runner.running(), 0u);
    EXPECT_EQ(runner.waiting(), 0u);
}

TEST(BoundedRunner, AJobThatThrowsDoesNotKeepItsSlot) {
    BoundedRunner runner(1, 10);
    Recorder recorder;
    EXPECT_THROW(
        runner.submit([](BoundedRunner::Finished) { throw std::runtime_error("broken job"); }),
        std::runtime_error);
    EXPECT_EQ(runner.running(), 0u);
    EXPECT_TRUE(runner.submit(recorder.job(0)));
    EXPECT_EQ(recorder.started, (std::vector<int>{0}));
}

}  // namespace
}  // namespace xconnect
