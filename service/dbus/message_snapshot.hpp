#pragma once

// sdbus-c++ 1.2 calls each property getter on its own, so a GetAll of a pair
// (or a GetManagedObjects of all of them) would read the engine once per
// property. A MessageSnapshot keeps what the first getter read for the rest
// of the same message: one read per message, and one consistent answer.
// sdbus-free, so it is unit tested without a bus.

#include <cstdint>
#include <optional>

namespace xconnect {

// Numbers the messages the bus loop dispatches, so that "the message being
// answered" has a name no later message can share (an sd_bus_message's
// address can be reused, and cookies are per sender).
class MessageSequence {
  public:
    uint64_t current() const { return current_; }
    void advance() { ++current_; }

  private:
    uint64_t current_ = 0;
};

template <typename Value>
class MessageSnapshot {
  public:
    // The value read for `message`, read with `read` on its first use. With no
    // message (a read that is not a bulk one) every use reads afresh. If `read`
    // throws, nothing is kept.
    template <typename Read>
    const Value& get(std::optional<uint64_t> message, Read read) {
        if (!message || message != owner_) {
            owner_.reset();
            value_ = read();
            owner_ = message;
        }
        return *value_;
    }

  private:
    std::optional<uint64_t> owner_;
    std::optional<Value> value_;
};

}  // namespace xconnect
