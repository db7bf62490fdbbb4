#pragma once

// The real kernel behind the engine's Dataplane seam: the XDP program loaded
// once from the embedded skeleton and attached to many interfaces, redirect
// and counter maps updated in place.
//
// Programs are attached through rtnetlink (not bpf_link) because the kernel
// announces those attachments in RTM_NEWLINK (IFLA_XDP): the link monitor sees
// when someone else removes or replaces ours. Every attach refuses to replace
// an existing program (XDP_FLAGS_UPDATE_IF_NOEXIST) unless it is an earlier
// xconnectd's, and every detach removes only our own (XDP_FLAGS_REPLACE with
// the expected fd), so no race clobbers anybody.
//
// The program and its maps are pinned (PinnedState), so they outlive the
// process: a daemon killed, or stopped with OnExit::keep, leaves every pair
// forwarding, and the next one reuses the maps, keeps the program if it is
// its own, and replaces it atomically on each interface if it is not (an
// upgrade).

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "bpf_skeleton.hpp"
#include "capture_ring.hpp"
#include "counter_slots.hpp"
#include "drop_monitor.hpp"
#include "engine/dataplane.hpp"
#include "pinned_state.hpp"

struct xconnect_bpf;
struct xc_port_counters;

namespace xconnect {

class KernelDataplane final : public Dataplane {
  public:
    // What the destructor leaves behind.
    enum class OnExit {
        detach,  // nothing: every program detached, every pin removed
        keep,    // everything attached and pinned, forwarding for the next xconnectd
    };

    // Loads the program with the maps pinned in `state_dir` (created there if
    // absent; nullopt: unpinned, so nothing outlives the process) and takes
    // stock of what an earlier xconnectd left. `count_ring_drops`: see
    // DropMonitor. Throws SystemError.
    KernelDataplane(std::optional<std::filesystem::path> state_dir, OnExit on_exit,
                    bool count_ring_drops = false);
    ~KernelDataplane() override;
    KernelDataplane(const KernelDataplane&) = delete;
    KernelDataplane& operator=(const KernelDataplane&) = delete;

    uint32_t program_id() const override { return program_id_; }
    uint32_t port_capacity() const override;
    std::optional<AttachedProgram> attached_program(uint32_t ifindex) override;
    void attach(uint32_t ifindex, AttachMode mode) override;
    void detach(uint32_t ifindex) noexcept override;
    void connect(uint32_t from, uint32_t to) override;
    void disconnect(uint32_t from) noexcept override;
    Counters counters(uint32_t from) const override;
    DropsByPort drops() const override;
    std::vector<InheritedPort> inherited_ports() const override { return inherited_; }
    void release_earlier() noexcept override;

    // The program attached everywhere: for the warm tap, and for tests that
    // drive it directly (BPF_PROG_TEST_RUN).
    int program_fd() const;

    // Drop accounting; null where it could not be loaded (no CAP_PERFMON).
    DropMonitor* drop_monitor() const { return drop_monitor_.get(); }

    // The program's capture maps, for CaptureRing; valid while this lives.
    CaptureMaps capture_maps() const;

    // Where the program and maps are pinned; nullopt: nowhere.
    std::optional<std::filesystem::path> state_directory() const;

  private:
    void create_counters(uint32_t from);
    void replace_earlier(uint32_t ifindex, const AttachedProgram& earlier, AttachMode mode);
    void adopt_or_pin_program();
    void read_counter_owners();
    void take_inventory();
    void start_drop_accounting(bool count_ring_drops);
    void carry_counters_from(const std::filesystem::path& layout) noexcept;
    void add_to_counters(uint32_t ifindex, const xc_port_counters& carried);

    OnExit on_exit_;
    std::optional<PinnedState> state_;  // before the skeleton: it names the maps' pins
    BpfSkeleton<xconnect_bpf> skeleton_;
    UniqueFd adopted_program_;  // an earlier xconnectd's program that is ours: kept running
    uint32_t program_id_ = 0;
    int possible_cpus_ = 0;
    CounterSlots counter_slots_;               // mirrors xc_counter_slots: only we write its owners
    std::map<uint32_t, AttachMode> attached_;  // ifindex -> mode: our program's attachments
    std::vector<InheritedPort> inherited_;
    std::unique_ptr<DropMonitor> drop_monitor_;
};

}  // namespace xconnect
