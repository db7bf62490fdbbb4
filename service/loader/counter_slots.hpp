#pragma once

// Which interface counts in which slot of the XDP program's counter array.
//
// The program finds an ingress interface's slot by the low bits of its
// ifindex (ifindex & (slot_count - 1)) and counts there only if the slot says
// that interface owns it; an interface whose slot another one owns counts in
// the hash map instead. This is the bookkeeping of those owners, without the
// kernel: the loader mirrors every claim and release into the map.

#include <cstdint>
#include <optional>
#include <vector>

namespace xconnect {

class CounterSlots {
  public:
    // `slot_count` is a power of two (the program masks, it does not divide).
    // Throws std::invalid_argument otherwise.
    explicit CounterSlots(uint32_t slot_count);

    uint32_t slot_count() const { return static_cast<uint32_t>(owners_.size()); }
    // The one slot `ifindex` can ever count in, owned or not.
    uint32_t slot_of(uint32_t ifindex) const { return ifindex & (slot_count() - 1); }
    // The slot `ifindex` owns, if it owns one.
    std::optional<uint32_t> owned(uint32_t ifindex) const;
    // Takes `ifindex`'s slot if it is free (or already its own) and returns
    // it; nullopt: another interface owns it, so `ifindex` counts elsewhere.
    // ifindex 0 never owns a slot (0 marks a free one).
    std::optional<uint32_t> claim(uint32_t ifindex);
    // Frees the slot `ifindex` owns and returns it; nullopt: it owned none.
    std::optional<uint32_t> release(uint32_t ifindex);
    // Every ifindex that owns a slot, in slot order.
    std::vector<uint32_t> owners() const;

  private:
    std::vector<uint32_t> owners_;  // slot -> owning ifindex; 0: free
};

}  // namespace xconnect
