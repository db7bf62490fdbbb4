#include <gtest/gtest.h>

#include "engine/plan.hpp"

namespace xconnect {
namespace {

using Names = std::vector<std::string>;

PairSpec pair(std::string left, std::string right, std::optional<ModePolicy> mode = {}) {
    return PairSpec{std::move(left), std::move(right), mode};
}

struct DiffCase {
    std::string name;
    std::vector<PairSpec> running;
    std::vector<PairSpec> candidate;
    Names new_interfaces;
    Names changed_interfaces;
    Names removed_interfaces;
    size_t added_pairs;
    size_t removed_pairs;
    size_t kept_pairs;
};

class PlanTest : public testing::TestWithParam<DiffCase> {};

TEST_P(PlanTest, MatchesExpectedChanges) {
    const DiffCase& c = GetParam();
    const Plan plan = plan_changes(c.running, c.candidate);
    EXPECT_EQ(plan.new_interfaces, c.new_interfaces);
    EXPECT_EQ(plan.changed_interfaces, c.changed_interfaces);
    EXPECT_EQ(plan.removed_interfaces, c.removed_interfaces);
    EXPECT_EQ(plan.added_pairs.size(), c.added_pairs);
    EXPECT_EQ(plan.removed_pairs.size(), c.removed_pairs);
    EXPECT_EQ(plan.kept_pairs.size(), c.kept_pairs);
}

INSTANTIATE_TEST_SUITE_P(
    ConfDiff, PlanTest,
    testing::Values(
        // The four cases of the original's TestDiff (pkg/xdp/xdp_test.go).
        DiffCase{"PeerReplaced",
                 {pair("intf-1", "intf-2")},
                 {pair("intf-1", "intf-3")},
                 {"intf-3"},
                 {"intf-1"},
                 {"intf-2"},
                 1,
                 1,
                 0},
        DiffCase{"Unchanged",
                 {pair("intf-1", "intf-2")},
                 {pair("intf-1", "intf-2")},
                 {},
                 {},
                 {},
                 0,
                 0,
                 1},
        DiffCase{"PairAdded",
                 {pair("intf-1", "intf-2")},
                 {pair("intf-1", "intf-2"), pair("intf-3", "intf-4")},
                 {"intf-3", "intf-4"},
                 {},
                 {},
                 1,
                 0,
                 1},
        DiffCase{"PeersSwapped",
                 {pair("intf-1", "intf-2"), pair("intf-3", "intf-4")},
                 {pair("intf-1", "intf-4"), pair("intf-3", "intf-2")},
                 {},
                 {"intf-1", "intf-2", "intf-3", "intf-4"},
                 {},
                 2,
                 2,
                 0},
        // Beyond the original.
        DiffCase{
            "SameEndsOtherOrderIsKept", {pair("a", "b")}, {pair("b", "a")}, {}, {}, {}, 0, 0, 1},
        DiffCase{"ModeChangeIsAChange",
                 {pair("a", "b")},
                 {pair("a", "b", ModePolicy::native)},
                 {},
                 {"a", "b"},
                 {},
                 1,
                 1,
                 0},
        DiffCase{"SelfPairAdded", {}, {pair("a", "a")}, {"a"}, {}, {}, 1, 0, 0},
        DiffCase{"SelfPairRemoved", {pair("a", "a")}, {}, {}, {}, {"a"}, 0, 1, 0},
        DiffCase{"SelfPairSplitsIntoAPair",
                 {pair("a", "a")},
                 {pair("a", "b")},
                 {"b"},
                 {"a"},
                 {},
                 1,
                 1,
                 0},
        DiffCase{"PairFoldsIntoASelfPair",
                 {pair("a", "b")},
                 {pair("a", "a")},
                 {},
                 {"a"},
                 {"b"},
                 1,
                 1,
                 0},
        DiffCase{"ChainShifts",
                 {pair("a", "b"), pair("c", "d"), pair("e", "f")},
                 {pair("b", "c"), pair("d", "e"), pair("f", "a")},
                 {},
                 {"a", "b", "c", "d", "e", "f"},
                 {},
                 3,
                 3,
                 0},
        DiffCase{"EverythingRemoved",
                 {pair("a", "b"), pair("c", "c")},
                 {},
                 {},
                 {},
                 {"a", "b", "c"},
                 0,
                 2,
                 0},
        DiffCase{"BothEmpty", {}, {}, {}, {}, {}, 0, 0, 0}),
    [](const testing::TestParamInfo<DiffCase>& info) { return info.param.name; });

TEST(PlanTest, KeptPairsAreNotInAddedOrRemoved) {
    const Plan plan =
        plan_changes({pair("a", "b"), pair("c", "d")}, {pair("c", "d"), pair("e", "f")});
    ASSERT_EQ(plan.kept_pairs.size(), 1u);
    EXPECT_EQ(plan.kept_pairs[0], pair("c", "d"));
    EXPECT_EQ(plan.removed_pairs, std::vector{pair("a", "b")});
    EXPECT_EQ(plan.added_pairs, std::vector{pair("e", "f")});
    EXPECT_FALSE(plan.empty());
    EXPECT_TRUE(plan_changes({pair("a", "b")}, {pair("b", "a")}).empty());
}

}  // namespace
}  // namespace xconnect
