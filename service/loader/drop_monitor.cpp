#include "drop_monitor.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <sys/stat.h>

#include <numeric>
#include <string_view>
#include <vector>

#include "capabilities.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "map_keys.hpp"
#include "pinned_maps.hpp"
#include "xconnect_drops.h"
#include "xconnect_drops.skel.h"

namespace xconnect {

namespace {

uint32_t netns_inode() {
    struct stat netns {};
    if (stat("/proc/self/ns/net", &netns) != 0) {
        throw_errno("identify this network namespace", "stat /proc/self/ns/net");
    }
    return static_cast<uint32_t>(netns.st_ino);
}

constexpr int cap_perfmon = 38;

BpfSkeleton<xconnect_drops_bpf> load(const PinnedState* state, bool devmap_xmit) {
    auto skeleton = BpfSkeleton<xconnect_drops_bpf>::open("open the drop-accounting programs");
    skeleton->rodata->xc_netns_inode = netns_inode();
    std::optional<PinnedMaps> maps;
    if (state) {
        maps.emplace(skeleton->obj, *state);
    }
    try {
        skeleton.load("load the drop-accounting programs");
    } catch (const SystemError& error) {
        if (error.error_number() == EPERM && !CapabilitySet::effective().has(cap_perfmon)) {
            throw SystemError(
                "load the drop-accounting programs (raw tracepoints need "
                "CAP_PERFMON, which this process lacks)",
                "skeleton load", EPERM);
        }
        throw;
    }
    if (maps) {
        maps->pin_created();
    }
    // Enabled, xdp:xdp_devmap_xmit costs a call per native batch even when
    // nothing is dropped: measured, about 1.5 % of the rate between veths,
    // where every batch holds one frame.
    bpf_program__set_autoattach(skeleton->progs.xconnect_devmap_xmit, devmap_xmit);
    if (const int rc = xconnect_drops_bpf::attach(skeleton.get()); rc != 0) {
        throw SystemError(std::string("attach the drop-accounting programs to "
                                      "xdp:xdp_redirect_err") +
                              (devmap_xmit ? " and xdp:xdp_devmap_xmit" : ""),
                          "bpf_raw_tracepoint_open", -rc);
    }
    return skeleton;
}

}  // namespace

bool kernel_checks_native_targets_at_enqueue() {
    struct BtfFree {
        void operator()(btf* types) const noexcept { btf__free(types); }
    };
    const std::unique_ptr<btf, BtfFree> vmlinux(btf__load_vmlinux_btf());
    if (!vmlinux) {
        return false;  // no BTF: the drop-accounting programs do not load either
    }
    const int id = btf__find_by_name_kind(vmlinux.get(), "net_device", BTF_KIND_STRUCT);
    if (id <= 0) {
        return false;
    }
    const btf_type* type = btf__type_by_id(vmlinux.get(), id);
    const btf_member* member = btf_members(type);
    for (uint16_t n = 0; n < btf_vlen(type); ++n, ++member) {
        if (std::string_view(btf__name_by_offset(vmlinux.get(), member->name_off)) ==
            "xdp_features") {
            return true;
        }
    }
    return false;
}

DropMonitor::DropMonitor(const PinnedState* state, bool count_ring_drops)
    : DropMonitor(state, count_ring_drops, !kernel_checks_native_targets_at_enqueue()) {
}

DropMonitor::DropMonitor(const PinnedState* state, bool count_ring_drops, bool old_kernel)
    : skeleton_(load(state, count_ring_drops || old_kernel)),
      counts_ring_drops_(count_ring_drops || old_kernel),
      for_old_kernel_(old_kernel && !count_ring_drops) {
    possible_cpus_ = libbpf_num_possible_cpus();
    if (possible_cpus_ <= 0) {
        throw SystemError("count CPUs", "libbpf_num_possible_cpus", -possible_cpus_);
    }
    events_.reset(ring_buffer__new(
        bpf_map__fd(skeleton_->maps.xc_drop_events), [](void*, void*, size_t) { return 0; },
        nullptr, nullptr));
    if (!events_) {
        throw_errno("open the drop events ring", "ring_buffer__new");
    }
    consume();
    rearm();
}

DropMonitor::~DropMonitor() = default;

void DropMonitor::watch(uint32_t ingress) {
    const xc_drop_port armed{.armed = 1, .reserved = 0};
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.xc_drop_ports), &ingress, &armed,
                            BPF_ANY) != 0) {
        throw_errno("count the drops of ifindex " + std::to_string(ingress),
                    "bpf_map_update_elem(xc_drop_ports)");
    }
}

void DropMonitor::unwatch(uint32_t ingress) noexcept {
    bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.xc_drop_ports), &ingress);
    bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.xc_drop_totals), &ingress);
    const int drops = bpf_map__fd(skeleton_->maps.xc_drops);
    for (const xc_drop_key& key : drop_keys()) {
        if (key.ingress == ingress) {
            bpf_map_delete_elem(drops, &key);
        }
    }
}

uint64_t DropMonitor::dropped(uint32_t ingress) const {
    std::vector<uint64_t> per_cpu(possible_cpus_);
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.xc_drop_totals), &ingress,
                            per_cpu.data()) != 0) {
        if (errno == ENOENT) {
            return 0;  // nothing dropped yet
        }
        throw_errno("read the drops of ifindex " + std::to_string(ingress),
                    "bpf_map_lookup_elem(xc_drop_totals)");
    }
    return std::accumulate(per_cpu.begin(), per_cpu.end(), uint64_t{0});
}

DropsByPort DropMonitor::drops() const {
    DropsByPort result;
    const int drops = bpf_map__fd(skeleton_->maps.xc_drops);
    std::vector<uint64_t> per_cpu(possible_cpus_);
    for (const xc_drop_key& key : drop_keys()) {
        if (bpf_map_lookup_elem(drops, &key, per_cpu.data()) == 0) {
            result[key.ingress][key.error] +=
                std::accumulate(per_cpu.begin(), per_cpu.end(), uint64_t{0});
        }
    }
    return result;
}

std::vector<xc_drop_key> DropMonitor::drop_keys() const {
    return map_keys<xc_drop_key>(bpf_map__fd(skeleton_->maps.xc_drops),
                                 bpf_map__max_entries(skeleton_->maps.xc_drops));
}

std::string DropMonitor::description() const {
    std::string text = "redirects the kernel refused (xdp:xdp_redirect_err)";
    if (counts_ring_drops_) {
        text += ", and frames drivers left of native batches (xdp:xdp_devmap_xmit, once per batch";
        text += for_old_kernel_ ? ": this kernel checks native targets only when it transmits)"
                                : ": --count-ring-drops)";
    }
    return text;
}

int DropMonitor::events_fd() const {
    return ring_buffer__epoll_fd(events_.get());
}

void DropMonitor::consume() noexcept {
    ring_buffer__consume(events_.get());
}

void DropMonitor::rearm() noexcept {
    const int ports = bpf_map__fd(skeleton_->maps.xc_drop_ports);
    const xc_drop_port armed{.armed = 1, .reserved = 0};
    for (const uint32_t ingress :
         map_keys<uint32_t>(ports, bpf_map__max_entries(skeleton_->maps.xc_drop_ports))) {
        bpf_map_update_elem(ports, &ingress, &armed, BPF_EXIST);
    }
}

}  // namespace xconnect
