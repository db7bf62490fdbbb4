#include <gtest/gtest.h>

#include "engine/link_table.hpp"

namespace xconnect {
namespace {

LinkInfo link(uint32_t ifindex, std::string name, OperState oper = OperState::up) {
    return LinkInfo{ifindex, std::move(name), "veth", oper};
}

// The name and the ifindex find the same link, or neither finds one.
void expect_only(const LinkTable& table, const LinkInfo& expected) {
    const LinkInfo* by_name = table.find(expected.name);
    ASSERT_NE(by_name, nullptr) << expected.name;
    EXPECT_EQ(*by_name, expected);
    EXPECT_EQ(table.find(expected.ifindex), by_name);
}

TEST(LinkTableTest, FindsALinkByNameAndByIfindex) {
    LinkTable table;
    table.replace_all({link(1, "a"), link(2, "b")});
    expect_only(table, link(1, "a"));
    expect_only(table, link(2, "b"));
    EXPECT_EQ(table.find("c"), nullptr);
    EXPECT_EQ(table.find(3u), nullptr);
    EXPECT_EQ(table.size(), 2u);
}

TEST(LinkTableTest, SnapshotReplacesEverything) {
    LinkTable table;
    table.replace_all({link(1, "a"), link(2, "b")});
    table.replace_all({link(3, "c")});
    EXPECT_EQ(table.find("a"), nullptr);
    EXPECT_EQ(table.find(2u), nullptr);
    expect_only(table, link(3, "c"));
    EXPECT_EQ(table.size(), 1u);
}

TEST(LinkTableTest, UpdateSaysWhetherAndFromWhichNameALinkChanged) {
    LinkTable table;
    EXPECT_EQ(table.update(link(1, "a")), std::string()) << "a new link had no name before";
    EXPECT_EQ(table.update(link(1, "a")), std::nullopt) << "the same news twice changes nothing";
    EXPECT_EQ(table.update(link(1, "a", OperState::down)), "a");
    expect_only(table, link(1, "a", OperState::down));
}

TEST(LinkTableTest, RenameFreesTheOldName) {
    LinkTable table;
    table.replace_all({link(1, "a")});
    EXPECT_EQ(table.update(link(1, "renamed")), "a");
    EXPECT_EQ(table.find("a"), nullptr);
    expect_only(table, link(1, "renamed"));
    EXPECT_EQ(table.update(link(1, "a")), "renamed");
    EXPECT_EQ(table.find("renamed"), nullptr);
    expect_only(table, link(1, "a"));
}

TEST(LinkTableTest, RecreatedLinkTakesTheNameBeforeTheOldOneIsRemoved) {
    LinkTable table;
    table.replace_all({link(1, "a")});
    EXPECT_EQ(table.update(link(9, "a")), std::string());
    expect_only(table, link(9, "a"));
    EXPECT_EQ(table.find(1u), nullptr) << "the old link is gone with its name";
    EXPECT_EQ(table.remove(1), std::nullopt) << "its late removal changes nothing";
    expect_only(table, link(9, "a"));
}

TEST(LinkTableTest, RemoveForgetsNameAndIfindex) {
    LinkTable table;
    table.replace_all({link(1, "a"), link(2, "b")});
    EXPECT_EQ(table.remove(1), "a");
    EXPECT_EQ(table.find("a"), nullptr);
    EXPECT_EQ(table.find(1u), nullptr);
    EXPECT_EQ(table.remove(1), std::nullopt);
    expect_only(table, link(2, "b"));
}

TEST(LinkTableTest, OurProgramIsNotedOnTheLink) {
    LinkTable table;
    table.replace_all({link(1, "a")});
    table.set_xdp_program(1, 77);
    EXPECT_EQ(table.find("a")->xdp_program_id, 77u);
    table.set_xdp_program(5, 77);  // unknown ifindex: nothing to note
    EXPECT_EQ(table.find(5u), nullptr);
    LinkInfo with_program = link(1, "a");
    with_program.xdp_program_id = 77;
    EXPECT_EQ(table.update(with_program), std::nullopt) << "the kernel's news agrees with ours";
}

}  // namespace
}  // namespace xconnect
