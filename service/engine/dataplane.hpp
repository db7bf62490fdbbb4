#pragma once

// The engine's seam at the kernel boundary: everything it does to XDP programs
// and maps goes through this interface. The loader implements it for the real
// kernel; unit tests implement it in memory.

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

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

// What an earlier xconnectd left for one interface (its redirect entry, its
// counters, a program attached): found when the dataplane was opened, and
// left forwarding as it is until the engine keeps it (a pair that did not
// change) or releases it.
struct InheritedPort {
    uint32_t ifindex = 0;
    std::optional<uint32_t> peer;        // its redirect entry: frames entering it leave here
    std::optional<AttachMode> attached;  // an xconnect program is attached in this mode...
    bool current_program = false;        // ...and it is program_id(), not an earlier one to replace
};

// Frames redirected out of a pair's side that the kernel did not deliver, by
// the errno it gave (EMSGSIZE, ENETDOWN, ENXIO, ...).
using DropCounts = std::map<int, uint64_t>;
// Those of every interface whose drops are counted, by ingress ifindex.
using DropsByPort = std::map<uint32_t, DropCounts>;

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
    // xconnectd (or ours in the other mode); fails with SystemError EBUSY
    // rather than replace anybody else's (other failures: SystemError with
    // the kernel's errno).
    virtual void attach(uint32_t ifindex, AttachMode mode) = 0;

    // Detaches our program if it is still the one attached; a no-op when the
    // interface is gone or someone else's program has replaced ours.
    virtual void detach(uint32_t ifindex) noexcept = 0;

    // Frames entering `from` leave through `to`; creates from's counters
    // (zero) unless they exist. Throws SystemError.
    virtual void connect(uint32_t from, uint32_t to) = 0;

    // Frames entering `from` go to the normal stack again; drops its counters.
    virtual void disconnect(uint32_t from) noexcept = 0;

    // Frames and bytes redirected out of from's peer, summed over CPUs, and
    // of those the frames the kernel dropped.
    virtual Counters counters(uint32_t from) const = 0;
    // Those drops by errno for every interface, read at once; empty where
    // drops are not counted.
    virtual DropsByPort drops() const = 0;

    // What an earlier xconnectd left, by ingress ifindex, as it was when the
    // dataplane was opened (nothing on a fresh start).
    virtual std::vector<InheritedPort> inherited_ports() const = 0;

    // Once the engine has kept what it needs and released the rest: removes
    // earlier xconnectds' programs from wherever they are still attached, and
    // unpins them and the maps of other layouts.
    virtual void release_earlier() noexcept = 0;
};

}  // namespace xconnect
