#pragma once

#include "engine/engine.hpp"

namespace xconnect {

// Logs one line per change, per pair, like networkd's log_link_*():
// "veth0<->veth1: active (generic)".
class PairLog final : public EngineObserver {
  public:
    void pair_added(const PairStatus& pair) override;
    void pair_removed(const PairStatus& pair) override;
    void pair_changed(const PairStatus& pair, PairFields changed) override;
};

std::string describe_state(const PairStatus& pair);

}  // namespace xconnect
