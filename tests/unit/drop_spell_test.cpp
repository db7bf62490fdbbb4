// DropSpell: the words of DropReason, and when a spell of losing frames
// begins and ends.
#include "engine/drop_spell.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace xconnect {
namespace {

using Clock = DropSpell::Clock;

const std::array<DropTarget, 2> kTargets{DropTarget{"vx0", "vxlan", 1450},
                                         DropTarget{"veth1", "veth", 1500}};

TEST(DropSpellTest, EachCauseInWordsAPersonCanActOn) {
    const DropTarget vxlan{"vx0", "vxlan", 1450};
    const DropTarget veth{"veth1", "veth", 1500};
    const DropTarget tap{"tap0", "tun", 1500};
    EXPECT_EQ(drop_causes({{EMSGSIZE, 12}}, vxlan), "12 frames longer than vx0's MTU 1450");
    EXPECT_EQ(drop_causes({{EMSGSIZE, 1}}, vxlan), "1 frame longer than vx0's MTU 1450");
    EXPECT_EQ(drop_causes({{ENETDOWN, 3}}, veth), "veth1 is down");
    EXPECT_EQ(drop_causes({{EOPNOTSUPP, 3}}, veth),
              "veth1 cannot take native redirects (its peer has no NAPI)");
    EXPECT_EQ(drop_causes({{ENXIO, 3}}, veth),
              "veth1 cannot take native redirects (its peer has no NAPI)");
    EXPECT_EQ(drop_causes({{EOPNOTSUPP, 3}}, vxlan),
              "vx0 cannot take native redirects (Operation not supported)");
    EXPECT_EQ(drop_causes({{ENOSPC, 7}}, tap), "7 frames found tap0's transmit queue full");
    EXPECT_EQ(drop_causes({{EIO, 2}}, tap), "2 frames not delivered to tap0 (Input/output error)");
    EXPECT_EQ(drop_causes({{EMSGSIZE, 2}, {ENETDOWN, 1}}, vxlan),
              "2 frames longer than vx0's MTU 1450, vx0 is down");
    EXPECT_EQ(drop_causes({}, vxlan), "");
}

TEST(DropSpellTest, ASpellBeginsWithADropCountsOnlyItsOwnAndEndsWhenQuiet) {
    DropSpell spell;
    const Clock::time_point start{};
    // Drops counted before (an earlier spell, or a restart) are no news.
    EXPECT_FALSE(spell.update({DropCounts{{EMSGSIZE, 5}}, DropCounts{}}, kTargets, start));
    EXPECT_FALSE(spell.losing());
    // Another drop, a second later, begins a spell: only its own frames.
    EXPECT_TRUE(spell.update({DropCounts{{EMSGSIZE, 17}}, DropCounts{}}, kTargets,
                             start + std::chrono::seconds(1)));
    EXPECT_EQ(spell.reason(), "left to right: 12 frames longer than vx0's MTU 1450");
    // The other way too, joined by "; ".
    EXPECT_TRUE(spell.update({DropCounts{{EMSGSIZE, 17}}, DropCounts{{ENETDOWN, 2}}}, kTargets,
                             start + std::chrono::seconds(2)));
    EXPECT_EQ(spell.reason(),
              "left to right: 12 frames longer than vx0's MTU 1450; right to left: veth1 is down");
    // Nothing new: the reason stays until DropSpell::quiet_after has passed.
    EXPECT_FALSE(spell.update({DropCounts{{EMSGSIZE, 17}}, DropCounts{{ENETDOWN, 2}}}, kTargets,
                              start + std::chrono::seconds(6)));
    EXPECT_TRUE(spell.losing());
    EXPECT_TRUE(spell.update({DropCounts{{EMSGSIZE, 17}}, DropCounts{{ENETDOWN, 2}}}, kTargets,
                             start + std::chrono::seconds(7)));
    EXPECT_FALSE(spell.losing());
    EXPECT_EQ(spell.reason(), "");
    // The next spell counts from where the last one ended.
    EXPECT_TRUE(spell.update({DropCounts{{EMSGSIZE, 18}}, DropCounts{{ENETDOWN, 2}}}, kTargets,
                             start + std::chrono::seconds(30)));
    EXPECT_EQ(spell.reason(), "left to right: 1 frame longer than vx0's MTU 1450");
}

TEST(DropSpellTest, ASideWhoseCountsBeganAgainIsReadFromZero) {
    DropSpell spell;
    const Clock::time_point start{};
    spell.update({DropCounts{{ENETDOWN, 40}}, DropCounts{}}, kTargets, start);
    // The side's port was replaced: its counts start again, and 3 is news.
    EXPECT_TRUE(spell.update({DropCounts{{ENETDOWN, 3}}, DropCounts{}}, kTargets,
                             start + std::chrono::seconds(1)));
    EXPECT_EQ(spell.reason(), "left to right: vx0 is down");
}

}  // namespace
}  // namespace xconnect
