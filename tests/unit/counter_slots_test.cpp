#include "loader/counter_slots.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace xconnect {
namespace {

TEST(CounterSlots, SlotCountMustBeAPowerOfTwo) {
    EXPECT_THROW(CounterSlots(0), std::invalid_argument);
    EXPECT_THROW(CounterSlots(6), std::invalid_argument);
    EXPECT_EQ(CounterSlots(8).slot_count(), 8u);
}

TEST(CounterSlots, AnInterfaceCountsInTheSlotOfItsLowBits) {
    CounterSlots slots(8);
    EXPECT_EQ(slots.slot_of(3), 3u);
    EXPECT_EQ(slots.slot_of(11), 3u);
    EXPECT_EQ(slots.claim(11), 3u);
    EXPECT_EQ(slots.owned(11), 3u);
    EXPECT_EQ(slots.owned(3), std::nullopt);
}

TEST(CounterSlots, ClaimingAgainKeepsTheSlot) {
    CounterSlots slots(8);
    EXPECT_EQ(slots.claim(5), 5u);
    EXPECT_EQ(slots.claim(5), 5u);
    EXPECT_EQ(slots.owned(5), 5u);
}

TEST(CounterSlots, ASlotOwnedByAnotherInterfaceIsRefused) {
    CounterSlots slots(4);
    ASSERT_EQ(slots.claim(2), 2u);
    EXPECT_EQ(slots.claim(6), std::nullopt);
    EXPECT_EQ(slots.owned(6), std::nullopt);
    EXPECT_EQ(slots.owned(2), 2u);  // the owner keeps it
}

TEST(CounterSlots, WhenEverySlotIsTakenNewInterfacesCountElsewhere) {
    CounterSlots slots(4);
    for (uint32_t ifindex = 1; ifindex <= 4; ++ifindex) {
        EXPECT_TRUE(slots.claim(ifindex).has_value()) << ifindex;
    }
    for (uint32_t ifindex = 5; ifindex <= 12; ++ifindex) {
        EXPECT_EQ(slots.claim(ifindex), std::nullopt) << ifindex;
    }
}

TEST(CounterSlots, AReleasedSlotIsReused) {
    CounterSlots slots(4);
    ASSERT_EQ(slots.claim(1), 1u);
    EXPECT_EQ(slots.claim(5), std::nullopt);
    EXPECT_EQ(slots.release(1), 1u);
    EXPECT_EQ(slots.owned(1), std::nullopt);
    EXPECT_EQ(slots.claim(5), 1u);
    EXPECT_EQ(slots.claim(1), std::nullopt);
}

TEST(CounterSlots, ReleasingWhatIsNotOwnedChangesNothing) {
    CounterSlots slots(4);
    ASSERT_EQ(slots.claim(1), 1u);
    EXPECT_EQ(slots.release(5), std::nullopt);  // same slot, other owner
    EXPECT_EQ(slots.release(2), std::nullopt);  // free slot
    EXPECT_EQ(slots.owned(1), 1u);
}

TEST(CounterSlots, IfindexZeroNeverOwnsASlot) {
    CounterSlots slots(4);
    EXPECT_EQ(slots.claim(0), std::nullopt);
    EXPECT_EQ(slots.owned(0), std::nullopt);
    EXPECT_EQ(slots.claim(4), 0u);  // slot 0 is still free for others
}

}  // namespace
}  // namespace xconnect
