#pragma once

// The engine's seam at the kernel boundary: everything it does to XDP programs
// and maps goes through this interface. The loader implements it for the real
// kernel; unit tests implement it in memory.

#include <cstdint>
#include <optional>

#include "model.hpp"

namespace xconnect {

// An XDP program found attached to an interface.
struct AttachedProgram {
    uint32_t program_id = 0;
    AttachMode mode = AttachMode::native;
    // The same program as ours (name and tag), left by an xconnectd that did
    // not detach (killed): taken over, not treated as foreign.
    bool earlier_xconnect = false;
};

class Dataplane {
  public:
    virtual ~Dataplane() = default;

    // Kernel id of our XDP program, to tell it from foreign ones.
    virtual uint32_t program_id() const = 0;

    // How many interfaces can be cross-connected at once: the size of the
    // port map (one entry per ingress interface). The engine refuses a pair
    // beyond it before attaching anything.
    virtual uint32_t port_capacity() const = 0;

    // The XDP program attached to ifindex, if any. Throws SystemError.
    virtual std::optional<AttachedProgram> attached_program(uint32_t ifindex) = 0;

    // Attaches our program, atomically replacing one left by an earlier
    // xconnectd; fails with SystemError EBUSY rather than replace anybody
    // else's (other failures: SystemError with the kernel's errno).
    virtual void attach(uint32_t ifindex, AttachMode mode) = 0;

    // Detaches our program if it is still the one attached; a no-op when the
    // interface is gone or someone else's program has replaced ours.
    virtual void detach(uint32_t ifindex) noexcept = 0;

    // Frames entering `from` leave through `to`; creates from's counters
    // (zero) unless they exist. Throws SystemError.
    virtual void connect(uint32_t from, uint32_t to) = 0;

    // Frames entering `from` go to the normal stack again; drops its counters.
    virtual void disconnect(uint32_t from) noexcept = 0;

    // Frames and bytes redirected out of from's peer, summed over CPUs.
    virtual Counters counters(uint32_t from) const = 0;
};

}  // namespace xconnect
