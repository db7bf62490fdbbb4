#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "fake_dataplane.hpp"
#include "recording_observer.hpp"

namespace xconnect {
namespace {

using test::Event;
using test::FakeDataplane;
using test::RecordingObserver;
using Journal = std::vector<std::string>;

PairSpec pair(std::string left, std::string right, std::optional<ModePolicy> mode = {}) {
    return PairSpec{std::move(left), std::move(right), mode};
}

LinkInfo veth(uint32_t ifindex, std::string name, OperState oper = OperState::up) {
    return LinkInfo{ifindex, std::move(name), "veth", oper};
}

LinkInfo nic(uint32_t ifindex, std::string name) {
    return LinkInfo{ifindex, std::move(name), "", OperState::up};
}

LinkInfo with_program(LinkInfo link, uint32_t program_id) {
    link.xdp_program_id = program_id;
    return link;
}

class EngineTest : public testing::Test {
  protected:
    EngineTest() { engine.add_observer(observer); }

    PairStatus status(const std::string& ifname) {
        auto found = engine.find_pair(ifname);
        EXPECT_TRUE(found) << "no pair holds " << ifname;
        return found.value_or(PairStatus{});
    }
    Journal take_journal() { return std::exchange(kernel.journal, {}); }

    FakeDataplane kernel;
    Engine engine{kernel, EngineOptions{}};
    RecordingObserver observer;
};

TEST_F(EngineTest, PairOfAbsentInterfacesIsPendingUntilBothAppear) {
    engine.apply({pair("veth0", "veth1")});
    EXPECT_EQ(status("veth0").state, PairState::pending);
    EXPECT_EQ(status("veth0").left_ifindex, 0u);
    EXPECT_FALSE(status("veth0").left_oper);
    EXPECT_TRUE(kernel.journal.empty());

    engine.link_changed(veth(7, "veth0"));
    EXPECT_EQ(status("veth0").state, PairState::pending);
    EXPECT_EQ(status("veth0").left_ifindex, 7u);
    EXPECT_TRUE(kernel.attached.empty()) << "nothing attached while a side is absent";

    engine.link_changed(veth(8, "veth1"));
    const PairStatus active = status("veth1");
    EXPECT_EQ(active.state, PairState::active);
    EXPECT_EQ(active.mode, AttachMode::generic) << "veth forwards only in generic mode by default";
    EXPECT_EQ(active.right_ifindex, 8u);
    EXPECT_EQ(active.right_oper, OperState::up);
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{7, 8}, {8, 7}}));
    EXPECT_EQ(kernel.attached.size(), 2u);
}

TEST_F(EngineTest, ObserversSeeAddedChangedRemoved) {
    engine.set_links({veth(7, "veth0")});
    engine.apply({pair("veth0", "veth1")});
    ASSERT_EQ(observer.events.size(), 1u);
    EXPECT_EQ(observer.events[0].what, "added");
    EXPECT_EQ(observer.events[0].pair.state, PairState::pending);
    EXPECT_EQ(observer.events[0].pair.left_ifindex, 7u);

    engine.link_changed(veth(8, "veth1"));
    ASSERT_EQ(observer.events.size(), 2u);
    EXPECT_EQ(observer.events[1].what, "changed");
    EXPECT_EQ(observer.events[1].fields, field_state | field_mode | field_left_mode |
                                             field_right_mode | field_mode_reason |
                                             field_right_ifindex | field_right_oper);

    engine.link_changed(veth(8, "veth1", OperState::down));
    ASSERT_EQ(observer.events.size(), 3u);
    EXPECT_EQ(observer.events[2].fields, field_right_oper) << "only what changed is named";
    EXPECT_EQ(observer.events[2].pair.state, PairState::active);

    engine.link_changed(veth(8, "veth1", OperState::down));  // no change: no event
    EXPECT_EQ(observer.events.size(), 3u);

    engine.apply({});
    ASSERT_EQ(observer.events.size(), 4u);
    EXPECT_EQ(observer.events[3].what, "removed");
    EXPECT_TRUE(kernel.attached.empty());
    EXPECT_TRUE(kernel.redirects.empty());
}

TEST_F(EngineTest, NewPairIsAnnouncedWithItsFinalState) {
    engine.set_links({veth(7, "a"), veth(8, "b")});
    engine.apply({pair("a", "b")});
    ASSERT_EQ(observer.events.size(), 1u);
    EXPECT_EQ(observer.events[0].what, "added");
    EXPECT_EQ(observer.events[0].pair.state, PairState::active);
}

TEST_F(EngineTest, SelfPairReflectsThroughOneInterface) {
    engine.set_links({veth(5, "xconnect-1")});
    engine.apply({pair("xconnect-1", "xconnect-1")});
    EXPECT_EQ(status("xconnect-1").state, PairState::active);
    EXPECT_EQ(take_journal(), (Journal{"connect 5->5", "attach 5 generic"}));
    kernel.forward(5, 100);
    const auto counters = engine.counters("xconnect-1");
    ASSERT_TRUE(counters);
    EXPECT_EQ(counters->left_to_right, (Counters{1, 100}));
    EXPECT_EQ(counters->right_to_left, (Counters{1, 100}));
    engine.apply({});
    EXPECT_EQ(take_journal(), (Journal{"disconnect 5", "detach 5"}));
}

TEST_F(EngineTest, UnchangedPairsAreNotTouched) {
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c"), veth(4, "d")});
    engine.apply({pair("a", "b")});
    take_journal();
    engine.apply({pair("a", "b"), pair("c", "d")});
    EXPECT_EQ(take_journal(),
              (Journal{"connect 3->4", "connect 4->3", "attach 3 generic", "attach 4 generic"}));
    engine.apply({pair("b", "a"), pair("c", "d")});  // same pair, other spelling
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c"), veth(4, "d")});
    EXPECT_TRUE(take_journal().empty());
    EXPECT_EQ(status("a").spec, pair("a", "b")) << "a kept pair keeps its spelling";
    EXPECT_EQ(engine.desired(), (std::vector{pair("a", "b"), pair("c", "d")}));
    engine.apply({pair("c", "d")});
    EXPECT_EQ(take_journal(), (Journal{"disconnect 1", "detach 1", "disconnect 2", "detach 2"}));
}

TEST_F(EngineTest, InterfaceMovingToAnotherPairKeepsItsProgram) {
    engine.set_links({veth(1, "intf-1"), veth(2, "intf-2"), veth(3, "intf-3")});
    engine.apply({pair("intf-1", "intf-2")});
    take_journal();
    engine.apply({pair("intf-1", "intf-3")});
    // intf-1 is not detached: its map entry is rewritten in place, without a gap.
    EXPECT_EQ(take_journal(), (Journal{"disconnect 2", "detach 2", "connect 1->3", "connect 3->1",
                                       "attach 3 generic"}));
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 3}, {3, 1}}));
}

TEST_F(EngineTest, SwappingPeersOnlyRewritesTheMap) {
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c"), veth(4, "d")});
    engine.apply({pair("a", "b"), pair("c", "d")});
    take_journal();
    engine.apply({pair("a", "d"), pair("c", "b")});
    for (const std::string& call : take_journal()) {
        EXPECT_TRUE(call.starts_with("connect")) << call;
    }
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 4}, {4, 1}, {3, 2}, {2, 3}}));
    EXPECT_EQ(kernel.attached.size(), 4u);
}

TEST_F(EngineTest, CountersStartAtZeroForAPairMadeOfMovedInterfaces) {
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c")});
    engine.apply({pair("a", "b")});
    kernel.forward(1, 60);
    kernel.forward(1, 60);
    EXPECT_EQ(engine.counters("a")->left_to_right, (Counters{2, 120}));
    engine.apply({pair("a", "c")});
    EXPECT_EQ(engine.counters("a")->left_to_right, (Counters{}));
    kernel.forward(1, 70);
    kernel.forward(3, 80);
    EXPECT_EQ(engine.counters("c")->left_to_right, (Counters{1, 70}));
    EXPECT_EQ(engine.counters("c")->right_to_left, (Counters{1, 80}));
}

TEST_F(EngineTest, CountersSurviveARecreatedInterface) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.apply({pair("a", "b")});
    kernel.forward(2, 100);
    kernel.device_destroyed(2);
    engine.link_removed(2);
    engine.link_changed(veth(9, "b"));
    kernel.forward(9, 50);
    EXPECT_EQ(engine.counters("a")->right_to_left, (Counters{2, 150}));
}

TEST_F(EngineTest, DisappearingInterfaceMakesThePairPendingAndReturnsWithANewIfindex) {
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c"), veth(4, "d")});
    engine.apply({pair("a", "b"), pair("c", "d")});
    take_journal();

    kernel.device_destroyed(2);
    engine.link_removed(2);
    PairStatus pending = status("a");
    EXPECT_EQ(pending.state, PairState::pending);
    EXPECT_FALSE(pending.mode);
    EXPECT_EQ(pending.right_ifindex, 0u);
    EXPECT_FALSE(pending.right_oper);
    EXPECT_EQ(pending.left_ifindex, 1u);
    EXPECT_EQ(take_journal(), (Journal{"disconnect 2", "disconnect 1", "detach 1"}));

    engine.link_changed(veth(12, "b"));
    EXPECT_EQ(status("b").state, PairState::active);
    EXPECT_EQ(status("b").right_ifindex, 12u);
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 12}, {12, 1}, {3, 4}, {4, 3}}));
    for (const std::string& call : take_journal()) {
        EXPECT_EQ(call.find(" 3"), std::string::npos) << "other pair touched: " << call;
        EXPECT_EQ(call.find(" 4"), std::string::npos) << "other pair touched: " << call;
    }
}

TEST_F(EngineTest, RecreatedBeforeTheRemovalIsSeen) {
    // A new ifindex for the same name, with no RTM_DELLINK in between.
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.apply({pair("a", "b")});
    kernel.device_destroyed(2);
    engine.link_changed(veth(20, "b"));
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 20}, {20, 1}}));
    engine.link_removed(2);  // the late removal of the old one changes nothing
    EXPECT_EQ(status("a").state, PairState::active);
}

TEST_F(EngineTest, RenameAwayAndBack) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.apply({pair("a", "b")});
    engine.link_changed(veth(2, "renamed"));
    EXPECT_EQ(status("a").state, PairState::pending);
    EXPECT_TRUE(kernel.attached.empty());
    engine.link_changed(veth(2, "b"));
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_EQ(status("a").right_ifindex, 2u);
}

TEST_F(EngineTest, ForeignProgramIsLeftAloneAndThePairFails) {
    engine.set_links({veth(1, "a"), with_program(veth(2, "b"), 4242)});
    kernel.attached[2] = AttachedProgram{4242, AttachMode::native};
    engine.apply({pair("a", "b")});
    const PairStatus failed = status("a");
    EXPECT_EQ(failed.state, PairState::failed);
    EXPECT_FALSE(failed.mode);
    EXPECT_NE(failed.error.find("b: XDP program id 4242 (native) is already attached"),
              std::string::npos)
        << failed.error;
    EXPECT_EQ(kernel.attached.at(2).program_id, 4242u) << "the foreign program keeps running";
    EXPECT_FALSE(kernel.attached.contains(1)) << "the half we attached was rolled back";
    EXPECT_TRUE(kernel.redirects.empty());

    // Our own attach and detach make link news: they must not start a retry loop.
    take_journal();
    engine.link_changed(with_program(veth(1, "a"), FakeDataplane::our_program));
    engine.link_changed(with_program(veth(1, "a"), 0));
    EXPECT_TRUE(take_journal().empty());
    EXPECT_EQ(status("a").state, PairState::failed);

    // Once the news says the foreign program is gone, the pair attaches.
    kernel.attached.erase(2);
    engine.link_changed(veth(2, "b"));
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_EQ(status("a").error, "");
}

TEST_F(EngineTest, OurProgramRemovedBySomeoneElseFailsThePairWithoutAFight) {
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c"), veth(4, "d")});
    engine.apply({pair("a", "b"), pair("c", "d")});
    take_journal();
    kernel.someone_else_detaches(2);
    engine.link_changed(with_program(veth(2, "b"), 0));
    const PairStatus failed = status("a");
    EXPECT_EQ(failed.state, PairState::failed);
    EXPECT_NE(failed.error.find("b: our XDP program was removed by someone else"),
              std::string::npos)
        << failed.error;
    EXPECT_FALSE(kernel.attached.contains(1)) << "no half-attached pair";
    EXPECT_FALSE(kernel.redirects.contains(1));
    EXPECT_EQ(status("c").state, PairState::active) << "other pairs untouched";

    // Later news about the interface does not make us take it back ...
    engine.link_changed(with_program(veth(2, "b", OperState::down), 0));
    engine.link_changed(with_program(veth(2, "b", OperState::up), 0));
    EXPECT_EQ(status("a").state, PairState::failed);
    EXPECT_FALSE(kernel.attached.contains(2));
    // ... a reload does.
    engine.apply({pair("a", "b"), pair("c", "d")});
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_EQ(kernel.attached.at(2).program_id, FakeDataplane::our_program);
}

TEST_F(EngineTest, OurProgramReplacedBySomeoneElseIsLeftRunning) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.apply({pair("a", "b")});
    kernel.someone_else_replaces(1, 999);
    engine.link_changed(with_program(veth(1, "a"), 999));
    EXPECT_EQ(status("a").state, PairState::failed);
    EXPECT_NE(status("a").error.find("a: our XDP program was replaced by program id 999"),
              std::string::npos)
        << status("a").error;
    EXPECT_EQ(kernel.attached.at(1).program_id, 999u) << "theirs keeps running";
    EXPECT_FALSE(kernel.attached.contains(2));
    // A recreated interface is a new one: nobody disputes it.
    kernel.device_destroyed(1);
    engine.link_removed(1);
    engine.link_changed(veth(5, "a"));
    EXPECT_EQ(status("a").state, PairState::active);
}

TEST_F(EngineTest, NewsOlderThanOurAttachIsNotInterference) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.apply({pair("a", "b")});
    take_journal();
    // An RTM_NEWLINK sent before we attached still says "no program".
    engine.link_changed(with_program(veth(2, "b", OperState::down), 0));
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_TRUE(take_journal().empty());
}

TEST_F(EngineTest, ProgramOfAnEarlierXconnectdIsTakenOver) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    kernel.attached[1] = AttachedProgram{555, AttachMode::generic, /*earlier_xconnect=*/true};
    engine.apply({pair("a", "b")});
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_EQ(kernel.attached.at(1).program_id, FakeDataplane::our_program);
}

TEST_F(EngineTest, FailedPairIsTriedAgainOnReloadOrRecreation) {
    engine.set_links({nic(1, "eth0"), nic(2, "eth1")});
    kernel.refuse.insert(2);
    engine.apply({pair("eth0", "eth1")});
    take_journal();
    engine.link_changed(LinkInfo{1, "eth0", "", OperState::down});
    EXPECT_TRUE(take_journal().empty()) << "link news alone does not retry";
    kernel.refuse.clear();
    engine.apply({pair("eth0", "eth1")});
    EXPECT_EQ(status("eth0").state, PairState::active) << "a reload retries";

    kernel.refuse.insert(3);
    kernel.device_destroyed(2);
    engine.link_changed(nic(3, "eth1"));  // recreated: retried, fails again
    EXPECT_EQ(status("eth0").state, PairState::failed);
    kernel.refuse.clear();
    kernel.device_destroyed(3);
    engine.link_changed(nic(4, "eth1"));
    EXPECT_EQ(status("eth0").state, PairState::active);
}

TEST_F(EngineTest, AttachFailureRollsBackTheOtherSide) {
    engine.set_links({nic(1, "eth0"), nic(2, "eth1")});
    kernel.refuse.insert(2);
    engine.apply({pair("eth0", "eth1")});
    EXPECT_EQ(status("eth0").state, PairState::failed);
    EXPECT_NE(status("eth0").error.find("eth1: attach on ifindex 2: bpf_link_create: "),
              std::string::npos)
        << status("eth0").error;
    EXPECT_NE(status("eth0").error.find("EPERM"), std::string::npos) << status("eth0").error;
    EXPECT_EQ(take_journal(), (Journal{"connect 1->2", "connect 2->1", "attach 1 native",
                                       "disconnect 2", "disconnect 1", "detach 1"}));
}

TEST_F(EngineTest, PairBeyondThePortCapacityFailsBeforeAttachingAndOthersAreUnharmed) {
    kernel.capacity = 5;
    engine.set_links({nic(1, "eth0"), nic(2, "eth1"), nic(3, "eth2"), nic(4, "eth3"),
                      nic(5, "eth4"), nic(6, "eth5"), nic(7, "eth6")});
    // 2 + 2 + 1 ports: the map is full.
    const std::vector<PairSpec> full{pair("eth0", "eth1"), pair("eth2", "eth3"),
                                     pair("eth4", "eth4")};
    engine.apply(full);
    for (const char* name : {"eth0", "eth2", "eth4"}) {
        EXPECT_EQ(status(name).state, PairState::active) << name;
    }
    take_journal();

    std::vector<PairSpec> one_more = full;
    one_more.push_back(pair("eth5", "eth6"));
    engine.apply(one_more);
    EXPECT_EQ(status("eth5").state, PairState::failed);
    EXPECT_EQ(status("eth5").error,
              "the port map is full: 5 interfaces (XC_MAX_PORTS) are cross-connected already; "
              "tried again on a reload");
    EXPECT_TRUE(take_journal().empty()) << "nothing attached for a pair beyond the capacity";
    for (const char* name : {"eth0", "eth2", "eth4"}) {
        EXPECT_EQ(status(name).state, PairState::active) << name << " unharmed";
    }
    EXPECT_EQ(kernel.redirects.size(), 5u);

    // A self-pair needs one port: still none free.
    one_more.push_back(pair("eth6x", "eth6x"));
    engine.link_changed(nic(8, "eth6x"));
    engine.apply(one_more);
    EXPECT_EQ(status("eth6x").state, PairState::failed);

    // A pair whose interface goes frees its ports; the next reload uses them.
    engine.link_removed(2);
    EXPECT_EQ(status("eth0").state, PairState::pending);
    EXPECT_EQ(status("eth5").state, PairState::failed) << "link news alone does not retry";
    engine.apply(one_more);
    EXPECT_EQ(status("eth5").state, PairState::active);
    EXPECT_EQ(status("eth6x").state, PairState::failed) << "5 ports in use again";
    EXPECT_EQ(kernel.redirects.size(), 5u);
}

TEST_F(EngineTest, PortsMovedBetweenPairsAreCountedOnce) {
    kernel.capacity = 4;
    engine.set_links({nic(1, "a"), nic(2, "b"), nic(3, "c"), nic(4, "d"), nic(5, "e")});
    engine.apply({pair("a", "b"), pair("c", "d")});
    engine.apply({pair("a", "c"), pair("b", "d")});  // every interface moves
    EXPECT_EQ(status("a").state, PairState::active);
    EXPECT_EQ(status("b").state, PairState::active);
    engine.apply({pair("a", "c"), pair("b", "d"), pair("e", "e")});
    EXPECT_EQ(status("e").state, PairState::failed) << "4 ports, not more, not fewer";
    engine.apply({pair("a", "c"), pair("e", "e")});  // b and d released
    EXPECT_EQ(status("e").state, PairState::active);
    engine.shutdown();
    EXPECT_TRUE(kernel.attached.empty());
    engine.apply({pair("a", "b"), pair("c", "d")});
    EXPECT_EQ(status("c").state, PairState::active) << "shutdown gave every port back";
}

TEST_F(EngineTest, KernelsFullMapIsReportedAsSuch) {
    // Entries the engine does not know of fill the kernel's map first.
    kernel.map_entries = 2;
    engine.set_links({nic(1, "eth0"), nic(2, "eth1"), nic(3, "eth2"), nic(4, "eth3")});
    engine.apply({pair("eth0", "eth1"), pair("eth2", "eth3")});
    EXPECT_EQ(status("eth0").state, PairState::active);
    const PairStatus refused = status("eth2");
    EXPECT_EQ(refused.state, PairState::failed);
    EXPECT_NE(refused.error.find("(E2BIG)"), std::string::npos) << refused.error;
    EXPECT_NE(refused.error.find("(the XDP program's maps are full: they hold 4096 interfaces, "
                                 "XC_MAX_PORTS)"),
              std::string::npos)
        << refused.error;
    EXPECT_FALSE(kernel.attached.contains(3)) << "no half-attached pair";
    EXPECT_FALSE(kernel.attached.contains(4));
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 2}, {2, 1}}));
}

TEST_F(EngineTest, ConnectFailureNamesTheInterfacesAndRollsBack) {
    engine.set_links({nic(1, "eth0"), nic(2, "eth1")});
    kernel.gone.insert(2);  // deleted between the attach and the map update
    engine.apply({pair("eth0", "eth1")});
    const PairStatus refused = status("eth0");
    EXPECT_EQ(refused.state, PairState::failed);
    EXPECT_EQ(refused.error,
              "eth0 to eth1: redirect to ifindex 2 on ifindex 1: bpf_map_update_elem: Invalid "
              "argument (EINVAL)");
    EXPECT_TRUE(kernel.attached.empty());
    EXPECT_TRUE(kernel.redirects.empty());
}

TEST_F(EngineTest, AutoModeUsesNativeWhereTheDriverHasIt) {
    engine.set_links({nic(1, "eth0"), nic(2, "eth1"), nic(3, "eth2"), nic(4, "eth3")});
    kernel.no_native.insert(4);
    engine.apply({pair("eth0", "eth1"), pair("eth2", "eth3")});
    EXPECT_EQ(status("eth0").mode, AttachMode::native);
    EXPECT_EQ(status("eth0").error, "");
    const PairStatus fallback = status("eth3");
    EXPECT_EQ(fallback.state, PairState::active);
    EXPECT_EQ(fallback.mode, AttachMode::generic);
    EXPECT_NE(fallback.error.find("using generic mode"), std::string::npos) << fallback.error;
    EXPECT_EQ(kernel.attached.at(3).mode, AttachMode::generic) << "both sides in one mode";
}

LinkInfo with_mtu(LinkInfo link, uint32_t mtu) {
    link.mtu = mtu;
    return link;
}

constexpr XdpFeatures napi_veth = xdp_feature_basic | xdp_feature_redirect | xdp_feature_rx_sg |
                                  xdp_feature_ndo_xmit | xdp_feature_ndo_xmit_sg;
constexpr XdpFeatures plain_veth = xdp_feature_basic | xdp_feature_redirect | xdp_feature_rx_sg;

TEST_F(EngineTest, VethsWhosePeersRunNapiGoNative) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.set_xdp_features({{1, napi_veth}, {2, napi_veth}});
    engine.apply({pair("a", "b")});
    const PairStatus pair_status = status("a");
    EXPECT_EQ(pair_status.mode, AttachMode::native);
    EXPECT_EQ(pair_status.left_mode, AttachMode::native);
    EXPECT_EQ(pair_status.right_mode, AttachMode::native);
    EXPECT_EQ(pair_status.mode_reason,
              "a: native: b accepts native redirects (its peer runs NAPI); b: native: a accepts "
              "native redirects (its peer runs NAPI)");
    EXPECT_EQ(kernel.attached.at(1).mode, AttachMode::native);
    EXPECT_EQ(kernel.attached.at(2).mode, AttachMode::native);
}

TEST_F(EngineTest, EachSideIsDecidedByWhatItsTargetAccepts) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.set_xdp_features({{1, plain_veth}, {2, napi_veth}});
    engine.apply({pair("a", "b")});
    const PairStatus mixed = status("a");
    EXPECT_EQ(mixed.left_mode, AttachMode::native) << "b accepts native redirects";
    EXPECT_EQ(mixed.right_mode, AttachMode::generic) << "a does not";
    EXPECT_EQ(mixed.mode, AttachMode::generic) << "Mode reads as the slower side";
    EXPECT_NE(mixed.mode_reason.find("b: generic: a does not accept native redirects"),
              std::string::npos)
        << mixed.mode_reason;
}

TEST_F(EngineTest, AChangeOfXdpFeaturesSwitchesOnlyTheSideItConcerns) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.set_xdp_features({{1, napi_veth}, {2, napi_veth}});
    engine.apply({pair("a", "b")});
    kernel.forward(1, 100);
    take_journal();
    observer.events.clear();

    engine.xdp_features_changed(2, plain_veth);  // b's peer turned GRO off
    EXPECT_EQ(take_journal(), (Journal{"attach 1 generic"})) << "entries and b's program untouched";
    ASSERT_EQ(observer.events.size(), 1u);
    EXPECT_EQ(observer.events[0].fields, field_mode | field_left_mode | field_mode_reason);
    EXPECT_EQ(status("a").left_mode, AttachMode::generic);
    EXPECT_EQ(status("a").right_mode, AttachMode::native);
    EXPECT_EQ(engine.counters("a")->left_to_right, (Counters{1, 100})) << "counters go on";

    engine.xdp_features_changed(2, plain_veth);  // no change: nothing done
    EXPECT_TRUE(take_journal().empty());
    engine.xdp_features_changed(2, napi_veth);
    EXPECT_EQ(take_journal(), (Journal{"attach 1 native"}));
    EXPECT_EQ(status("a").mode, AttachMode::native);
}

TEST_F(EngineTest, ARefusedNativeAttachFallsBackToGenericSayingWhy) {
    engine.set_links({with_mtu(veth(1, "j1"), 9000), with_mtu(veth(2, "j2"), 9000)});
    engine.set_xdp_features({{1, napi_veth}, {2, napi_veth}});
    kernel.native_refused[1] = ERANGE;
    engine.apply({pair("j1", "j2")});
    const PairStatus fallback = status("j1");
    EXPECT_EQ(fallback.state, PairState::active);
    EXPECT_EQ(fallback.left_mode, AttachMode::generic);
    EXPECT_EQ(fallback.right_mode, AttachMode::native) << "j1 takes native redirects all the same";
    EXPECT_EQ(fallback.error,
              "native XDP refused for MTU 9000 on j1: its driver does not take frames that large "
              "in native mode (ERANGE); using generic mode");
    EXPECT_NE(fallback.mode_reason.find("j1: generic: native XDP refused for MTU 9000"),
              std::string::npos)
        << fallback.mode_reason;

    // Not asked again on every event; asked again when the MTU changes.
    take_journal();
    engine.link_changed(with_mtu(veth(1, "j1", OperState::down), 9000));
    EXPECT_TRUE(take_journal().empty());
    kernel.native_refused.clear();
    engine.link_changed(with_mtu(veth(1, "j1"), 1500));
    EXPECT_EQ(take_journal(), (Journal{"attach 1 native"}));
    EXPECT_EQ(status("j1").mode, AttachMode::native);
    EXPECT_EQ(status("j1").error, "");
}

TEST_F(EngineTest, ARefusedNativeAttachFailsAPairThatAskedForNative) {
    engine.set_links({with_mtu(veth(1, "j1"), 9000), with_mtu(veth(2, "j2"), 9000)});
    kernel.native_refused[2] = ERANGE;
    engine.apply({pair("j1", "j2", ModePolicy::native)});
    const PairStatus failed = status("j1");
    EXPECT_EQ(failed.state, PairState::failed);
    EXPECT_EQ(failed.error.rfind("native XDP refused for MTU 9000 on j2: its driver does not take "
                                 "frames that large in native mode (ERANGE): ",
                                 0),
              0u)
        << failed.error;
    EXPECT_TRUE(kernel.attached.empty()) << "no half-attached pair";
}

TEST_F(EngineTest, DifferentMtusWarnWhileThePairIsActive) {
    engine.set_links({with_mtu(veth(1, "veth0"), 1500), with_mtu(veth(2, "vx1"), 1450)});
    engine.apply({pair("veth0", "vx1")});
    EXPECT_EQ(status("veth0").warning,
              "frames above 1450 bytes are dropped: vx1 MTU 1450 < veth0 MTU 1500");
    EXPECT_EQ(status("veth0").error, "") << "Error stays the reason for failed";
    observer.events.clear();

    engine.link_changed(with_mtu(veth(1, "veth0"), 1450));  // the usual fix
    ASSERT_EQ(observer.events.size(), 1u);
    EXPECT_EQ(observer.events[0].fields, field_warning);
    EXPECT_EQ(status("veth0").warning, "");

    engine.link_changed(with_mtu(veth(2, "vx1"), 1400));
    EXPECT_EQ(status("veth0").warning,
              "frames above 1400 bytes are dropped: vx1 MTU 1400 < veth0 MTU 1450");
    engine.link_removed(2);
    EXPECT_EQ(status("veth0").state, PairState::pending);
    EXPECT_EQ(status("veth0").warning, "") << "only while active";
}

TEST_F(EngineTest, TapIsGenericInAutoMode) {
    engine.set_links({LinkInfo{1, "tap0", "tun", OperState::up}, nic(2, "eth0")});
    engine.apply({pair("eth0", "tap0")});
    EXPECT_EQ(status("tap0").mode, AttachMode::generic);
}

TEST_F(EngineTest, ModeCanBeForcedPerPairAndByDefault) {
    engine.set_links({veth(1, "a"), veth(2, "b"), nic(3, "c"), nic(4, "d")});
    engine.apply({pair("a", "b", ModePolicy::native), pair("c", "d", ModePolicy::generic)});
    EXPECT_EQ(status("a").mode, AttachMode::native);
    EXPECT_EQ(status("c").mode, AttachMode::generic);

    FakeDataplane other_kernel;
    Engine generic_engine(other_kernel, EngineOptions{.default_mode = ModePolicy::generic});
    generic_engine.set_links({nic(1, "eth0"), nic(2, "eth1")});
    generic_engine.apply({pair("eth0", "eth1")});
    EXPECT_EQ(generic_engine.find_pair("eth0")->mode, AttachMode::generic);
}

TEST_F(EngineTest, ForcedNativeFailsWhereTheDriverHasNoNativeXdp) {
    engine.set_links({nic(1, "a"), nic(2, "b")});
    kernel.no_native.insert(2);
    engine.apply({pair("a", "b", ModePolicy::native)});
    EXPECT_EQ(status("a").state, PairState::failed);
    EXPECT_NE(status("a").error.find("EOPNOTSUPP"), std::string::npos) << status("a").error;
    EXPECT_TRUE(kernel.attached.empty());
}

TEST_F(EngineTest, ChangingAPairsModeReattaches) {
    engine.set_links({nic(1, "a"), nic(2, "b")});
    engine.apply({pair("a", "b")});
    take_journal();
    engine.apply({pair("a", "b", ModePolicy::generic)});
    EXPECT_EQ(status("a").mode, AttachMode::generic);
    EXPECT_EQ(kernel.attached.at(1).mode, AttachMode::generic);
    EXPECT_EQ(kernel.attached.at(2).mode, AttachMode::generic);
}

TEST_F(EngineTest, InvalidDesiredStateChangesNothing) {
    engine.set_links({veth(1, "a"), veth(2, "b")});
    engine.apply({pair("a", "b")});
    take_journal();
    EXPECT_THROW(engine.apply({pair("a", "c"), pair("c", "d")}), std::invalid_argument);
    EXPECT_THROW(engine.apply({pair("a", "bad/name")}), std::invalid_argument);
    EXPECT_TRUE(take_journal().empty());
    EXPECT_EQ(engine.desired(), std::vector{pair("a", "b")});
    EXPECT_EQ(status("a").state, PairState::active);
}

TEST_F(EngineTest, ShutdownDetachesEverything) {
    engine.set_links({veth(1, "a"), veth(2, "b"), veth(3, "c")});
    engine.apply({pair("a", "b"), pair("c", "c"), pair("x", "y")});
    engine.shutdown();
    EXPECT_TRUE(kernel.attached.empty());
    EXPECT_TRUE(kernel.redirects.empty());
    EXPECT_TRUE(kernel.counter_map.empty());
    EXPECT_TRUE(engine.pairs().empty());
    EXPECT_TRUE(engine.desired().empty());
    size_t removed = 0;
    for (const Event& event : observer.events) {
        removed += event.what == "removed";
    }
    EXPECT_EQ(removed, 3u);
}

TEST_F(EngineTest, PairsAreListedByLeftName) {
    engine.apply({pair("zeta", "y"), pair("alpha", "b"), pair("m", "m")});
    std::vector<std::string> lefts;
    for (const PairStatus& pair : engine.pairs()) {
        lefts.push_back(pair.spec.left);
    }
    EXPECT_EQ(lefts, (std::vector<std::string>{"alpha", "m", "zeta"}));
    EXPECT_FALSE(engine.find_pair("nope"));
    EXPECT_FALSE(engine.counters("nope"));
}

// Every name a pair holds finds that pair, and no other name finds one.
void expect_index_matches(const Engine& engine, const std::vector<std::string>& all_names) {
    std::map<std::string, PairSpec> holder;
    for (const PairSpec& spec : engine.desired()) {
        holder.emplace(spec.left, spec);
        holder.emplace(spec.right, spec);
    }
    for (const std::string& name : all_names) {
        const auto found = engine.find_pair(name);
        const auto counters = engine.counters(name);
        auto expected = holder.find(name);
        if (expected == holder.end()) {
            EXPECT_FALSE(found) << name << " is in no pair";
            EXPECT_FALSE(counters) << name << " is in no pair";
        } else {
            ASSERT_TRUE(found) << name;
            EXPECT_EQ(found->spec, expected->second) << name;
            EXPECT_TRUE(counters) << name;
        }
    }
    EXPECT_EQ(engine.pairs().size(), engine.desired().size());
}

TEST_F(EngineTest, EveryInterfaceFindsItsPairThroughAddRemoveReplaceRenameAndShutdown) {
    constexpr uint32_t count = 200;
    std::vector<std::string> names;
    std::vector<LinkInfo> links;
    for (uint32_t i = 0; i < count; ++i) {
        names.push_back("if" + std::to_string(i));
        links.push_back(nic(i + 1, names.back()));
    }
    engine.set_links(links);

    std::vector<PairSpec> desired;
    for (uint32_t i = 0; i < count / 2; i += 2) {  // added
        desired.push_back(pair(names[i], names[i + 1]));
    }
    engine.apply(desired);
    expect_index_matches(engine, names);

    desired.erase(desired.begin(), desired.begin() + 10);  // removed
    engine.apply(desired);
    expect_index_matches(engine, names);

    for (size_t i = 0; i + 1 < desired.size(); i += 2) {  // replaced: peers swapped
        std::swap(desired[i].right, desired[i + 1].right);
    }
    desired.push_back(pair(names[count - 1], names[count - 1]));  // and a self-pair added
    engine.apply(desired);
    expect_index_matches(engine, names);
    EXPECT_EQ(status(desired.front().right).state, PairState::active);

    // A rename changes links, not pairs: the pair still answers to its names.
    const std::string renamed = desired.front().right;
    engine.link_changed(nic(links[std::stoul(renamed.substr(2))].ifindex, "renamed"));
    expect_index_matches(engine, names);
    EXPECT_FALSE(engine.find_pair("renamed"));
    EXPECT_EQ(status(renamed).state, PairState::pending);

    engine.shutdown();
    expect_index_matches(engine, names);
    EXPECT_TRUE(engine.pairs().empty());
}

// A daemon that starts where an earlier one was killed (or stopped with
// --keep-dataplane): its dataplane holds what the earlier one left.
class RestartTest : public testing::Test {
  protected:
    RestartTest() {
        earlier_engine.set_links(links);
        earlier_engine.apply({pair("a", "b"), pair("c", "d"), pair("e", "f")});
        for (int frame = 0; frame < 3; ++frame) {
            earlier.forward(1, 100);  // a -> b
            earlier.forward(3, 100);  // c -> d
        }
    }

    // The next daemon's engine, on what `earlier` left.
    Engine& restart(bool same_program = true) {
        kernel.left_by(earlier, same_program);
        engine.emplace(kernel, EngineOptions{});
        engine->set_links(links);
        return *engine;
    }

    std::vector<LinkInfo> links{veth(1, "a"), veth(2, "b"), veth(3, "c"),
                                veth(4, "d"), veth(5, "e"), veth(6, "f")};
    FakeDataplane earlier;
    Engine earlier_engine{earlier, EngineOptions{}};
    FakeDataplane kernel;
    std::optional<Engine> engine;
};

TEST_F(RestartTest, UnchangedPairsGetNoWriteChangedOnesAreRewrittenAndGoneOnesRemovedLast) {
    Engine& next = restart();
    EXPECT_TRUE(kernel.journal.empty()) << "nothing is touched before the configuration is read";
    next.apply({pair("a", "b"), pair("c", "f")});
    // a<->b: nothing at all. c and f keep their programs; their entries are
    // rewritten. d and e are in no pair now: released after everything else.
    EXPECT_EQ(kernel.journal, (Journal{"connect 3->6", "connect 6->3", "disconnect 4", "detach 4",
                                       "disconnect 5", "detach 5"}));
    EXPECT_EQ(next.find_pair("a")->state, PairState::active);
    EXPECT_EQ(next.find_pair("c")->state, PairState::active);
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 2}, {2, 1}, {3, 6}, {6, 3}}));
    EXPECT_EQ(kernel.attached.size(), 4u);
    // Counters go on for the pair that did not change, and start at 0 for
    // the one that did.
    EXPECT_EQ(next.counters("a")->left_to_right, (Counters{3, 300}));
    EXPECT_EQ(next.counters("c")->left_to_right, (Counters{}));
    kernel.forward(1, 100);
    EXPECT_EQ(next.counters("a")->left_to_right, (Counters{4, 400}));
}

TEST_F(RestartTest, InterfacesRecreatedWhileNoDaemonRanAreReconnectedAndTheirOldEntriesRemoved) {
    earlier.device_destroyed(4);  // d deleted while no daemon ran, created again as ifindex 7
    links[3] = veth(7, "d");
    restart();
    engine->apply({pair("a", "b"), pair("c", "d"), pair("e", "f")});
    EXPECT_EQ(kernel.journal,
              (Journal{"connect 3->7", "connect 7->3", "attach 7 generic", "disconnect 4"}));
    EXPECT_EQ(kernel.redirects,
              (std::map<uint32_t, uint32_t>{{1, 2}, {2, 1}, {3, 7}, {7, 3}, {5, 6}, {6, 5}}));
    EXPECT_FALSE(kernel.counter_map.contains(4)) << "the vanished interface's counters are gone";
    EXPECT_EQ(engine->find_pair("c")->state, PairState::active);
    EXPECT_EQ(engine->counters("c")->left_to_right, (Counters{3, 300}))
        << "c's peer is the same interface by name: its counters go on";
}

TEST_F(RestartTest, AnUpgradeReplacesEachProgramAndKeepsTheEntries) {
    Engine& next = restart(/*same_program=*/false);
    next.apply({pair("a", "b"), pair("c", "d"), pair("e", "f")});
    EXPECT_EQ(kernel.journal,
              (Journal{"attach 1 generic", "attach 2 generic", "attach 3 generic",
                       "attach 4 generic", "attach 5 generic", "attach 6 generic"}));
    for (const auto& [ifindex, program] : kernel.attached) {
        EXPECT_EQ(program.program_id, FakeDataplane::our_program) << ifindex;
    }
    EXPECT_EQ(next.counters("a")->left_to_right, (Counters{3, 300}));
}

TEST_F(RestartTest, AnUpgradeWithNewMapsWritesEveryEntryBeforeItsProgram) {
    kernel.left_by(earlier, /*same_program=*/false);
    // Another layout: the new maps start empty; only the programs are left.
    kernel.redirects.clear();
    kernel.counter_map.clear();
    std::erase_if(kernel.inherited, [](InheritedPort& port) {
        port.peer.reset();
        return !port.attached;
    });
    engine.emplace(kernel, EngineOptions{});
    engine->set_links(links);
    engine->apply({pair("a", "b")});
    EXPECT_EQ(kernel.journal, (Journal{"connect 1->2", "connect 2->1", "attach 1 generic",
                                       "attach 2 generic", "detach earlier 3", "detach earlier 4",
                                       "detach earlier 5", "detach earlier 6"}));
}

TEST_F(RestartTest, AnInvalidConfigurationAtStartKeepsWhatTheEarlierDaemonLeft) {
    Engine& next = restart();
    EXPECT_THROW(next.apply({pair("a", "b"), pair("a", "c")}), std::invalid_argument);
    EXPECT_TRUE(kernel.journal.empty());
    EXPECT_EQ(kernel.redirects.size(), 6u) << "every pair keeps forwarding";
    next.apply({pair("a", "b")});
    EXPECT_EQ(kernel.redirects, (std::map<uint32_t, uint32_t>{{1, 2}, {2, 1}}));
}

TEST_F(RestartTest, AModeChangedWhileNoDaemonRanReattachesThatPairOnly) {
    Engine& next = restart();
    next.apply({pair("a", "b"), pair("c", "d", ModePolicy::native), pair("e", "f")});
    EXPECT_EQ(kernel.journal, (Journal{"attach 3 native", "attach 4 native"}));
    EXPECT_EQ(next.find_pair("c")->mode, AttachMode::native);
    EXPECT_EQ(next.counters("c")->left_to_right, (Counters{3, 300}));
}

}  // namespace
}  // namespace xconnect

namespace xconnect {
namespace {

// DropReason follows what the dataplane counts: drops from before the pair
// was up are no news; new ones are named with their target; a quiet spell
// clears it. The counters count them with the packets.
TEST_F(EngineTest, DropsOfTheKernelBecomeTheDropReasonAndTheCounters) {
    kernel.drop_map[7] = {{ENETDOWN, 4}};  // left before the pair came up
    engine.set_links({veth(7, "veth0"), LinkInfo{8, "vx0", "vxlan", OperState::up, 0, 1450}});
    engine.apply({pair("veth0", "vx0")});
    const auto start = DropSpell::Clock::now();
    EXPECT_FALSE(engine.review_drops(start));
    EXPECT_EQ(status("veth0").drop_reason, "");

    kernel.drop_map[7] = {{ENETDOWN, 4}, {EMSGSIZE, 3}};
    kernel.counter_map[7].dropped = 7;
    observer.events.clear();
    EXPECT_TRUE(engine.review_drops(start + std::chrono::seconds(1)));
    EXPECT_EQ(status("veth0").drop_reason, "left to right: 3 frames longer than vx0's MTU 1450");
    ASSERT_EQ(observer.events.size(), 1u);
    EXPECT_EQ(observer.events[0].fields, unsigned{field_drop_reason});
    EXPECT_EQ(engine.counters("veth0")->left_to_right.dropped, 7u);

    EXPECT_FALSE(engine.review_drops(start + std::chrono::seconds(1) + DropSpell::quiet_after));
    EXPECT_EQ(status("veth0").drop_reason, "");
}

}  // namespace
}  // namespace xconnect
