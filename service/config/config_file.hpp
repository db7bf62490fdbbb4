#pragma once

// The config file: the original xdp-xconnect's YAML, `links: {eth0: tap0}`,
// plus an optional per-pair attach mode `eth1: {peer: tap1, xdp-mode: generic}`.

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "control/pair_store.hpp"
#include "engine/model.hpp"

namespace xconnect {

// The most a config file may hold: 10 000 pairs of 15-byte names with a mode
// each take about 600 KiB.
inline constexpr size_t max_config_bytes = 4 * 1024 * 1024;
// The deepest nesting of flow collections ([ and {) a config file may have;
// a valid one needs 3 at most ({links: {a: {peer: b}}}).
inline constexpr size_t max_config_nesting = 100;

// The file does not parse or validate: what() is "FILE:LINE: reason" (or
// "FILE:LINE:COLUMN: reason" where the column matters), valid UTF-8, with
// every piece of input in it quoted and bounded (common/quote.hpp).
class InvalidConfig : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The file is not there (it may come back: editors replace files by rename).
class ConfigMissing : public StoreMissing {
  public:
    using StoreMissing::StoreMissing;
};

// Parses and validates; `origin` names the text in error messages.
std::vector<PairSpec> parse_config(std::string_view text, const std::string& origin);

// Reads and parses a file. Throws ConfigMissing (also for a dangling
// symbolic link), InvalidConfig (also for a directory, anything that is not a
// regular file, or a file over max_config_bytes) or SystemError. Never blocks
// on a FIFO.
std::vector<PairSpec> load_config(const std::filesystem::path& file);

// The file format for `pairs` (what the daemon writes back). Names that any
// YAML 1.1 or 1.2 resolver could read as something other than the same
// string are double-quoted (the rule is at is_safe_plain in the .cpp).
std::string render_config(const std::vector<PairSpec>& pairs);

}  // namespace xconnect
