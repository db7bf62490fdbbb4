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
#include "map_keys.hpp"
#include "pinned_maps.hpp"
#include "xconnect.skel.h"
#include "xconnect_maps.h"
#include "xdp_attachments.hpp"

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

std::optional<PinnedState> open_state(const std::optional<std::filesystem::path>& directory) {
    if (!directory) {
        return std::nullopt;
    }
    try {
        return std::optional<PinnedState>(std::in_place, *directory);
    } catch (const SystemError& error) {
        log::warning(error.what(),
                     "; running unpinned: a restarted xconnectd will lose frames and counters");
        return std::nullopt;
    }
}

BpfSkeleton<xconnect_bpf> load_program(const std::optional<PinnedState>& state) {
    libbpf_set_print(forward_libbpf_message);
    auto skeleton = BpfSkeleton<xconnect_bpf>::open("open XDP program");
    if (!state) {
        skeleton.load("load XDP program");
        return skeleton;
    }
    const PinnedMaps maps(skeleton->obj, *state);
    skeleton.load("load XDP program");
    maps.pin_created();
    return skeleton;
}

// Per-CPU values as the kernel copies them: each CPU's rounded up to 8 bytes.
template <typename Value>
constexpr bool percpu_layout_is_plain = sizeof(Value) % 8 == 0;
static_assert(percpu_layout_is_plain<xc_counter_slot> && percpu_layout_is_plain<xc_port_counters>);

}  // namespace

KernelDataplane::KernelDataplane(std::optional<std::filesystem::path> state_dir, OnExit on_exit,
                                 bool count_ring_drops)
    : on_exit_(on_exit),
      state_(open_state(state_dir)),
      skeleton_(load_program(state_)),
      counter_slots_(XC_COUNTER_SLOTS) {
    possible_cpus_ = libbpf_num_possible_cpus();
    if (possible_cpus_ <= 0) {
        throw SystemError("count CPUs", "libbpf_num_possible_cpus", -possible_cpus_);
    }
    adopt_or_pin_program();
    start_drop_accounting(count_ring_drops);
    if (state_) {
        read_counter_owners();
        take_inventory();
    }
}

void KernelDataplane::start_drop_accounting(bool count_ring_drops) {
    try {
        drop_monitor_ =
            std::make_unique<DropMonitor>(state_ ? &*state_ : nullptr, count_ring_drops);
        log::notice("counting dropped frames: ", drop_monitor_->description());
    } catch (const SystemError& error) {
        log::warning("drop accounting: ", error.what(),
                     "; frames the kernel fails to deliver are not counted");
    }
}

void KernelDataplane::adopt_or_pin_program() {
    const int loaded_fd = bpf_program__fd(skeleton_->progs.xconnect);
    const auto loaded = identify_program(loaded_fd);
    if (!loaded) {
        throw_errno("query XDP program id", "bpf_obj_get_info_by_fd");
    }
    program_id_ = loaded->id;
    if (!state_) {
        return;
    }
    if (auto own = state_->take_own(*loaded)) {
        // The same code with the same maps: it keeps running as it is, and
        // the one just loaded is dropped with the skeleton.
        adopted_program_ = std::move(*own);
        program_id_ = identify_program(adopted_program_.get()).value_or(*loaded).id;
        log::notice("kept XDP program id ", program_id_,
                    " and its maps, left by an earlier xconnectd of this build");
        return;
    }
    try {
        state_->pin_own(loaded_fd, program_id_);
    } catch (const SystemError& error) {
        log::warning(error.what(),
                     "; a restarted xconnectd will replace this one's program on every interface");
    }
}

void KernelDataplane::read_counter_owners() {
    std::vector<xc_counter_slot> per_cpu(possible_cpus_);
    const int slots = bpf_map__fd(skeleton_->maps.xc_counter_slots);
    for (uint32_t slot = 0; slot < counter_slots_.slot_count(); ++slot) {
        if (bpf_map_lookup_elem(slots, &slot, per_cpu.data()) != 0) {
            throw_errno("read counter slot " + std::to_string(slot), "bpf_map_lookup_elem");
        }
        const uint32_t owner = per_cpu.front().owner;
        if (owner != 0 && counter_slots_.claim(owner) != slot) {
            log::warning("counter slot ", slot, " names ifindex ", owner,
                         ", which cannot count there; freeing it");
            const std::vector<xc_counter_slot> free_slot(possible_cpus_);
            bpf_map_update_elem(slots, &slot, free_slot.data(), BPF_ANY);
        }
    }
}

void KernelDataplane::take_inventory() {
    std::map<uint32_t, InheritedPort> found;
    auto port = [&](uint32_t ifindex) -> InheritedPort& {
        InheritedPort& entry = found[ifindex];
        entry.ifindex = ifindex;
        return entry;
    };
    const int ports = bpf_map__fd(skeleton_->maps.xc_ports);
    for (const uint32_t ingress :
         map_keys<uint32_t>(ports, bpf_map__max_entries(skeleton_->maps.xc_ports))) {
        uint32_t peer = 0;
        if (bpf_map_lookup_elem(ports, &ingress, &peer) == 0) {
            port(ingress).peer = peer;
        }
    }
    // Counters whose interfaces vanished have no entry any more: still ours to remove.
    for (const uint32_t ingress :
         map_keys<uint32_t>(bpf_map__fd(skeleton_->maps.xc_counters),
                            bpf_map__max_entries(skeleton_->maps.xc_counters))) {
        port(ingress);
    }
    for (const uint32_t owner : counter_slots_.owners()) {
        port(owner);
    }
    const std::vector<uint32_t> earlier = state_->earlier_ids();
    if (adopted_program_ || !earlier.empty()) {
        for (const XdpAttachment& attachment : xdp_attachments()) {
            const bool ours = adopted_program_ && attachment.program_id == program_id_;
            if (!ours && !state_->earlier(attachment.program_id)) {
                continue;
            }
            InheritedPort& entry = port(attachment.ifindex);
            entry.attached = attachment.mode;
            entry.current_program = ours;
            if (ours) {
                attached_[attachment.ifindex] = attachment.mode;
            }
        }
    }
    for (auto& [ifindex, entry] : found) {
        inherited_.push_back(entry);
        if (entry.peer && drop_monitor_) {
            try {
                drop_monitor_->watch(ifindex);  // re-armed: the earlier one may not have
            } catch (const SystemError& error) {
                log::warning("drop accounting: ", error.what());
            }
        }
    }
    if (!inherited_.empty()) {
        log::info("an earlier xconnectd left ", inherited_.size(),
                  " interfaces in the dataplane; each keeps forwarding until the configuration "
                  "says what to keep");
    }
}

KernelDataplane::~KernelDataplane() {
    if (on_exit_ == OnExit::keep) {
        return;  // attached and pinned: the next xconnectd takes it from here
    }
    while (!attached_.empty()) {
        detach(attached_.begin()->first);
    }
    release_earlier();
    if (state_) {
        state_->remove_all();
    }
}

std::optional<std::filesystem::path> KernelDataplane::state_directory() const {
    return state_ ? std::optional(state_->directory()) : std::nullopt;
}

int KernelDataplane::program_fd() const {
    return adopted_program_ ? adopted_program_.get() : bpf_program__fd(skeleton_->progs.xconnect);
}

CaptureMaps KernelDataplane::capture_maps() const {
    return {.control = bpf_map__fd(skeleton_->maps.xc_capture_switch),
            .ports = bpf_map__fd(skeleton_->maps.xc_capture_ports),
            .ring = bpf_map__fd(skeleton_->maps.xc_capture_ring)};
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
    attached.earlier_xconnect = state_ && state_->earlier(attached.program_id).has_value();
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
        state_ ? state_->earlier(earlier.program_id) : std::nullopt;
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

void KernelDataplane::release_earlier() noexcept {
    if (!state_) {
        return;
    }
    if (const std::vector<uint32_t> earlier = state_->earlier_ids(); !earlier.empty()) {
        // An interface that still runs an earlier program exists now, or the
        // kernel has dropped the program with it.
        std::vector<XdpAttachment> attachments;
        try {
            attachments = xdp_attachments();
        } catch (const std::exception& error) {
            log::warning("list interfaces to detach earlier xconnectds' programs: ", error.what());
        }
        for (const XdpAttachment& attachment : attachments) {
            const std::optional<int> program = state_->earlier(attachment.program_id);
            if (!program) {
                continue;
            }
            if (int rc = detach_if_expected(attachment.ifindex, attachment.mode, *program);
                rc != 0) {
                log::warning(attachment.name, ": detach earlier xconnectd's XDP program id ",
                             attachment.program_id, ": bpf_xdp_detach: ", errno_text(-rc));
            } else {
                log::notice(attachment.name, ": detached XDP program id ", attachment.program_id,
                            " of an earlier xconnectd: no pair uses the interface now");
            }
        }
        for (uint32_t id : earlier) {
            state_->forget(id);
        }
    }
    // The programs of other layouts are gone from every interface now, so
    // their counters no longer change: carried over, then unpinned.
    for (const std::filesystem::path& layout : state_->other_layouts()) {
        carry_counters_from(layout);
    }
    state_->forget_other_layouts();
}

void KernelDataplane::carry_counters_from(const std::filesystem::path& layout) noexcept {
    // The per-interface counters of another layout, if their maps are of a
    // shape this build can read (keyed by ifindex, values as ours).
    std::map<uint32_t, xc_port_counters> found;
    auto open_map = [&](const char* name, uint32_t value_size) {
        UniqueFd map(bpf_obj_get((layout / name).c_str()));
        bpf_map_info info{};
        uint32_t length = sizeof info;
        if (!map || bpf_obj_get_info_by_fd(map.get(), &info, &length) != 0 ||
            info.key_size != sizeof(uint32_t) || info.value_size != value_size) {
            log::warning((layout / name).string(),
                         ": not readable as this build's counters; they are not carried over");
            return std::pair{UniqueFd(), 0u};
        }
        return std::pair{std::move(map), info.max_entries};
    };
    auto add = [&](uint32_t ifindex, uint64_t packets, uint64_t bytes) {
        found[ifindex].packets += packets;
        found[ifindex].bytes += bytes;
    };
    if (auto [slots, count] = open_map("xc_counter_slots", sizeof(xc_counter_slot)); slots) {
        std::vector<xc_counter_slot> per_cpu(possible_cpus_);
        for (uint32_t slot = 0; slot < count; ++slot) {
            if (bpf_map_lookup_elem(slots.get(), &slot, per_cpu.data()) == 0 &&
                per_cpu.front().owner != 0) {
                for (const xc_counter_slot& cpu : per_cpu) {
                    add(per_cpu.front().owner, cpu.counters.packets, cpu.counters.bytes);
                }
            }
        }
    }
    if (auto [hash, count] = open_map("xc_counters", sizeof(xc_port_counters)); hash) {
        std::vector<xc_port_counters> per_cpu(possible_cpus_);
        for (const uint32_t ifindex : map_keys<uint32_t>(hash.get(), count)) {
            if (bpf_map_lookup_elem(hash.get(), &ifindex, per_cpu.data()) == 0) {
                for (const xc_port_counters& cpu : per_cpu) {
                    add(ifindex, cpu.packets, cpu.bytes);
                }
            }
        }
    }
    unsigned carried = 0;
    for (const auto& [ifindex, counters] : found) {
        try {
            if (counter_slots_.owned(ifindex) || attached_.contains(ifindex)) {
                add_to_counters(ifindex, counters);
                ++carried;
            }
        } catch (const SystemError& error) {
            log::warning(error.what(), "; counters of ", layout.filename().string(),
                         " not carried over for it");
        }
    }
    if (carried > 0) {
        log::notice("carried the counters of ", carried,
                    carried == 1 ? " interface" : " interfaces", " over from ",
                    layout.filename().string());
    }
}

void KernelDataplane::add_to_counters(uint32_t ifindex, const xc_port_counters& carried) {
    // Added to one CPU's share, read and written back: the program may count
    // a frame on that CPU meanwhile, so one in flight can go uncounted.
    if (const auto slot = counter_slots_.owned(ifindex)) {
        const int slots = bpf_map__fd(skeleton_->maps.xc_counter_slots);
        std::vector<xc_counter_slot> per_cpu(possible_cpus_);
        if (bpf_map_lookup_elem(slots, &*slot, per_cpu.data()) != 0) {
            throw_errno(on_ifindex("read counters", ifindex), "bpf_map_lookup_elem");
        }
        per_cpu.front().counters.packets += carried.packets;
        per_cpu.front().counters.bytes += carried.bytes;
        if (bpf_map_update_elem(slots, &*slot, per_cpu.data(), BPF_EXIST) != 0) {
            throw_errno(on_ifindex("carry counters over", ifindex), "bpf_map_update_elem");
        }
        return;
    }
    const int hash = bpf_map__fd(skeleton_->maps.xc_counters);
    std::vector<xc_port_counters> per_cpu(possible_cpus_);
    if (bpf_map_lookup_elem(hash, &ifindex, per_cpu.data()) != 0) {
        throw_errno(on_ifindex("read counters", ifindex), "bpf_map_lookup_elem");
    }
    per_cpu.front().packets += carried.packets;
    per_cpu.front().bytes += carried.bytes;
    if (bpf_map_update_elem(hash, &ifindex, per_cpu.data(), BPF_EXIST) != 0) {
        throw_errno(on_ifindex("carry counters over", ifindex), "bpf_map_update_elem");
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
    if (drop_monitor_) {
        drop_monitor_->watch(from);
    }
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.xc_ports), &from, &to, BPF_ANY) != 0) {
        throw_errno(on_ifindex("redirect to ifindex " + std::to_string(to), from),
                    "bpf_map_update_elem");
    }
}

void KernelDataplane::disconnect(uint32_t from) noexcept {
    if (drop_monitor_) {
        drop_monitor_->unwatch(from);
    }
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

DropsByPort KernelDataplane::drops() const {
    return drop_monitor_ ? drop_monitor_->drops() : DropsByPort{};
}

Counters KernelDataplane::counters(uint32_t from) const {
    Counters sum;
    sum.dropped = drop_monitor_ ? drop_monitor_->dropped(from) : 0;
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
