#pragma once

// sd-bus answers org.freedesktop.DBus.Properties calls itself and quotes an
// unknown interface or property name back whole ("Unknown interface %s or
// property %s."), so a 100 KB name came back as a 100 KB error. No D-Bus
// name is longer than 255 bytes: a filter, run before sd-bus dispatches a
// message, answers such calls itself with the name quoted bounded.

#include <memory>

struct sd_bus_slot;

namespace sdbus {
class IObject;
}

namespace xconnect {

class LongNameFilter {
  public:
    // Installs the filter on the connection `object` is registered on.
    explicit LongNameFilter(sdbus::IObject& object);

  private:
    struct SlotUnref {
        void operator()(sd_bus_slot* slot) const noexcept;
    };
    std::unique_ptr<sd_bus_slot, SlotUnref> slot_;
};

}  // namespace xconnect
