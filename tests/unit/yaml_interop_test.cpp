// What the daemon writes reads back as the same strings in a YAML 1.1 parser
// too: PyYAML's safe_load, whose resolver is the one Go's yaml.v2 (which the
// original xdp-xconnect used) follows.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "config/config_file.hpp"
#include "yaml_names.hpp"

namespace xconnect {
namespace {

// Prints "LEFT RIGHT" per pair, each name as the hex of its UTF-8, or
// "NOT A STRING: repr" for anything the resolver turned into something else.
// Given with -c, so nothing is run from the source tree.
constexpr const char* read_back_script = R"(
import sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    document = yaml.safe_load(f)
def show(name):
    if not isinstance(name, str):
        return "NOT A STRING: " + repr(name)
    return name.encode("utf-8").hex()
for left, right in document["links"].items():
    if isinstance(right, dict):
        right = right["peer"]
    print(show(left), show(right))
)";

struct TempDirectory {
    std::filesystem::path path;
    ~TempDirectory() { std::filesystem::remove_all(path); }
};

std::string hex(const std::string& text) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (char c : text) {
        out += digits[static_cast<unsigned char>(c) >> 4];
        out += digits[static_cast<unsigned char>(c) & 15];
    }
    return out;
}

TEST(YamlInteropTest, PyYamlReadsEveryNameBackAsTheSameString) {
    const std::vector<PairSpec> pairs = tricky_name_pairs();
    std::string pattern =
        (std::filesystem::temp_directory_path() / "xconnect-yaml-interop-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    const TempDirectory directory{pattern};
    const auto file = directory.path / "xconnect.yaml";
    std::ofstream(file) << render_config(pairs);

    std::string expected;
    for (const PairSpec& pair : pairs) {
        expected += hex(pair.left) + " " + hex(pair.right) + "\n";
    }
    const std::string command =
        "/usr/bin/python3 -c '" + std::string(read_back_script) + "' " + file.string() + " 2>&1";
    std::string output;
    {
        std::unique_ptr<FILE, int (*)(FILE*)> python(popen(command.c_str(), "r"), pclose);
        ASSERT_TRUE(python) << command;
        char buffer[4096];
        size_t got = 0;
        while ((got = fread(buffer, 1, sizeof buffer, python.get())) > 0) {
            output.append(buffer, got);
        }
        const int status = pclose(python.release());
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
    }
    // Line by line, so a failure names the pair.
    std::istringstream got_lines(output), expected_lines(expected);
    std::string got_line, expected_line;
    size_t index = 0;
    while (std::getline(expected_lines, expected_line)) {
        ASSERT_TRUE(std::getline(got_lines, got_line)) << "PyYAML stopped at " << index << ":\n"
                                                       << output;
        EXPECT_EQ(got_line, expected_line) << "pair " << pairs[index].label();
        ++index;
    }
    EXPECT_FALSE(std::getline(got_lines, got_line)) << "more pairs than written: " << got_line;
}

}  // namespace
}  // namespace xconnect
