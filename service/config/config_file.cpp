#include "config_file.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/error.hpp"

namespace xconnect {

namespace {

constexpr std::string_view links_key = "links";
constexpr std::string_view peer_key = "peer";
constexpr std::string_view mode_key = "xdp-mode";

[[noreturn]] void fail(const std::string& origin, const YAML::Mark& mark,
                       const std::string& reason) {
    // yaml-cpp counts lines from 0; editors from 1.
    const std::string where = mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : "";
    throw InvalidConfig(origin + where + ": " + reason);
}

std::string describe_type(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Scalar:
            return "\"" + node.Scalar() + "\"";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Undefined:
            break;
    }
    return "an undefined value";
}

PairSpec parse_pair(const std::string& origin, const YAML::Node& key, const YAML::Node& value) {
    if (!key.IsScalar()) {
        fail(origin, key.Mark(),
             "an interface name must be a plain string, not " + describe_type(key));
    }
    PairSpec pair{.left = key.Scalar(), .right = {}, .mode = std::nullopt};
    if (value.IsScalar()) {
        pair.right = value.Scalar();
        return pair;
    }
    if (!value.IsMap()) {
        fail(origin, key.Mark(),
             "interface " + pair.left + " must map to a peer interface name or to {" +
                 std::string(peer_key) + ": NAME, " + std::string(mode_key) +
                 ": auto|native|generic}, not " + describe_type(value));
    }
    bool has_peer = false;
    for (const auto& option : value) {
        const std::string name = option.first.IsScalar() ? option.first.Scalar() : "";
        if (name == peer_key && option.second.IsScalar()) {
            pair.right = option.second.Scalar();
            has_peer = true;
        } else if (name == mode_key && option.second.IsScalar()) {
            pair.mode = parse_mode_policy(option.second.Scalar());
            if (!pair.mode) {
                fail(origin, option.second.Mark(),
                     std::string(mode_key) + " of " + pair.left +
                         " must be auto, native or generic, not \"" + option.second.Scalar() +
                         "\"");
            }
        } else if (name == peer_key || name == mode_key) {
            fail(origin, option.second.Mark(),
                 name + " of " + pair.left + " must be a string, not " +
                     describe_type(option.second));
        } else {
            fail(origin, option.first.Mark(),
                 "unknown option " + describe_type(option.first) + " for " + pair.left +
                     " (expected " + std::string(peer_key) + " and " + std::string(mode_key) + ")");
        }
    }
    if (!has_peer) {
        fail(origin, key.Mark(), "interface " + pair.left + " has no " + std::string(peer_key));
    }
    return pair;
}

}  // namespace

std::vector<PairSpec> parse_config(std::string_view text, const std::string& origin) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& error) {
        fail(origin, error.mark, "not valid YAML: " + error.msg);
    }
    if (root.IsNull()) {
        throw InvalidConfig(origin + ": the file is empty; expected a map with a \"" +
                            std::string(links_key) + "\" key");
    }
    if (!root.IsMap()) {
        fail(origin, root.Mark(),
             "expected a map with a \"" + std::string(links_key) + "\" key, not " +
                 describe_type(root));
    }
    std::optional<YAML::Node> links_entry;
    YAML::Mark links_mark;
    for (const auto& entry : root) {
        if (!entry.first.IsScalar() || entry.first.Scalar() != links_key) {
            fail(origin, entry.first.Mark(),
                 "unknown key " + describe_type(entry.first) + " (the only key is \"" +
                     std::string(links_key) + "\")");
        }
        if (links_entry) {
            fail(origin, entry.first.Mark(), "\"" + std::string(links_key) + "\" is given twice");
        }
        links_entry.emplace(entry.second);
        links_mark = entry.first.Mark();  // an empty value has no line of its own
    }
    if (!links_entry) {
        throw InvalidConfig(origin + ": no \"" + std::string(links_key) + "\" key");
    }
    const YAML::Node& links = *links_entry;
    if (links.IsNull()) {
        fail(origin, links_mark,
             "\"" + std::string(links_key) +
                 "\" is empty (write \"links: {}\" to run with no pairs on purpose)");
    }
    if (!links.IsMap()) {
        fail(origin, links.Mark(),
             "\"" + std::string(links_key) + "\" must be a map of interface: peer, not " +
                 describe_type(links));
    }

    std::vector<PairSpec> pairs;
    std::vector<YAML::Mark> marks;
    for (const auto& entry : links) {
        if (entry.second.IsNull()) {
            fail(origin, entry.first.Mark(),
                 "interface " + describe_type(entry.first) + " has no peer");
        }
        pairs.push_back(parse_pair(origin, entry.first, entry.second));
        marks.push_back(entry.first.Mark());
    }
    if (auto problems = validate_pairs(pairs); !problems.empty()) {
        fail(origin, marks[problems.front().index], problems.front().message);
    }
    return pairs;
}

std::vector<PairSpec> load_config(const std::filesystem::path& file) {
    std::ifstream stream(file);
    if (!stream) {
        if (errno == ENOENT) {
            throw ConfigMissing("config file " + file.string() + " does not exist");
        }
        throw_errno("read config file " + file.string(), "open");
    }
    std::ostringstream text;
    text << stream.rdbuf();
    if (stream.bad()) {
        throw_errno("read config file " + file.string(), "read");
    }
    return parse_config(text.str(), file.string());
}

std::string render_config(const std::vector<PairSpec>& pairs) {
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << std::string(links_key) << YAML::Value;
    if (pairs.empty()) {
        out << YAML::Flow;
    }
    out << YAML::BeginMap;
    for (const PairSpec& pair : pairs) {
        out << YAML::Key << pair.left << YAML::Value;
        if (pair.mode) {
            out << YAML::Flow << YAML::BeginMap << YAML::Key << std::string(peer_key) << YAML::Value
                << pair.right << YAML::Key << std::string(mode_key) << YAML::Value
                << std::string(to_string(*pair.mode)) << YAML::EndMap;
        } else {
            out << pair.right;
        }
    }
    out << YAML::EndMap << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace xconnect
