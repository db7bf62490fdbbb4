#include "kernel_dataplane.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
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
    // Failed requests are reported by us, with context; libbpf's echo of the
    // kernel's extack ("XDP program already attached") is detail.
    const bool detail = message.find("Kernel error message") != std::string_view::npos;
    log::emit(level == LIBBPF_WARN && !detail ? log::Level::warning : log::Level::debug,
              "libbpf: ", message);
    return length;
}

std::string on_ifindex(std::string_view what, uint32_t ifindex) {
    return std::string(what) + " on ifindex " + std::to_string(ifindex);
}

uint32_t mode_flag(AttachMode mode) {
    return mode == AttachMode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

std::optional<bpf_prog_info> program_info(int program_fd) {
    bpf_prog_info info{};
    uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(program_fd, &info, &length) != 0) {
        return std::nullopt;
    }
    return info;
}

BpfSkeleton<xconnect_bpf> load_program() {
    libbpf_set_print(forward_libbpf_message);
    return BpfSkeleton<xconnect_bpf>::open_and_load("load XDP program");
}

}  // namespace

KernelDataplane::KernelDataplane(std::optional<std::filesystem::path> state_dir)
    : skeleton_(load_program()), counter_slots_(XC_COUNTER_SLOTS) {
    const auto info = program_info(program_fd());
    if (!info) {
        throw_errno("query XDP program id", "bpf_obj_get_info_by_fd");
    }
    program_id_ = info->id;
    if (state_dir) {
        try {
            pins_.emplace(*state_dir);
            pins_->pin_own(program_fd(), program_id_);
        } catch (const SystemError& error) {
            log::warning(error.what(),
                         "; running unpinned: a restarted xconnectd will not recognise this "
                         "one's programs");
            pins_.reset();
        }
    }
    possible_cpus_ = libbpf_num_possible_cpus();
    if (possible_cpus_ <= 0) {
        throw SystemError("count CPUs", "libbpf_num_possible_cpus", -possible_cpus_);
    }
}

KernelDataplane::~KernelDataplane() {
    while (!attached_.empty()) {
        detach(attached_.begin()->first);
    }
    if (pins_) {
        pins_->remove_all();
    }
}

int KernelDataplane::program_fd() const {
    return bpf_program__fd(skeleton_->progs.xconnect);
}

std::optional<AttachedProgram> KernelDataplane::attached_program(uint32_t ifindex) {
    LIBBPF_OPTS(bpf_xdp_query_opts, query);
    if (int rc = bpf_xdp_query(static_cast<int>(ifindex), 0, &query); rc != 0) {
        throw SystemError(on_ifindex("query XDP program", ifindex), "bpf_xdp_query", -rc);
    }
    AttachedProgram attached;
    if (query.drv_prog_id != 0) {
        attached = {query.drv_prog_id, AttachMode::native};
    } else if (query.skb_prog_id != 0) {
        attached = {query.skb_prog_id, AttachMode::generic};
    } else if (query.hw_prog_id != 0) {
        attached = {query.hw_prog_id, AttachMode::native};
    } else {
        return std::nullopt;
    }
    attached.earlier_xconnect = pins_ && pins_->earlier(attached.program_id).has_value();
    return attached;
}

void KernelDataplane::attach(uint32_t ifindex, AttachMode mode) {
    if (auto held = attached_.find(ifindex); held != attached_.end() && held->second == mode) {
        return;
    }
    // The common case costs one request: nothing is attached yet. Only when
    // something is (EBUSY; EEXIST: a program in the other mode) do we look.
    int rc = bpf_xdp_attach(static_cast<int>(ifindex), program_fd(),
                            XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), nullptr);
    if (rc == -EBUSY || rc == -EEXIST) {
        const auto current = attached_program(ifindex);
        if (current && current->program_id == program_id_) {
            if (current->mode == mode) {
                attached_[ifindex] = mode;
                return;
            }
            attached_[ifindex] = current->mode;
            detach(ifindex);
        } else if (current && current->earlier_xconnect) {
            replace_earlier(ifindex, *current, mode);
            attached_[ifindex] = mode;
            return;
        } else if (current) {
            rc = -EBUSY;  // someone else's: never replaced
        }
        if (!current || current->program_id == program_id_) {
            rc = bpf_xdp_attach(static_cast<int>(ifindex), program_fd(),
                                XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), nullptr);
        }
    }
    if (rc != 0) {
        throw SystemError(
            on_ifindex("attach XDP program in " + std::string(to_string(mode)) + " mode", ifindex),
            "bpf_xdp_attach", -rc);
    }
    attached_[ifindex] = mode;
}

void KernelDataplane::replace_earlier(uint32_t ifindex, const AttachedProgram& earlier,
                                      AttachMode mode) {
    const std::optional<int> old_program =
        pins_ ? pins_->earlier(earlier.program_id) : std::nullopt;
    if (!old_program) {
        throw SystemError(
            on_ifindex("take over XDP program id " + std::to_string(earlier.program_id), ifindex),
            "no pin of it in the state directory", ENOENT);
    }
    log::notice("ifindex ", ifindex, ": taking over XDP program id ", earlier.program_id,
                " left attached by an earlier xconnectd");
    LIBBPF_OPTS(bpf_xdp_attach_opts, expected, .old_prog_fd = *old_program);
    if (earlier.mode == mode) {
        // Atomic: the interface is never without a program.
        if (int rc = bpf_xdp_attach(static_cast<int>(ifindex), program_fd(),
                                    XDP_FLAGS_REPLACE | mode_flag(mode), &expected);
            rc != 0) {
            throw SystemError(on_ifindex("replace earlier XDP program", ifindex), "bpf_xdp_attach",
                              -rc);
        }
        return;
    }
    // Native and generic cannot coexist: remove the old one, then attach.
    if (int rc = bpf_xdp_detach(static_cast<int>(ifindex),
                                XDP_FLAGS_REPLACE | mode_flag(earlier.mode), &expected);
        rc != 0) {
        throw SystemError(on_ifindex("detach earlier XDP program", ifindex), "bpf_xdp_detach", -rc);
    }
    if (int rc = bpf_xdp_attach(static_cast<int>(ifindex), program_fd(),
                                XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), nullptr);
        rc != 0) {
        throw SystemError(
            on_ifindex("attach XDP program in " + std::string(to_string(mode)) + " mode", ifindex),
            "bpf_xdp_attach", -rc);
    }
}

void KernelDataplane::detach(uint32_t ifindex) noexcept {
    auto attached = attached_.find(ifindex);
    if (attached == attached_.end()) {
        return;
    }
    const AttachMode mode = attached->second;
    attached_.erase(attached);
    // Only if ours is still the one attached: never remove someone else's.
    LIBBPF_OPTS(bpf_xdp_attach_opts, expected, .old_prog_fd = program_fd());
    const int rc =
        bpf_xdp_detach(static_cast<int>(ifindex), XDP_FLAGS_REPLACE | mode_flag(mode), &expected);
    if (rc != 0 && rc != -ENODEV && rc != -EEXIST) {
        log::warning(on_ifindex("detach XDP program", ifindex),
                     ": bpf_xdp_detach: ", errno_text(-rc));
    }
}

void KernelDataplane::release_earlier_programs() noexcept {
    if (!pins_ || pins_->earlier_programs().empty()) {
        return;
    }
    // Every interface of the namespace: one that still runs an earlier
    // program exists now, or the kernel has dropped the program with it.
    std::unique_ptr<struct if_nameindex, decltype(&if_freenameindex)> interfaces(if_nameindex(),
                                                                                 if_freenameindex);
    for (const struct if_nameindex* interface = interfaces.get();
         interface && interface->if_index != 0; ++interface) {
        LIBBPF_OPTS(bpf_xdp_query_opts, query);
        const int ifindex = static_cast<int>(interface->if_index);
        if (bpf_xdp_query(ifindex, 0, &query) != 0) {
            continue;  // gone meanwhile
        }
        for (const auto& [id, mode] : {std::pair{query.drv_prog_id, XDP_FLAGS_DRV_MODE},
                                       std::pair{query.skb_prog_id, XDP_FLAGS_SKB_MODE}}) {
            const std::optional<int> earlier = id != 0 ? pins_->earlier(id) : std::nullopt;
            if (!earlier) {
                continue;
            }
            LIBBPF_OPTS(bpf_xdp_attach_opts, expected, .old_prog_fd = *earlier);
            if (int rc = bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | mode, &expected); rc != 0) {
                log::warning(interface->if_name, ": detach earlier xconnectd's XDP program id ", id,
                             ": bpf_xdp_detach: ", errno_text(-rc));
            } else {
                log::notice(interface->if_name, ": detached XDP program id ", id,
                            " of an earlier xconnectd: no pair uses the interface now");
            }
        }
    }
    while (!pins_->earlier_programs().empty()) {
        pins_->forget(pins_->earlier_programs().begin()->first);
    }
}

void KernelDataplane::create_counters(uint32_t from) {
    // Counters that exist are kept, wherever they are.
    std::vector<xc_port_counters> existing(possible_cpus_);
    if (counter_slots_.owned(from) || bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.xc_counters),
                                                          &from, existing.data()) == 0) {
        return;
    }
    if (const auto slot = counter_slots_.claim(from)) {
        std::vector<xc_counter_slot> per_cpu(
            possible_cpus_, xc_counter_slot{.owner = from, .reserved = 0, .counters = {}});
        if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.xc_counter_slots), &*slot,
                                per_cpu.data(), BPF_ANY) != 0) {
            const int error = errno;
            counter_slots_.release(from);
            throw SystemError(on_ifindex("claim counter slot", from), "bpf_map_update_elem", error);
        }
        return;
    }
    // Another interface owns the slot: count in the hash map.
    const std::vector<xc_port_counters> zero(possible_cpus_);
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.xc_counters), &from, zero.data(),
                            BPF_NOEXIST) != 0 &&
        errno != EEXIST) {
        throw_errno(on_ifindex("create counters", from), "bpf_map_update_elem");
    }
}

void KernelDataplane::connect(uint32_t from, uint32_t to) {
    // Counters first, so the first redirected frame is counted.
    create_counters(from);
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
    if (const auto slot = counter_slots_.release(from)) {
        const std::vector<xc_counter_slot> free_slot(possible_cpus_);
        if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.xc_counter_slots), &*slot,
                                free_slot.data(), BPF_ANY) != 0) {
            log::warning(on_ifindex("free counter slot", from),
                         ": bpf_map_update_elem: ", errno_text(errno));
        }
    }
}

uint32_t KernelDataplane::port_capacity() const {
    // XC_MAX_PORTS, as the loaded map says: xc_counters holds as many.
    return bpf_map__max_entries(skeleton_->maps.xc_ports);
}

Counters KernelDataplane::counters(uint32_t from) const {
    Counters sum;
    if (auto slot = counter_slots_.owned(from)) {
        std::vector<xc_counter_slot> per_cpu(possible_cpus_);
        if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.xc_counter_slots), &*slot,
                                per_cpu.data()) != 0) {
            throw_errno(on_ifindex("read counters", from), "bpf_map_lookup_elem");
        }
        for (const xc_counter_slot& cpu : per_cpu) {
            sum += Counters{cpu.counters.packets, cpu.counters.bytes};
        }
        return sum;
    }
    std::vector<xc_port_counters> per_cpu(possible_cpus_);
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.xc_counters), &from, per_cpu.data()) != 0) {
        if (errno == ENOENT) {
            return {};
        }
        throw_errno(on_ifindex("read counters", from), "bpf_map_lookup_elem");
    }
    for (const xc_port_counters& cpu : per_cpu) {
        sum += Counters{cpu.packets, cpu.bytes};
    }
    return sum;
}

}  // namespace xconnect
