#pragma once

// The maps of a BPF object (but its .rodata and .bss) pinned in the layout's directory
// (PinnedState): before the object is loaded, each map pinned there already is reused (if it is
// what this build would create), and after, the others are pinned. Not libbpf's pin_path: 1.1
// compares the flags as they were asked for, and the kernel adds BPF_F_RDONLY_PROG to every DEVMAP,
// so it would never reuse one.

#include <bpf/libbpf.h>

#include <vector>

#include "pinned_state.hpp"

namespace xconnect {

class PinnedMaps {
  public:
    // Before bpf_object__load. Throws SystemError.
    PinnedMaps(bpf_object* object, const PinnedState& state);
    // After it: pins the maps that were not pinned. Throws SystemError.
    void pin_created() const;

  private:
    const PinnedState& state_;
    std::vector<bpf_map*> created_;
};

}  // namespace xconnect
