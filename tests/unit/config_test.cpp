#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config_file.hpp"

namespace xconnect {
namespace {

std::vector<PairSpec> parse(const std::string& text) {
    return parse_config(text, "test.yaml");
}

// The error message for `text`, or "" if it parsed.
std::string error_for(const std::string& text) {
    try {
        parse(text);
    } catch (const InvalidConfig& error) {
        return error.what();
    }
    return "";
}

PairSpec pair(std::string left, std::string right, std::optional<ModePolicy> mode = {}) {
    return PairSpec{std::move(left), std::move(right), mode};
}

TEST(ConfigTest, ReadsTheOriginalFormat) {
    EXPECT_EQ(parse("links:\n  eth0: tap0\n  veth2: veth3\n"),
              (std::vector{pair("eth0", "tap0"), pair("veth2", "veth3")}));
    // The original demo's files: flow style and a self-pair.
    EXPECT_EQ(parse("links: {xconnect-1: xconnect-1}"),
              std::vector{pair("xconnect-1", "xconnect-1")});
    EXPECT_EQ(parse("---\nlinks:\n  xconnect-1: xconnect-2\n"),
              std::vector{pair("xconnect-1", "xconnect-2")});
}

TEST(ConfigTest, InterfacesThatDoNotExistAreFine) {
    // The original's testdata/bad.yaml was "bad" only because xconnect-asd did not exist.
    EXPECT_EQ(parse("links:\n  xconnect-1: xconnect-asd\n"),
              std::vector{pair("xconnect-1", "xconnect-asd")});
}

TEST(ConfigTest, PerPairModeKeepsTheFormat) {
    EXPECT_EQ(parse("links:\n  eth0: tap0\n  eth1: {peer: eth2, xdp-mode: native}\n"
                    "  eth3:\n    peer: eth4\n    xdp-mode: generic\n"),
              (std::vector{pair("eth0", "tap0"), pair("eth1", "eth2", ModePolicy::native),
                           pair("eth3", "eth4", ModePolicy::generic)}));
}

TEST(ConfigTest, ExplicitlyEmptyLinksMeansNoPairs) {
    EXPECT_TRUE(parse("links: {}\n").empty());
}

TEST(ConfigTest, ScalarsAreNames) {
    // Linux allows these names; YAML must not turn them into numbers or booleans.
    EXPECT_EQ(parse("links:\n  1: true\n"), std::vector{pair("1", "true")});
}

struct BadFile {
    std::string text;
    std::string expected;  // a part of the message, with file and line
};

void PrintTo(const BadFile& file, std::ostream* out) {
    *out << testing::PrintToString(file.text);
}

class BadConfigTest : public testing::TestWithParam<BadFile> {};

TEST_P(BadConfigTest, IsRefusedWithFileLineAndReason) {
    const std::string message = error_for(GetParam().text);
    EXPECT_NE(message.find(GetParam().expected), std::string::npos)
        << "message: " << message << "\nexpected to contain: " << GetParam().expected;
}

INSTANTIATE_TEST_SUITE_P(
    Everything, BadConfigTest,
    testing::Values(
        BadFile{"", "test.yaml: the file is empty"},
        BadFile{"# only a comment\n", "test.yaml: the file is empty"},
        BadFile{"links:\n", "test.yaml:1: \"links\" is empty"},
        BadFile{"other: 1\n", "test.yaml:1: unknown key \"other\""},
        BadFile{"links: {a: b}\nlink: {c: d}\n", "test.yaml:2: unknown key \"link\""},
        BadFile{"links: {a: b}\nlinks: {c: d}\n", "test.yaml:2: \"links\" is given twice"},
        BadFile{"- a\n- b\n", "test.yaml:1: expected a map with a \"links\" key, not a list"},
        BadFile{"links: [a, b]\n", "test.yaml:1: \"links\" must be a map"},
        BadFile{"links: eth0\n", "test.yaml:1: \"links\" must be a map"},
        BadFile{"links:\n  eth0: [tap0]\n", "test.yaml:2: interface eth0 must map to a peer"},
        BadFile{"links:\n  eth0:\n", "test.yaml:2: interface \"eth0\" has no peer"},
        BadFile{"links:\n  eth0: ~\n", "test.yaml:2: interface \"eth0\" has no peer"},
        BadFile{"links:\n  [a]: b\n", "test.yaml:2: an interface name must be a plain string"},
        BadFile{"links:\n  a: {peer: b, xdp-mode: fast}\n",
                "test.yaml:2: xdp-mode of a must be auto, native or generic, not \"fast\""},
        BadFile{"links:\n  a: {xdp-mode: native}\n", "test.yaml:2: interface a has no peer"},
        BadFile{"links:\n  a: {peer: b, speed: 1}\n", "test.yaml:2: unknown option \"speed\""},
        BadFile{"links:\n  a: {peer: [b]}\n", "test.yaml:2: peer of a must be a string"},
        BadFile{"links:\n  a: b\n  c: [\n", "test.yaml:4: not valid YAML"},
        BadFile{"links: {a: b\n", "not valid YAML"}, BadFile{"\tlinks: {}\n", "not valid YAML"},
        // Names Linux would refuse.
        BadFile{"links:\n  eth0: \"\"\n", "test.yaml:2: interface name is empty"},
        BadFile{"links:\n  abcdefghijklmnop: eth0\n",
                "test.yaml:2: interface name "
                "\"abcdefghijklmnop\" is longer than 15"},
        BadFile{"links:\n  eth0: .\n", "test.yaml:2: interface name \".\" is reserved"},
        BadFile{"links:\n  eth0: ..\n", "test.yaml:2: interface name \"..\" is reserved"},
        BadFile{"links:\n  eth0: a/b\n", "test.yaml:2: interface name \"a/b\" contains"},
        BadFile{"links:\n  eth0: a:b\n", "test.yaml:2: interface name \"a:b\" contains"},
        BadFile{"links:\n  eth0: \"a b\"\n", "test.yaml:2: interface name \"a b\" contains"},
        BadFile{"links:\n  eth0: \"a\\tb\"\n", "test.yaml:2: interface name \"a\tb\" contains"},
        BadFile{"links:\n  eth0: \"a\\x01\"\n", "contains '/', ':', whitespace or a control"},
        // The same interface in two pairs: the original silently dropped one.
        BadFile{"links:\n  a: b\n  b: c\n",
                "test.yaml:3: interface b is in two pairs: a<->b and b<->c"},
        BadFile{"links:\n  a: b\n  c: a\n",
                "test.yaml:3: interface a is in two pairs: a<->b and c<->a"},
        BadFile{"links:\n  a: a\n  b: a\n",
                "test.yaml:3: interface a is in two pairs: a<->a and b<->a"},
        BadFile{"links:\n  a: b\n  a: c\n",
                "test.yaml:3: interface a is in two pairs: a<->b and a<->c"}));

TEST(ConfigTest, RenderedFileParsesBack) {
    const std::vector<PairSpec> pairs{pair("eth0", "tap0"), pair("x", "x"),
                                      pair("-odd", "#name", ModePolicy::generic),
                                      pair("1", "yes", ModePolicy::native)};
    EXPECT_EQ(parse(render_config(pairs)), pairs);
    EXPECT_TRUE(parse(render_config({})).empty());
    EXPECT_EQ(render_config({pair("eth0", "tap0")}), "links:\n  eth0: tap0\n");
}

TEST(ConfigTest, LoadConfigTellsMissingFromInvalid) {
    const auto directory = std::filesystem::temp_directory_path() /
                           ("xconnect-config-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(directory);
    const auto file = directory / "x.yaml";
    EXPECT_THROW(load_config(file), ConfigMissing);
    std::ofstream(file) << "links: {a: b}\n";
    EXPECT_EQ(load_config(file), std::vector{pair("a", "b")});
    std::ofstream(file) << "links: [\n";
    try {
        load_config(file);
        ADD_FAILURE() << "no error for a bad file";
    } catch (const InvalidConfig& error) {
        EXPECT_EQ(std::string(error.what()).rfind(file.string() + ":", 0), 0u) << error.what();
    }
    std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace xconnect
