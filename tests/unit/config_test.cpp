#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/quote.hpp"
#include "config/config_file.hpp"
#include "yaml_names.hpp"

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
    *out << quote(file.text);  // some are megabytes
}

class BadConfigTest : public testing::TestWithParam<BadFile> {};

// With XCONNECT_WRITE_CONFIG_SEEDS=DIR, each case up to 64 KiB is also
// written to DIR/refused-N.yaml: how tests/fuzz/config/ got its refusal seeds
// (re-run to refresh them after adding a case).
void write_seed(const std::string& text) {
    const char* directory = std::getenv("XCONNECT_WRITE_CONFIG_SEEDS");
    if (directory == nullptr || text.size() > 64 * 1024) {
        return;
    }
    const std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ofstream(std::filesystem::path(directory) /
                  ("refused-" + name.substr(name.rfind('/') + 1) + ".yaml"))
        << text;
}

TEST_P(BadConfigTest, IsRefusedWithFileLineAndReason) {
    const std::string message = error_for(GetParam().text);
    EXPECT_NE(message.find(GetParam().expected), std::string::npos)
        << "message: " << message << "\nexpected to contain: " << GetParam().expected;
    write_seed(GetParam().text);
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
        BadFile{"links:\n  eth0: [tap0]\n", "test.yaml:2: interface \"eth0\" must map to a peer"},
        BadFile{"links:\n  eth0:\n", "test.yaml:2: interface \"eth0\" has no peer"},
        BadFile{"links:\n  eth0: ~\n", "test.yaml:2: interface \"eth0\" has no peer"},
        BadFile{"links:\n  [a]: b\n", "test.yaml:2: an interface name must be a plain string"},
        BadFile{"links:\n  a: {peer: b, xdp-mode: fast}\n",
                "test.yaml:2: xdp-mode of \"a\" must be auto, native or generic, not \"fast\""},
        BadFile{"links:\n  a: {xdp-mode: native}\n", "test.yaml:2: interface \"a\" has no peer"},
        BadFile{"links:\n  a: {peer: b, speed: 1}\n", "test.yaml:2: unknown option \"speed\""},
        BadFile{"links:\n  a: {peer: [b]}\n", "test.yaml:2: peer of \"a\" must be a string"},
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
        BadFile{"links:\n  eth0: \"a\\tb\"\n", "test.yaml:2: interface name \"a\\x09b\" contains"},
        BadFile{"links:\n  eth0: \"a\\x01\"\n", "contains '/', ':', whitespace or a control"},
        // The same interface in two pairs: the original silently dropped one.
        BadFile{"links:\n  a: b\n  b: c\n",
                "test.yaml:3: interface b is in two pairs: a<->b and b<->c"},
        BadFile{"links:\n  a: b\n  c: a\n",
                "test.yaml:3: interface a is in two pairs: a<->b and c<->a"},
        BadFile{"links:\n  a: a\n  b: a\n",
                "test.yaml:3: interface a is in two pairs: a<->a and b<->a"},
        BadFile{"links:\n  a: b\n  a: c\n",
                "test.yaml:3: interface a is in two pairs: a<->b and a<->c"},
        // Names Linux accepts but D-Bus and YAML cannot carry, or the kernel's
        // isspace() refuses (0xa0), or that are control characters (C1).
        BadFile{"links:\n  eth0: \"a\xff\"\n", "is not valid UTF-8"},
        BadFile{"links:\n  eth0: \"\\xe0\"\n",
                "test.yaml:2: interface name \"\u00e0\" contains byte 0xa0"},
        BadFile{"links:\n  eth0: \"a\\x85\"\n",
                "test.yaml:2: interface name \"a\\u0085\" contains '/', ':', whitespace"},
        // Absurd size and nesting: what and where, before yaml-cpp recurses.
        BadFile{std::string(100000, '['), "test.yaml:1:101: nesting deeper than 100 levels"},
        BadFile{"links:\n  a: b\n  c: " + std::string(200, '{'),
                "test.yaml:3:106: nesting deeper than 100 levels"},
        BadFile{[] {
                    std::string text = "links:\n";
                    for (int i = 0; i < 600; ++i) {
                        text += "- ";
                    }
                    return text + "x\n";
                }(),
                "nesting deeper than 499 levels (yaml-cpp's limit)"},
        BadFile{std::string(max_config_bytes + 1, '#'),
                "test.yaml: 4194305 bytes, more than the 4 MiB a config file may have"},
        // Input is quoted bounded: 64 bytes, then the length.
        BadFile{"links:\n  a: " + std::string(100000, 'x') + "\n",
                "test.yaml:2: interface name \"" + std::string(64, 'x') +
                    "…\" (100000 bytes) is longer than 15 bytes"},
        BadFile{"links:\n  a: {peer: b, xdp-mode: " + std::string(100000, 'y') + "}\n",
                "not \"" + std::string(64, 'y') + "…\" (100000 bytes)"}));

// Brackets inside names, quotes and comments are not nesting.
TEST(ConfigTest, BracketsInNamesAreNotNesting) {
    const std::string brackets(300, '[');
    EXPECT_NE(error_for("links:\n  a" + brackets + ": b\n").find("is longer than 15 bytes"),
              std::string::npos);
    EXPECT_NE(error_for("links: {\"" + brackets + "\": b}\n").find("is longer than 15 bytes"),
              std::string::npos);
    EXPECT_NE(error_for("links: {'" + brackets + "': b}\n").find("is longer than 15 bytes"),
              std::string::npos);
    EXPECT_EQ(parse("# " + brackets + "\nlinks: {a: b} # " + brackets + "\n"),
              std::vector{pair("a", "b")});
    EXPECT_EQ(parse("links: {\"a\\\"[\": b}\n"), std::vector{pair("a\"[", "b")});
    // As deep as allowed parses to the YAML error, not to the nesting limit.
    EXPECT_NE(error_for("links: " + std::string(max_config_nesting, '[')).find("not valid YAML"),
              std::string::npos);
}

TEST(ConfigTest, MessagesAreBoundedValidUtf8) {
    // Random bytes, the same every run.
    uint32_t state = 12345;
    for (int file = 0; file < 200; ++file) {
        std::string text(1 + file * 50, '\0');
        for (char& c : text) {
            state = state * 1103515245 + 12345;
            c = static_cast<char>(state >> 16);
        }
        const std::string message = error_for(text);
        ASSERT_FALSE(message.empty());
        EXPECT_TRUE(is_valid_utf8(message)) << testing::PrintToString(message);
        EXPECT_EQ(message.find('\0'), std::string::npos);
        EXPECT_LT(message.size(), 600u) << message;
    }
    // A name with bytes that are not UTF-8 is quoted escaped.
    EXPECT_NE(error_for("links:\n  \xff\xfe: b\n").find("\"\\xff\\xfe\""), std::string::npos)
        << error_for("links:\n  \xff\xfe: b\n");
}

TEST(ConfigTest, RenderedFileParsesBack) {
    const std::vector<PairSpec> pairs{pair("eth0", "tap0"), pair("x", "x"),
                                      pair("-odd", "#name", ModePolicy::generic),
                                      pair("1", "yes", ModePolicy::native)};
    EXPECT_EQ(parse(render_config(pairs)), pairs);
    EXPECT_TRUE(parse(render_config({})).empty());
    EXPECT_EQ(render_config({pair("eth0", "tap0")}), "links:\n  eth0: tap0\n");
}

TEST(ConfigTest, OrdinaryNamesStayPlainOthersAreQuoted) {
    EXPECT_EQ(
        render_config({pair("xconnect-1", "eth0"), pair("veth0.100", "tap_1", ModePolicy::native)}),
        "links:\n  xconnect-1: eth0\n  veth0.100: {peer: tap_1, xdp-mode: native}\n");
    EXPECT_EQ(render_config({pair("yes", "07"), pair("~", "a#b", ModePolicy::generic)}),
              "links:\n  \"yes\": \"07\"\n  \"~\": {peer: \"a#b\", xdp-mode: generic}\n");
}

// Every name YAML 1.1 or 1.2 could misread comes back from yaml-cpp as written
// (test/yaml_interop_test.cpp reads the same file with PyYAML).
TEST(ConfigTest, TrickyNamesRoundTrip) {
    const std::vector<PairSpec> pairs = tricky_name_pairs();
    ASSERT_GT(pairs.size(), 100u);
    EXPECT_EQ(parse(render_config(pairs)), pairs);
}

// A fresh directory under /tmp, removed with everything in it at the end.
class ConfigFileTest : public testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "xconnect-config-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        directory_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    // The message of the InvalidConfig that load_config(file) throws, or "".
    static std::string load_error(const std::filesystem::path& file) {
        try {
            load_config(file);
        } catch (const InvalidConfig& error) {
            return error.what();
        }
        return "";
    }

    std::filesystem::path directory_;
};

TEST_F(ConfigFileTest, LoadConfigTellsMissingFromInvalid) {
    const auto file = directory_ / "x.yaml";
    EXPECT_THROW(load_config(file), ConfigMissing);
    std::ofstream(file) << "links: {a: b}\n";
    EXPECT_EQ(load_config(file), std::vector{pair("a", "b")});
    std::ofstream(file) << "links: [\n";
    EXPECT_EQ(load_error(file).rfind(file.string() + ":", 0), 0u) << load_error(file);
}

TEST_F(ConfigFileTest, RefusesWhatIsNotARegularFile) {
    const auto file = directory_ / "x.yaml";
    std::filesystem::create_directory(file);
    EXPECT_EQ(load_error(file), file.string() + ": is a directory, not a config file");
    std::filesystem::remove(file);

    ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);  // nobody writes: opening must not wait
    EXPECT_EQ(load_error(file),
              file.string() + ": not a regular file (a FIFO, socket or device), not a config file");
    std::filesystem::remove(file);

    std::filesystem::create_symlink("/dev/null", file);
    EXPECT_EQ(load_error(file),
              file.string() + ": not a regular file (a FIFO, socket or device), not a config file");
    std::filesystem::remove(file);

    std::filesystem::create_symlink(directory_ / "gone.yaml", file);
    try {
        load_config(file);
        ADD_FAILURE() << "no error for a dangling symbolic link";
    } catch (const ConfigMissing& error) {
        EXPECT_EQ(std::string(error.what()),
                  "config file " + file.string() + " is a symbolic link to \"" +
                      (directory_ / "gone.yaml").string() + "\", which does not exist");
    }
    std::filesystem::remove(file);

    // A symbolic link to a good file is fine: /etc is full of them.
    std::ofstream(directory_ / "real.yaml") << "links: {a: b}\n";
    std::filesystem::create_symlink(directory_ / "real.yaml", file);
    EXPECT_EQ(load_config(file), std::vector{pair("a", "b")});
}

TEST_F(ConfigFileTest, RefusesABigFileBeforeReadingIt) {
    const auto file = directory_ / "x.yaml";
    std::ofstream(file) << "links: {a: b}\n";
    std::filesystem::resize_file(file, 10 * 1024 * 1024);  // sparse: costs no disk
    EXPECT_EQ(load_error(file),
              file.string() + ": 10485760 bytes, more than the 4 MiB a config file may have");
    std::filesystem::resize_file(file, max_config_bytes);  // the limit itself is allowed
    EXPECT_NE(load_error(file).find("not valid YAML"), std::string::npos) << load_error(file);
}

TEST_F(ConfigFileTest, TenThousandPairsFit) {
    std::vector<PairSpec> pairs;
    for (int i = 0; i < 10000; ++i) {
        pairs.push_back(pair("xconnect-l" + std::to_string(i), "xconnect-r" + std::to_string(i),
                             ModePolicy::generic));
    }
    const auto file = directory_ / "x.yaml";
    std::ofstream(file) << render_config(pairs);
    EXPECT_LT(std::filesystem::file_size(file), max_config_bytes / 4);
    EXPECT_EQ(load_config(file), pairs);
}

}  // namespace
}  // namespace xconnect
