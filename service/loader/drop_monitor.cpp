#include "drop_monitor.hpp"

#include <bpf/bpf.h>
#include <sys/stat.h>

#include <numeric>
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

BpfSkeleton<xconnect_drops_bpf> load(const PinnedState* state) {
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
    if (const int rc = xconnect_drops_bpf::attach(skeleton.get()); rc != 0) {
        throw SystemError(
            "attach the drop-accounting programs to xdp:xdp_redirect_err and "
            "xdp:xdp_devmap_xmit",
            "bpf_raw_tracepoint_open", -rc);
    }
    return skeleton;
}

}  // namespace

DropMonitor::DropMonitor(const PinnedState* state) : skeleton_(load(state)) {
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
