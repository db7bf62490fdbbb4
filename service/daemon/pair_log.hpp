#pragma once

#include <set>
#include <string>

#include "engine/engine.hpp"

namespace xconnect {

// Logs one line per change, per pair, like networkd's log_link_*():
// "veth0<->veth1: active (generic)". Of drops, only when a pair starts and
// stops losing frames (DropReason's counts change every second meanwhile).
class PairLog final : public EngineObserver {
  public:
    void pair_added(const PairStatus& pair) override;
    void pair_removed(const PairStatus& pair) override;
    void pair_changed(const PairStatus& pair, PairFields changed) override;

  private:
    std::set<std::string, std::less<>> losing_;  // left names of pairs losing frames
};

std::string describe_state(const PairStatus& pair);

}  // namespace xconnect
