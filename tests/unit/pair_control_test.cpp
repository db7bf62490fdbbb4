#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config_file.hpp"
#include "config/config_store.hpp"
#include "contract/object_path.hpp"
#include "control/pair_control.hpp"
#include "fake_dataplane.hpp"

namespace xconnect {
namespace {

namespace fs = std::filesystem;

class PairControlTest : public testing::Test {
  protected:
    PairControlTest()
        : directory_(fs::temp_directory_path() /
                     ("xconnect-control-test-" + std::to_string(getpid()))),
          store_(directory_ / "xconnect.yaml") {
        fs::create_directories(directory_);
    }
    ~PairControlTest() override { fs::remove_all(directory_); }

    std::vector<PairSpec> on_disk() { return load_config(store_.file()); }
    ErrorKind error_of(auto&& call) {
        try {
            call();
        } catch (const ContractError& error) {
            return error.kind();
        }
        ADD_FAILURE() << "no ContractError";
        return ErrorKind::failed;
    }

    fs::path directory_;
    ConfigStore store_;
    test::FakeDataplane kernel_;
    Engine engine_{kernel_, EngineOptions{}};
    PairControl control_{engine_, store_};
};

TEST_F(PairControlTest, AddIsPersistedThenAppliedAndIdempotent) {
    const PairSpec added = control_.add_pair("veth0", "veth1");
    EXPECT_EQ(added, (PairSpec{"veth0", "veth1", {}}));
    EXPECT_EQ(on_disk(), std::vector{added});
    EXPECT_EQ(engine_.desired(), std::vector{added});
    EXPECT_TRUE(store_.holds_own_write());
    EXPECT_EQ(control_.add_pair("veth1", "veth0"), added) << "either order, same pair";
    EXPECT_EQ(engine_.desired().size(), 1u);
    EXPECT_EQ(control_.add_pair("lo2", "lo2").right, "lo2") << "self-pair";
}

TEST_F(PairControlTest, RefusesBadNamesAndConflicts) {
    control_.add_pair("a", "b");
    EXPECT_EQ(error_of([&] { control_.validate(PairChange::add("a/b", "c")); }),
              ErrorKind::invalid_name);
    EXPECT_EQ(error_of([&] { control_.add_pair("c", std::string(16, 'x')); }),
              ErrorKind::invalid_name);
    EXPECT_EQ(error_of([&] { control_.add_pair("b", "c"); }), ErrorKind::in_use);
    EXPECT_EQ(error_of([&] { control_.add_pair("a", "a"); }), ErrorKind::in_use);
    EXPECT_EQ(error_of([&] { control_.remove_pair("c"); }), ErrorKind::no_such_pair);
    EXPECT_EQ(engine_.desired(), (std::vector{PairSpec{"a", "b", {}}}));
}

TEST_F(PairControlTest, RemoveByEitherSide) {
    control_.add_pair("a", "b");
    control_.add_pair("c", "d");
    EXPECT_EQ(control_.remove_pair("b"), (PairSpec{"a", "b", {}}));
    EXPECT_EQ(on_disk(), (std::vector{PairSpec{"c", "d", {}}}));
    control_.remove_pair("c");
    EXPECT_TRUE(on_disk().empty()) << "an empty file is still a valid one";
}

TEST_F(PairControlTest, ReloadOfABadOrMissingFileChangesNothing) {
    control_.add_pair("a", "b");
    std::ofstream(store_.file()) << "links: [\n";
    EXPECT_FALSE(store_.holds_own_write()) << "an edit is not our write";
    EXPECT_EQ(error_of([&] { control_.reload(ReloadCause::dbus); }), ErrorKind::invalid_config);
    fs::remove(store_.file());
    EXPECT_EQ(error_of([&] { control_.reload(ReloadCause::dbus); }), ErrorKind::invalid_config);
    EXPECT_EQ(engine_.desired(), (std::vector{PairSpec{"a", "b", {}}}));
    std::ofstream(store_.file()) << "links:\n  x: y\n";
    control_.reload(ReloadCause::dbus);
    EXPECT_EQ(engine_.desired(), (std::vector{PairSpec{"x", "y", {}}}));
}

TEST_F(PairControlTest, AChangeThatCannotBeSavedIsNotMade) {
    ConfigStore unwritable("/proc/xconnect-cannot-write-here/xconnect.yaml");
    PairControl control(engine_, unwritable);
    EXPECT_EQ(error_of([&] { control.add_pair("a", "b"); }), ErrorKind::failed);
    EXPECT_TRUE(engine_.desired().empty());
}

TEST(ObjectPathTest, EscapingIsOneToOneAndValid) {
    EXPECT_EQ(pair_path("veth0"), "/org/xconnect/pair/veth0");
    EXPECT_EQ(pair_path("xconnect-1"), "/org/xconnect/pair/xconnect_2d1");
    EXPECT_EQ(escape_path_element("a_2d"), "a_5f2d") << "'_' is escaped too";
    EXPECT_NE(escape_path_element("a-"), escape_path_element("a_2d"));
    EXPECT_EQ(escape_path_element(""), "_");
    EXPECT_EQ(escape_path_element("é"), "_c3_a9");
    for (char c : escape_path_element("we.ird:na me/\x01")) {
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_') << c;
    }
}

struct RecordingObserver final : ControlObserver {
    void status_changed(const StatusSummary& summary) override { reports.push_back(summary); }
    std::vector<StatusSummary> reports;
};

TEST(StatusSummaryTest, CountsEveryStateAndSaysSo) {
    std::vector<PairStatus> pairs(4);
    pairs[0].state = PairState::active;
    pairs[1].state = PairState::pending;
    pairs[2].state = PairState::failed;
    pairs[3].state = PairState::pending;
    const StatusSummary summary = StatusSummary::of(pairs);
    EXPECT_EQ(summary, (StatusSummary{.pairs = 4, .active = 1, .pending = 2, .failed = 1}));
    EXPECT_EQ(summary.text(), "4 pairs: 1 active, 2 pending, 1 failed");
    EXPECT_EQ(StatusSummary::of({pairs.front()}).text(), "1 pair: 1 active, 0 pending, 0 failed");
}

TEST_F(PairControlTest, EveryAppliedChangeIsReportedOnceAndRefusalsAreNot) {
    RecordingObserver observer;
    control_.set_observer(&observer);
    control_.add_pair("a", "b");
    control_.add_pair("b", "a");  // already there: nothing applied
    EXPECT_EQ(error_of([&] { control_.add_pair("a", "c"); }), ErrorKind::in_use);
    ASSERT_EQ(observer.reports.size(), 1u);
    EXPECT_EQ(observer.reports.back(), control_.summary());
    EXPECT_EQ(observer.reports.back().pairs, 1u);

    std::ofstream(store_.file()) << "links:\n  a: b\n  c: d\n";
    control_.reload(ReloadCause::sighup);
    ASSERT_EQ(observer.reports.size(), 2u);
    EXPECT_EQ(observer.reports.back().pairs, 2u);

    std::ofstream(store_.file()) << "links: [\n";
    EXPECT_FALSE(control_.try_reload(ReloadCause::file_changed));
    control_.remove_pair("c");
    ASSERT_EQ(observer.reports.size(), 3u);
    EXPECT_EQ(observer.reports.back().pairs, 1u);
    control_.set_observer(nullptr);
}

TEST_F(PairControlTest, TheFileWatcherIgnoresOurOwnWriteAndReloadsAnEdit) {
    RecordingObserver observer;
    control_.set_observer(&observer);
    control_.add_pair("a", "b");
    control_.config_file_changed();
    EXPECT_EQ(observer.reports.size(), 1u) << "our own write is not reloaded";
    std::ofstream(store_.file()) << "links:\n  x: y\n";
    control_.config_file_changed();
    EXPECT_EQ(observer.reports.size(), 2u);
    EXPECT_EQ(engine_.desired(), (std::vector{PairSpec{"x", "y", {}}}));
    control_.set_observer(nullptr);
}

TEST_F(PairControlTest, TheSameValidationRunsBeforeAskingAndWhenApplying) {
    const PairChange change = PairChange::add("a", "b");
    EXPECT_EQ(control_.validate(change), std::nullopt);
    control_.add_pair("b", "c");  // while polkit thinks, someone takes b
    EXPECT_EQ(error_of([&] { control_.validate(change); }), ErrorKind::in_use);
    EXPECT_EQ(error_of([&] { control_.apply(change); }), ErrorKind::in_use);
    EXPECT_EQ(error_of([&] { control_.validate(PairChange::remove("a/b")); }),
              ErrorKind::invalid_name);
    EXPECT_EQ(error_of([&] { control_.apply(PairChange::remove("a/b")); }),
              ErrorKind::invalid_name);
    EXPECT_EQ(control_.validate(PairChange::remove("c")), (PairSpec{"b", "c", {}}));
}

}  // namespace
}  // namespace xconnect
