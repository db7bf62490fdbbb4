#pragma once

// An engine observer that writes down every call, for tests to compare.

#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace xconnect::test {

struct Event {
    std::string what;  // added / removed / changed
    PairStatus pair;
    PairFields fields = 0;
};

class RecordingObserver : public EngineObserver {
  public:
    void pair_added(const PairStatus& pair) override { events.push_back({"added", pair}); }
    void pair_removed(const PairStatus& pair) override { events.push_back({"removed", pair}); }
    void pair_changed(const PairStatus& pair, PairFields fields) override {
        events.push_back({"changed", pair, fields});
    }
    std::vector<Event> events;
};

}  // namespace xconnect::test
