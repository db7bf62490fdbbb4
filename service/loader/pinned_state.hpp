#pragma once

// What xconnectd keeps in bpffs so that its dataplane outlives the process:
// one directory per network namespace (ifindexes and DEVMAP targets belong
// to one), and in it one directory per map layout (XC_LAYOUT_VERSION):
//
//   <state dir>/layout-<N>/xc_ports, xc_counter_slots, xc_counters   the maps
//   <state dir>/layout-<N>/xdp-program-<id>                           programs using them
//
// A starting xconnectd reuses the maps of its own layout (libbpf pins them
// by name), keeps running a program pinned with them that is its own (same
// code, exactly those maps), and treats every other xconnect program pinned
// here as an earlier one, to be replaced. Opening a pin needs only file
// access; looking a program up by id needs CAP_SYS_ADMIN, which the unit does
// not grant.

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"

namespace xconnect {

// Who a loaded program is, as the kernel tells anyone holding its fd.
struct ProgramIdentity {
    uint32_t id = 0;
    uint32_t type = 0;
    std::string name;
    std::array<uint8_t, 8> tag{};   // a hash of the instructions, map references left out
    std::vector<uint32_t> map_ids;  // the maps it uses, sorted
};

// Nullopt (errno set) if the kernel will not say.
std::optional<ProgramIdentity> identify_program(int program_fd);
// The kernel's id of a map. Throws SystemError.
uint32_t map_id(int map_fd);

class PinnedState {
  public:
    // /sys/fs/bpf/xconnect/<inode of this network namespace>.
    static std::filesystem::path default_directory();

    // Makes sure `directory` is on bpffs (mounting /sys/fs/bpf when it is not
    // and the process may), creates it and this layout's directory, and opens
    // every xconnect program pinned there. Throws SystemError.
    explicit PinnedState(std::filesystem::path directory);
    ~PinnedState();  // leaves the pins: only forget()/remove_all() take them away
    PinnedState(const PinnedState&) = delete;
    PinnedState& operator=(const PinnedState&) = delete;

    const std::filesystem::path& directory() const { return directory_; }
    // Where this build's map `name` is pinned (its layout's directory).
    std::filesystem::path map_pin(std::string_view name) const;

    // Takes the pinned program that is `loaded`'s equal: the same code (tag)
    // using exactly the same maps. That one keeps running as it is, and stays
    // pinned as ours. Nullopt: there is none (pin `loaded` with pin_own()).
    std::optional<UniqueFd> take_own(const ProgramIdentity& loaded);
    // Pins our program in this layout's directory. Throws SystemError.
    void pin_own(int program_fd, uint32_t program_id);

    // An fd of a program an earlier xconnectd pinned that is not ours (another
    // build, or this build with other maps), if one with this id was pinned.
    std::optional<int> earlier(uint32_t program_id) const;
    std::vector<uint32_t> earlier_ids() const;
    // Unpins an earlier program that nothing runs any more.
    void forget(uint32_t program_id) noexcept;
    // The directories of other layouts (an earlier build's maps), if any.
    std::vector<std::filesystem::path> other_layouts() const;
    // Unpins what other layouts left (their programs are forgotten first).
    void forget_other_layouts() noexcept;

    // Unpins everything xconnect pinned here (programs and maps, of every
    // layout) and removes the directories: a clean exit, nothing attached.
    void remove_all() noexcept;

  private:
    struct Pinned {
        UniqueFd fd;
        std::filesystem::path pin;
    };

    std::filesystem::path directory_;
    std::filesystem::path layout_directory_;
    std::map<uint32_t, Pinned> earlier_;  // program id ->
    std::optional<std::filesystem::path> own_pin_;
};

// xconnectd --flush: detaches every program pinned under `directory` from
// whichever interface of this network namespace runs it (no one else's), and
// removes xconnect's pins and directories there. Returns how many
// attachments it removed. Throws SystemError.
unsigned flush_state_directory(const std::filesystem::path& directory);

// xconnectd --flush --all-namespaces: flush_state_directory() for every
// namespace's directory under /sys/fs/bpf/xconnect, entering each namespace
// still reachable (/run/netns, /proc/*/ns/net). Throws SystemError.
unsigned flush_all_namespaces();

}  // namespace xconnect
