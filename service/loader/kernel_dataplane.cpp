#include "kernel_dataplane.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <cerrno>
#include <cstdarg>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/log.hpp"
#include "xconnect.skel.h"
#include "xconnect_maps.h"

namespace xconnect {

namespace {

int forward_libbpf_message(libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG) {
        return 0;
    }
    char buffer[1024];
    const int length = std::vsnprintf(buffer, sizeof buffer, format, args);
    std::string_view message(buffer, length > 0 ? std::min<size_t>(length, sizeof buffer - 1) : 0);
    while (!message.empty() && message.back() == '\n') {
        message.remove_suffix(1);
    }
    log::emit(level == LIBBPF_WARN ? log::Level::warning : log::Level::info, "libbpf: ", message);
    return length;
}

std::string on_ifindex(std::string_view what, uint32_t ifindex) {
    return std::string(what) + " on ifindex " + std::to_string(ifindex);
}

}  // namespace

void KernelDataplane::SkeletonDeleter::operator()(xconnect_bpf* skeleton) const noexcept {
    xconnect_bpf::destroy(skeleton);
}

KernelDataplane::KernelDataplane() {
    libbpf_set_print(forward_libbpf_message);
    skeleton_.reset(xconnect_bpf::open_and_load());
    if (!skeleton_) {
        throw_errno("load XDP program", "xconnect_bpf::open_and_load");
    }
    bpf_prog_info info{};
    uint32_t info_length = sizeof info;
    if (bpf_obj_get_info_by_fd(program_fd(), &info, &info_length) != 0) {
        throw_errno("query XDP program id", "bpf_obj_get_info_by_fd");
    }
    program_id_ = info.id;
    possible_cpus_ = libbpf_num_possible_cpus();
    if (possible_cpus_ <= 0) {
        throw SystemError("count CPUs", "libbpf_num_possible_cpus", -possible_cpus_);
    }
}

KernelDataplane::~KernelDataplane() = default;

int KernelDataplane::program_fd() const {
    return bpf_program__fd(skeleton_->progs.xconnect);
}

std::optional<AttachedProgram> KernelDataplane::attached_program(uint32_t ifindex) {
    LIBBPF_OPTS(bpf_xdp_query_opts, query);
    if (int rc = bpf_xdp_query(static_cast<int>(ifindex), 0, &query); rc != 0) {
        throw SystemError(on_ifindex("query XDP program", ifindex), "bpf_xdp_query", -rc);
    }
    if (query.drv_prog_id != 0) {
        return AttachedProgram{query.drv_prog_id, AttachMode::native};
    }
    if (query.skb_prog_id != 0) {
        return AttachedProgram{query.skb_prog_id, AttachMode::generic};
    }
    if (query.hw_prog_id != 0) {
        return AttachedProgram{query.hw_prog_id, AttachMode::native};
    }
    return std::nullopt;
}

void KernelDataplane::attach(uint32_t ifindex, AttachMode mode) {
    if (auto held = attachments_.find(ifindex); held != attachments_.end()) {
        if (held->second.mode == mode) {
            return;
        }
        attachments_.erase(held);
    }
    LIBBPF_OPTS(bpf_link_create_opts, options,
                .flags = mode == AttachMode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    const int link = bpf_link_create(program_fd(), static_cast<int>(ifindex), BPF_XDP, &options);
    if (link < 0) {
        throw SystemError(
            on_ifindex("attach XDP program in " + std::string(to_string(mode)) + " mode", ifindex),
            "bpf_link_create", -link);
    }
    attachments_.emplace(ifindex, Attachment{UniqueFd(link), mode});
}

void KernelDataplane::detach(uint32_t ifindex) noexcept {
    // Closing the last fd of an unpinned bpf_link detaches the program.
    attachments_.erase(ifindex);
}

void KernelDataplane::connect(uint32_t from, uint32_t to) {
    // Counters first, so the first redirected frame is counted.
    const std::vector<xc_port_counters> zero(possible_cpus_);
    const int counters_fd = bpf_map__fd(skeleton_->maps.xc_counters);
    if (bpf_map_update_elem(counters_fd, &from, zero.data(), BPF_NOEXIST) != 0 && errno != EEXIST) {
        throw_errno(on_ifindex("create counters", from), "bpf_map_update_elem");
    }
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.xc_ports), &from, &to, BPF_ANY) != 0) {
        throw_errno(on_ifindex("redirect to ifindex " + std::to_string(to), from),
                    "bpf_map_update_elem");
    }
}

void KernelDataplane::disconnect(uint32_t from) noexcept {
    for (bpf_map* map : {skeleton_->maps.xc_ports, skeleton_->maps.xc_counters}) {
        if (bpf_map_delete_elem(bpf_map__fd(map), &from) != 0 && errno != ENOENT) {
            log::warning(on_ifindex("remove map entry", from),
                         ": bpf_map_delete_elem: ", errno_text(errno));
        }
    }
}

Counters KernelDataplane::counters(uint32_t from) const {
    std::vector<xc_port_counters> per_cpu(possible_cpus_);
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.xc_counters), &from, per_cpu.data()) != 0) {
        if (errno == ENOENT) {
            return {};
        }
        throw_errno(on_ifindex("read counters", from), "bpf_map_lookup_elem");
    }
    Counters sum;
    for (const xc_port_counters& cpu : per_cpu) {
        sum += Counters{cpu.packets, cpu.bytes};
    }
    return sum;
}

}  // namespace xconnect
