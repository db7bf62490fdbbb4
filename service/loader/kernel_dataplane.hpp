#pragma once

// The real kernel behind the engine's Dataplane seam: the XDP program loaded
// once from the embedded skeleton and attached to many interfaces, redirect
// and counter maps updated in place.
//
// Programs are attached through rtnetlink (not bpf_link) because the kernel
// announces those attachments in RTM_NEWLINK (IFLA_XDP): the link monitor sees
// when someone else removes or replaces ours. Every attach refuses to replace
// an existing program (XDP_FLAGS_UPDATE_IF_NOEXIST) and every detach removes
// only our own (XDP_FLAGS_REPLACE with our fd), so no race clobbers anybody.
// If the daemon dies, its programs stay attached and keep forwarding; the
// next xconnectd recognises them by the pin the earlier one left in its state
// directory (ProgramPins) and takes them over.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "bpf_skeleton.hpp"
#include "counter_slots.hpp"
#include "engine/dataplane.hpp"
#include "program_pins.hpp"

struct xconnect_bpf;

namespace xconnect {

class KernelDataplane final : public Dataplane {
  public:
    // Loads the program and creates its maps, and pins it in `state_dir`
    // (nullopt: nowhere, so a restarted daemon will not recognise it). Throws
    // SystemError.
    explicit KernelDataplane(std::optional<std::filesystem::path> state_dir);
    // Detaches whatever is still attached (the engine's shutdown() normally has).
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

    // For tests that drive the program directly (BPF_PROG_TEST_RUN).
    int program_fd() const;

    // After the first reconciliation: detaches earlier xconnectds' programs
    // that no pair took over (their interfaces left the configuration while
    // no daemon ran) and unpins them.
    void release_earlier_programs() noexcept;

  private:
    void create_counters(uint32_t from);
    void replace_earlier(uint32_t ifindex, const AttachedProgram& earlier, AttachMode mode);

    BpfSkeleton<xconnect_bpf> skeleton_;
    uint32_t program_id_ = 0;
    std::optional<ProgramPins> pins_;
    int possible_cpus_ = 0;
    CounterSlots counter_slots_;               // mirrors xc_counter_slots: only we write its owners
    std::map<uint32_t, AttachMode> attached_;  // ifindex -> mode, what we attached
};

}  // namespace xconnect
