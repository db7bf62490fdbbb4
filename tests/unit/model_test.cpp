#include <gtest/gtest.h>

#include "daemon/options.hpp"
#include "engine/model.hpp"

namespace xconnect {
namespace {

TEST(InterfaceNameTest, AcceptsWhatLinuxAccepts) {
    for (const char* name : {"eth0", "veth-1", "x", "123456789012345", "tap_vm.1", "é", "yes", "~",
                             "-", "#", "日本", "\U0001F600"}) {
        EXPECT_FALSE(invalid_interface_name_reason(name)) << name;
    }
}

TEST(InterfaceNameTest, RefusesWhatLinuxRefuses) {
    for (const char* name :
         {"", "1234567890123456", ".", "..", "a/b", "a:b", "a b", "a\tb", "a\nb", "\x7f", "a\x01",
          "a\xff", "\xc3", "a\u0085", "\u00e0", "a\xa0", "\xef\xbf\xbe"}) {
        EXPECT_TRUE(invalid_interface_name_reason(name)) << name;
    }
}

TEST(InterfaceNameTest, SaysWhyQuotingTheNameBounded) {
    EXPECT_EQ(
        invalid_interface_name_reason(std::string(100000, 'x')),
        "interface name \"" + std::string(64, 'x') + "…\" (100000 bytes) is longer than 15 bytes");
    EXPECT_EQ(invalid_interface_name_reason(std::string("a\xff") + "b"),
              "interface name \"a\\xffb\" is not valid UTF-8");
    EXPECT_EQ(invalid_interface_name_reason("a\nb"),
              "interface name \"a\\x0ab\" contains '/', ':', whitespace or a control character");
    // Linux refuses byte 0xa0 (its isspace() is Latin-1's): "à" is C3 A0.
    EXPECT_EQ(invalid_interface_name_reason("\u00e0"),
              "interface name \"\u00e0\" contains byte 0xa0, which Linux counts as whitespace");
    EXPECT_EQ(invalid_interface_name_reason("."), "interface name \".\" is reserved");
}

TEST(ValidatePairsTest, NamesBothPairsOfAConflict) {
    const auto problems = validate_pairs({{"a", "b", {}}, {"c", "d", {}}, {"d", "b", {}}});
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].index, 2u);
    EXPECT_EQ(problems[0].message, "interface d is in two pairs: c<->d and d<->b");
    EXPECT_EQ(problems[1].message, "interface b is in two pairs: a<->b and d<->b");
    EXPECT_TRUE(validate_pairs({{"a", "a", {}}, {"b", "c", {}}}).empty());
}

TEST(OptionsTest, ParsesEveryOption) {
    const CommandLine defaults = parse_command_line({});
    EXPECT_EQ(defaults.options.config_file, "/etc/xconnect/xconnect.yaml");
    EXPECT_EQ(defaults.options.xdp_mode, ModePolicy::automatic);
    EXPECT_FALSE(defaults.options.no_bus);
    EXPECT_FALSE(defaults.options.count_ring_drops);

    const CommandLine given =
        parse_command_line({"--config", "/tmp/x.yaml", "--xdp-mode", "native", "--no-bus"});
    EXPECT_FALSE(given.usage_error);
    EXPECT_EQ(given.options.config_file, "/tmp/x.yaml");
    EXPECT_EQ(given.options.xdp_mode, ModePolicy::native);
    EXPECT_TRUE(given.options.no_bus);

    EXPECT_EQ(parse_command_line({"-conf", "/a/b.yaml"}).options.config_file, "/a/b.yaml")
        << "the original's -conf";
    EXPECT_EQ(parse_command_line({"--config=/a/../c.yaml"}).options.config_file, "/c.yaml");
    EXPECT_EQ(parse_command_line({"--xdp-mode=generic"}).options.xdp_mode, ModePolicy::generic);
    EXPECT_TRUE(parse_command_line({"--config", "rel.yaml"}).options.config_file.is_absolute());
    EXPECT_TRUE(parse_command_line({"--count-ring-drops"}).options.count_ring_drops);
}

TEST(OptionsTest, RefusesBadOptions) {
    EXPECT_TRUE(parse_command_line({"--xdp-mode", "fast"}).usage_error);
    EXPECT_TRUE(parse_command_line({"--config"}).usage_error);
    EXPECT_TRUE(parse_command_line({"--bogus"}).usage_error);
    EXPECT_TRUE(parse_command_line({"--help"}).print_and_exit);
    EXPECT_NE(parse_command_line({"--version"}).print_and_exit->find("xconnectd "),
              std::string::npos);
}

}  // namespace
}  // namespace xconnect
