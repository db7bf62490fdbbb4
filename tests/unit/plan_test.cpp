#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "engine/engine.hpp"
#include "engine/plan.hpp"
#include "fake_dataplane.hpp"
#include "recording_observer.hpp"

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
    EXPECT_EQ(plan.changed_interfaces, c.changed_interfaces);
    EXPECT_EQ(plan.added_pairs.size(), c.added_pairs);
    EXPECT_EQ(plan.removed_pairs.size(), c.removed_pairs);
}

// What the engine makes of the plan: a new interface gets our program, a
// removed one loses it, a changed one keeps it and has only its map entry
// rewritten, and a kept pair is not touched at all.
TEST_P(PlanTest, EngineCarriesItOut) {
    const DiffCase& c = GetParam();
    std::map<std::string, uint32_t> ifindex_of;
    std::vector<LinkInfo> links;
    for (const auto* pairs : {&c.running, &c.candidate}) {
        for (const PairSpec& spec : *pairs) {
            for (const std::string& name : {spec.left, spec.right}) {
                if (ifindex_of.emplace(name, ifindex_of.size() + 1).second) {
                    // A NIC: native in every mode policy, so only a peer or a
                    // mode change rewrites its map entry.
                    links.push_back(LinkInfo{ifindex_of[name], name, "", OperState::up});
                }
            }
        }
    }
    std::map<uint32_t, std::string> name_of;
    for (const auto& [name, ifindex] : ifindex_of) {
        name_of[ifindex] = name;
    }

    test::FakeDataplane kernel;
    Engine engine{kernel, EngineOptions{}};
    engine.set_links(links);
    engine.apply(c.running);
    kernel.journal.clear();
    test::RecordingObserver observer;
    engine.add_observer(observer);
    engine.apply(c.candidate);

    std::set<std::string> attached;
    std::set<std::string> detached;
    std::set<std::string> connected;
    std::set<std::string> touched;
    for (const std::string& call : kernel.journal) {
        std::istringstream words(call);
        std::string verb;
        uint32_t ifindex = 0;
        words >> verb >> ifindex;
        const std::string& name = name_of.at(ifindex);
        touched.insert(name);
        if (verb == "attach") {
            attached.insert(name);
        } else if (verb == "detach") {
            detached.insert(name);
        } else if (verb == "connect") {
            connected.insert(name);
        }
    }
    size_t added = 0;
    size_t removed = 0;
    for (const test::Event& event : observer.events) {
        added += event.what == "added";
        removed += event.what == "removed";
        touched.insert(event.pair.spec.left);
        touched.insert(event.pair.spec.right);
    }
    Names rewritten;
    std::set_difference(connected.begin(), connected.end(), attached.begin(), attached.end(),
                        std::back_inserter(rewritten));
    const auto kept =
        std::count_if(c.candidate.begin(), c.candidate.end(), [&](const PairSpec& spec) {
            return !touched.contains(spec.left) && !touched.contains(spec.right);
        });

    EXPECT_EQ(Names(attached.begin(), attached.end()), c.new_interfaces);
    EXPECT_EQ(Names(detached.begin(), detached.end()), c.removed_interfaces);
    EXPECT_EQ(rewritten, c.changed_interfaces);
    EXPECT_EQ(added, c.added_pairs);
    EXPECT_EQ(removed, c.removed_pairs);
    EXPECT_EQ(static_cast<size_t>(kept), c.kept_pairs);
    for (const PairStatus& status : engine.pairs()) {
        EXPECT_EQ(status.state, PairState::active) << status.spec.left;
    }
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
    EXPECT_EQ(plan.removed_pairs, std::vector{pair("a", "b")});
    EXPECT_EQ(plan.added_pairs, std::vector{pair("e", "f")});
    const Plan same = plan_changes({pair("a", "b")}, {pair("b", "a")});
    EXPECT_TRUE(same.removed_pairs.empty());
    EXPECT_TRUE(same.added_pairs.empty());
    EXPECT_TRUE(same.changed_interfaces.empty());
}

}  // namespace
}  // namespace xconnect
