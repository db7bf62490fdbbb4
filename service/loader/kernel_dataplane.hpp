#pragma once

// The real kernel behind the engine's Dataplane seam: the XDP program loaded
// once from the embedded skeleton, attached to many interfaces through
// bpf_links (which the kernel drops if the daemon dies, and which nobody else
// can replace behind our back), redirect and counter maps updated in place.

#include <cstdint>
#include <map>
#include <memory>

#include "common/unique_fd.hpp"
#include "engine/dataplane.hpp"

struct xconnect_bpf;

namespace xconnect {

class KernelDataplane final : public Dataplane {
  public:
    // Loads the program and creates its maps. Throws SystemError.
    KernelDataplane();
    ~KernelDataplane() override;
    KernelDataplane(const KernelDataplane&) = delete;
    KernelDataplane& operator=(const KernelDataplane&) = delete;

    uint32_t program_id() const override { return program_id_; }
    std::optional<AttachedProgram> attached_program(uint32_t ifindex) override;
    void attach(uint32_t ifindex, AttachMode mode) override;
    void detach(uint32_t ifindex) noexcept override;
    void connect(uint32_t from, uint32_t to) override;
    void disconnect(uint32_t from) noexcept override;
    Counters counters(uint32_t from) const override;

    // For tests that drive the program directly (BPF_PROG_TEST_RUN).
    int program_fd() const;

  private:
    struct SkeletonDeleter {
        void operator()(xconnect_bpf* skeleton) const noexcept;
    };
    struct Attachment {
        UniqueFd link;
        AttachMode mode;
    };

    std::unique_ptr<xconnect_bpf, SkeletonDeleter> skeleton_;
    uint32_t program_id_ = 0;
    int possible_cpus_ = 0;
    std::map<uint32_t, Attachment> attachments_;  // by ifindex
};

}  // namespace xconnect
