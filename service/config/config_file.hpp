#pragma once

// The config file: the original xdp-xconnect's YAML, `links: {eth0: tap0}`,
// plus an optional per-pair attach mode `eth1: {peer: tap1, xdp-mode: generic}`.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.hpp"

namespace xconnect {

// The file does not parse or validate: what() is "FILE:LINE: reason".
class InvalidConfig : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The file is not there (it may come back: editors replace files by rename).
class ConfigMissing : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Parses and validates; `origin` names the text in error messages.
std::vector<PairSpec> parse_config(std::string_view text, const std::string& origin);

// Reads and parses a file. Throws ConfigMissing, InvalidConfig or SystemError.
std::vector<PairSpec> load_config(const std::filesystem::path& file);

// The file format for `pairs` (what the daemon writes back).
std::string render_config(const std::vector<PairSpec>& pairs);

}  // namespace xconnect
