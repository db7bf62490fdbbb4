#pragma once

// Where the desired pairs persist. Control owns persisting them; where and in
// which format is the store's business (config/ConfigStore: the YAML file),
// so the arrow runs from config/ to control/, not back.

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "engine/model.hpp"

namespace xconnect {

// Nothing to load (the file is not there; it may come back): the running
// pairs stay, and that is a warning, not an error.
class StoreMissing : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class PairStore {
  public:
    virtual ~PairStore() = default;

    // What the store is, for messages (the config file's path).
    virtual const std::filesystem::path& file() const = 0;
    // Throws StoreMissing, or another std::exception saying what is wrong.
    virtual std::vector<PairSpec> load() const = 0;
    // All or nothing; throws (and keeps what it held) when it cannot.
    virtual void save(const std::vector<PairSpec>& pairs) = 0;
    // Whether the store holds exactly what save() wrote last: news of our own
    // write is not a change to apply.
    virtual bool holds_own_write() const = 0;
};

}  // namespace xconnect
