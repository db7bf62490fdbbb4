#include "config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>

#include "common/error.hpp"
#include "common/quote.hpp"
#include "common/unique_fd.hpp"

namespace xconnect {

namespace {

constexpr std::string_view links_key = "links";
constexpr std::string_view peer_key = "peer";
constexpr std::string_view mode_key = "xdp-mode";

// Every message goes out as valid UTF-8: the file name and yaml-cpp's own
// words are not quoted, and either may carry any byte.
[[noreturn]] void refuse(const std::string& message) {
    throw InvalidConfig(valid_utf8(message));
}

[[noreturn]] void fail(const std::string& origin, const YAML::Mark& mark,
                       const std::string& reason) {
    // yaml-cpp counts lines from 0; editors from 1.
    const std::string where = mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : "";
    refuse(origin + where + ": " + reason);
}

std::string describe_type(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return "nothing";
        case YAML::NodeType::Scalar:
            return quote(node.Scalar());
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Map:
            return "a map";
        case YAML::NodeType::Undefined:
            break;
    }
    return "an undefined value";
}

// Refuses flow collections ([ and {) nested deeper than max_config_nesting,
// before yaml-cpp recurses into them. A bracket counts only where a flow
// collection can begin: after a blank, at a line start, or right after a
// counted [ or { or a , inside one; never inside quotes or comments, nor
// inside a plain scalar after a non-blank (a[[b). One after a blank inside a
// plain or block scalar does count, but such a scalar holds a blank, so it is
// no valid name: no valid file is refused. A bracket the scan misses only
// makes it count less, and yaml-cpp's own limit is behind it.
void check_nesting(std::string_view text, const std::string& origin) {
    enum class State { plain, double_quoted, single_quoted, comment };
    State state = State::plain;
    size_t depth = 0;
    size_t line = 1;
    size_t column = 0;
    bool at_blank = true;  // the previous character was a blank or a line start
    bool boundary = true;  // a token may begin here
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        ++column;
        if (c == '\n') {
            ++line;
            column = 0;
            if (state == State::comment) {
                state = State::plain;
            }
            at_blank = boundary = true;
            continue;
        }
        bool next_boundary = false;
        switch (state) {
            case State::comment:
                break;
            case State::double_quoted:
                if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
                    ++i;  // an escaped character, whatever it is
                    ++column;
                } else if (c == '"') {
                    state = State::plain;
                }
                break;
            case State::single_quoted:
                if (c == '\'') {
                    state = State::plain;  // '' inside is an end and a start again: the same
                }
                break;
            case State::plain:
                if (c == ' ' || c == '\t') {
                    next_boundary = true;
                } else if (c == '#' && at_blank) {
                    state = State::comment;
                } else if (c == '"' && boundary) {
                    state = State::double_quoted;
                } else if (c == '\'' && boundary) {
                    state = State::single_quoted;
                } else if ((c == '[' || c == '{') && boundary) {
                    if (++depth > max_config_nesting) {
                        refuse(origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                               ": nesting deeper than " + std::to_string(max_config_nesting) +
                               " levels");
                    }
                    next_boundary = true;
                } else if (c == ',' && depth > 0) {
                    next_boundary = true;
                } else if ((c == ']' || c == '}') && depth > 0) {
                    --depth;
                }
                break;
        }
        at_blank = c == ' ' || c == '\t';
        boundary = next_boundary;
    }
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
    const std::string left = quote(pair.left);
    if (!value.IsMap()) {
        fail(origin, key.Mark(),
             "interface " + left + " must map to a peer interface name or to {" +
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
                     std::string(mode_key) + " of " + left +
                         " must be auto, native or generic, not " + quote(option.second.Scalar()));
            }
        } else if (name == peer_key || name == mode_key) {
            fail(origin, option.second.Mark(),
                 name + " of " + left + " must be a string, not " + describe_type(option.second));
        } else {
            fail(origin, option.first.Mark(),
                 "unknown option " + describe_type(option.first) + " for " + left + " (expected " +
                     std::string(peer_key) + " and " + std::string(mode_key) + ")");
        }
    }
    if (!has_peer) {
        fail(origin, key.Mark(), "interface " + left + " has no " + std::string(peer_key));
    }
    return pair;
}

[[noreturn]] void refuse_size(const std::string& origin, std::string_view size) {
    refuse(origin + ": " + std::string(size) + " bytes, more than the " +
           std::to_string(max_config_bytes / (1024 * 1024)) + " MiB a config file may have");
}

// A name that reads back as the same string in every YAML 1.1 and 1.2
// resolver when written plain, in block and in flow context: it starts with
// an ASCII letter (no number, no indicator, no .inf), has only letters,
// digits, '.', '_' and '-' (no flow indicator, comment or "key: value"), and
// is none of YAML 1.1's booleans and nulls (y, n, yes, no, on, off, true,
// false, null, in any case). Everything else is written double-quoted.
bool is_safe_plain(std::string_view name) {
    const auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (name.empty() || !is_letter(name.front())) {
        return false;
    }
    const bool only_safe_characters = std::all_of(name.begin(), name.end(), [&](char c) {
        return is_letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
    if (!only_safe_characters) {
        return false;
    }
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    constexpr std::array<std::string_view, 9> resolved_words = {"y",   "n",    "yes",   "no",  "on",
                                                                "off", "true", "false", "null"};
    return std::find(resolved_words.begin(), resolved_words.end(), lower) == resolved_words.end();
}

void emit_name(YAML::Emitter& out, const std::string& name) {
    if (is_safe_plain(name)) {
        out << name;
    } else {
        out << YAML::DoubleQuoted << name;
    }
}

}  // namespace

std::vector<PairSpec> parse_config(std::string_view text, const std::string& origin) {
    if (text.size() > max_config_bytes) {
        refuse_size(origin, std::to_string(text.size()));
    }
    check_nesting(text, origin);
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::DeepRecursion& error) {
        // Only block collections get here (flow ones were counted above);
        // yaml-cpp calls it "bad file".
        const std::string where = error.mark.line >= 0
                                      ? ":" + std::to_string(error.mark.line + 1) + ":" +
                                            std::to_string(error.mark.column + 1)
                                      : "";
        refuse(origin + where + ": nesting deeper than " + std::to_string(error.depth() - 1) +
               " levels (yaml-cpp's limit)");
    } catch (const YAML::Exception& error) {
        fail(origin, error.mark, "not valid YAML: " + error.msg);
    }
    if (root.IsNull()) {
        refuse(origin + ": the file is empty; expected a map with a \"" + std::string(links_key) +
               "\" key");
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
        refuse(origin + ": no \"" + std::string(links_key) + "\" key");
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
    const std::string name = valid_utf8(file.string());
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        if (errno != ENOENT) {
            throw_errno("read config file " + name, "open");
        }
        struct stat link {};
        if (::lstat(file.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
            std::error_code error;
            const auto target = std::filesystem::read_symlink(file, error);
            throw ConfigMissing("config file " + name + " is a symbolic link to " +
                                (error ? std::string("?") : quote(target.string())) +
                                ", which does not exist");
        }
        throw ConfigMissing("config file " + name + " does not exist");
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) {
        throw_errno("read config file " + name, "fstat");
    }
    if (S_ISDIR(status.st_mode)) {
        refuse(name + ": is a directory, not a config file");
    }
    if (!S_ISREG(status.st_mode)) {
        refuse(name + ": not a regular file (a FIFO, socket or device), not a config file");
    }
    if (status.st_size > static_cast<off_t>(max_config_bytes)) {
        refuse_size(name, std::to_string(status.st_size));
    }
    // Bounded whatever fstat said: a file may grow while it is read.
    std::string text;
    text.reserve(static_cast<size_t>(status.st_size));
    std::array<char, 64 * 1024> chunk;
    for (;;) {
        const ssize_t got = ::read(fd.get(), chunk.data(), chunk.size());
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("read config file " + name, "read");
        }
        if (got == 0) {
            break;
        }
        text.append(chunk.data(), static_cast<size_t>(got));
        if (text.size() > max_config_bytes) {
            refuse_size(name, "at least " + std::to_string(text.size()));
        }
    }
    return parse_config(text, name);
}

std::string render_config(const std::vector<PairSpec>& pairs) {
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << std::string(links_key) << YAML::Value;
    if (pairs.empty()) {
        out << YAML::Flow;
    }
    out << YAML::BeginMap;
    for (const PairSpec& pair : pairs) {
        out << YAML::Key;
        emit_name(out, pair.left);
        out << YAML::Value;
        if (pair.mode) {
            out << YAML::Flow << YAML::BeginMap << YAML::Key << std::string(peer_key)
                << YAML::Value;
            emit_name(out, pair.right);
            out << YAML::Key << std::string(mode_key) << YAML::Value
                << std::string(to_string(*pair.mode)) << YAML::EndMap;
        } else {
            emit_name(out, pair.right);
        }
    }
    out << YAML::EndMap << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace xconnect
