#pragma once

// The config file as the daemon's persistent state: read it, and write the
// running pairs back atomically, so that changes made over D-Bus survive a
// restart and the file never holds half a write.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "control/pair_store.hpp"
#include "engine/model.hpp"

namespace xconnect {

class ConfigStore final : public PairStore {
  public:
    explicit ConfigStore(std::filesystem::path file) : file_(std::move(file)) {}

    const std::filesystem::path& file() const override { return file_; }

    // Throws ConfigMissing, InvalidConfig or SystemError.
    std::vector<PairSpec> load() const override;

    // Temp file in the same directory, fsync, rename over, fsync the
    // directory. Throws SystemError (and leaves the old file as it was).
    void save(const std::vector<PairSpec>& pairs) override;

    // Whether the file holds exactly what save() wrote last: news from the
    // file watcher about our own write is not an edit to apply.
    bool holds_own_write() const override;

  private:
    std::filesystem::path file_;
    std::optional<std::string> last_written_;
};

}  // namespace xconnect
