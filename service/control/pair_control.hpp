#pragma once

// What front ends (D-Bus now, others later) may ask of the daemon: change the
// desired pairs, which are persisted to the config file before they are
// applied, and reload the file. Front ends read state from the engine and
// change it only through here; none of them touches the kernel.

#include <optional>
#include <string>

#include "config/config_store.hpp"
#include "contract/errors.hpp"
#include "engine/engine.hpp"

namespace xconnect {

class PairControl {
  public:
    PairControl(Engine& engine, ConfigStore& store) : engine_(engine), store_(store) {}

    const std::filesystem::path& config_file() const { return store_.file(); }

    // The pair left<->right (in either order) if it exists; nullopt if it may
    // be added. Throws ContractError invalid_name or in_use.
    std::optional<PairSpec> check_add(const std::string& left, const std::string& right) const;
    // The pair that holds `ifname`. Throws ContractError no_such_pair.
    PairSpec pair_holding(const std::string& ifname) const;

    // Idempotent: an existing pair is returned as it is. Throws ContractError.
    PairSpec add_pair(const std::string& left, const std::string& right);
    // Returns the pair removed. Throws ContractError.
    PairSpec remove_pair(const std::string& ifname);
    // Re-reads the config file and applies it warm. Throws ContractError
    // invalid_config (and changes nothing) for a bad or missing file.
    void reload();

  private:
    void persist_and_apply(const std::vector<PairSpec>& pairs);

    Engine& engine_;
    ConfigStore& store_;
};

}  // namespace xconnect
