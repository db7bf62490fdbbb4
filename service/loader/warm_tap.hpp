#pragma once

// Keeps our XDP program in the kernel's XDP dispatcher for as long as the
// daemon lives. The dispatcher is rebuilt, after an RCU grace period
// (bpf_dispatcher_change_prog -> synchronize_rcu), whenever a program
// enters it or leaves it: when the first interface gets our program and
// when the last one loses it. With the program held here, that wait is paid
// once, at start, and no pair's attach waits for it.
//
// The holder is a tap of our own, named xconnect-warmN: down, attached
// natively (generic mode would switch on the kernel's generic-XDP hook for
// every device), and nothing writes to it, so the program never runs there.
// It is not persistent: the kernel removes it when its fd closes, so it goes
// with the daemon however the daemon ends, and nothing is left for --flush.

#include <cstdint>
#include <string>

#include "common/unique_fd.hpp"

namespace xconnect {

class WarmTap {
  public:
    // Creates the tap and attaches the program. Throws SystemError (no
    // /dev/net/tun, no CAP_NET_ADMIN, a refused attach), with what it tried.
    explicit WarmTap(int program_fd);
    WarmTap(const WarmTap&) = delete;
    WarmTap& operator=(const WarmTap&) = delete;

    const std::string& interface_name() const { return name_; }
    uint32_t ifindex() const { return ifindex_; }

    // What the kernel names it: "xconnect-warm" and the lowest free number.
    static constexpr char name_pattern[] = "xconnect-warm%d";

  private:
    UniqueFd tap_;  // closing it removes the tap, and our program with it
    std::string name_;
    uint32_t ifindex_ = 0;
};

}  // namespace xconnect
