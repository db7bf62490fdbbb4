#include "counter_slots.hpp"

#include <bit>
#include <stdexcept>
#include <string>

namespace xconnect {

CounterSlots::CounterSlots(uint32_t slot_count) {
    if (!std::has_single_bit(slot_count)) {
        throw std::invalid_argument("counter slot count " + std::to_string(slot_count) +
                                    " is not a power of two");
    }
    owners_.assign(slot_count, 0);
}

std::optional<uint32_t> CounterSlots::owned(uint32_t ifindex) const {
    const uint32_t slot = slot_of(ifindex);
    if (ifindex == 0 || owners_[slot] != ifindex) {
        return std::nullopt;
    }
    return slot;
}

std::optional<uint32_t> CounterSlots::claim(uint32_t ifindex) {
    const uint32_t slot = slot_of(ifindex);
    if (ifindex == 0 || (owners_[slot] != 0 && owners_[slot] != ifindex)) {
        return std::nullopt;
    }
    owners_[slot] = ifindex;
    return slot;
}

std::optional<uint32_t> CounterSlots::release(uint32_t ifindex) {
    const auto slot = owned(ifindex);
    if (slot) {
        owners_[*slot] = 0;
    }
    return slot;
}

std::vector<uint32_t> CounterSlots::owners() const {
    std::vector<uint32_t> result;
    for (const uint32_t owner : owners_) {
        if (owner != 0) {
            result.push_back(owner);
        }
    }
    return result;
}

}  // namespace xconnect
