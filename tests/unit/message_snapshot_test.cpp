#include "dbus/message_snapshot.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace xconnect {
namespace {

TEST(MessageSnapshotTest, OneReadPerMessage) {
    MessageSnapshot<int> snapshot;
    MessageSequence messages;
    int reads = 0;
    auto read = [&] { return ++reads; };
    for (int property = 0; property < 9; ++property) {
        EXPECT_EQ(snapshot.get(messages.current(), read), 1);
    }
    messages.advance();
    EXPECT_EQ(snapshot.get(messages.current(), read), 2);
    EXPECT_EQ(snapshot.get(messages.current(), read), 2);
    EXPECT_EQ(reads, 2);
}

TEST(MessageSnapshotTest, NoMessageReadsEveryTime) {
    MessageSnapshot<int> snapshot;
    int reads = 0;
    auto read = [&] { return ++reads; };
    EXPECT_EQ(snapshot.get(7, read), 1);
    // A signal's getters, between messages: never the snapshot of message 7.
    EXPECT_EQ(snapshot.get(std::nullopt, read), 2);
    EXPECT_EQ(snapshot.get(std::nullopt, read), 3);
    // Nor is what they read kept for a message.
    EXPECT_EQ(snapshot.get(7, read), 4);
    EXPECT_EQ(snapshot.get(7, read), 4);
}

TEST(MessageSnapshotTest, AFailedReadKeepsNothing) {
    MessageSnapshot<int> snapshot;
    int reads = 0;
    EXPECT_EQ(snapshot.get(1, [&] { return ++reads; }), 1);
    EXPECT_THROW(snapshot.get(2, [&]() -> int { throw std::runtime_error("pair gone"); }),
                 std::runtime_error);
    EXPECT_EQ(snapshot.get(2, [&] { return ++reads; }), 2);
    EXPECT_EQ(snapshot.get(1, [&] { return ++reads; }), 3);
}

}  // namespace
}  // namespace xconnect
