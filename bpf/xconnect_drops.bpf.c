// SPDX-License-Identifier: GPL-2.0
/* Drop accounting: the kernel's own account of redirects that failed, read
 * from the two tracepoints xdp-monitor reads, for the ingress interfaces of
 * xconnect's pairs (xc_drop_ports):
 * - xdp:xdp_redirect_err: a redirect refused when it was made (target down,
 *   frame longer than the target's MTU, a target without ndo_xdp_xmit), in
 *   native and generic mode alike;
 * - xdp:xdp_devmap_xmit: a batch of native redirects the target's driver did
 *   not take (a veth whose peer has no NAPI, a full ring).
 * Raw tracepoints (no tracefs, no perf events); loading them needs CAP_PERFMON. */
#include <linux/bpf.h>
/* bpf_helpers.h needs the types linux/bpf.h defines. */
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "xconnect_drops.h"

/* Only the fields read, relocated against the running kernel's BTF (CO-RE). */
struct ns_common {
    unsigned int inum;
} __attribute__((preserve_access_index));
struct net {
    struct ns_common ns;
} __attribute__((preserve_access_index));
typedef struct {
    struct net* net;
} possible_net_t;
struct net_device {
    int ifindex;
    possible_net_t nd_net;
} __attribute__((preserve_access_index));

/* The daemon's network namespace (its inode): the tracepoints fire for every
 * namespace, and ifindexes repeat across them. Set before loading. */
const volatile __u32 xc_netns_inode = 0;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, struct xc_drop_key);
    __type(value, __u64);
    __uint(max_entries, XC_MAX_DROP_KEYS);
} xc_drops SEC(".maps");

/* ingress ifindex -> every frame of xc_drops counted for it: the total
 * without a walk of xc_drops. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, XC_MAX_PORTS);
} xc_drop_totals SEC(".maps");

/* ingress ifindex -> struct xc_drop_port; entries made by user space. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct xc_drop_port);
    __uint(max_entries, XC_MAX_PORTS);
} xc_drop_ports SEC(".maps");

/* Wake-ups: the ingress ifindex of an armed port that dropped. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} xc_drop_events SEC(".maps");

/* Per CPU: no lock. The first CPU to count a key creates it. */
static __always_inline void xc_add(void* map, const void* key, __u64 frames) {
    __u64* count = bpf_map_lookup_elem(map, key);
    if (count) {
        *count += frames;
        return;
    }
    bpf_map_update_elem(map, key, &frames, BPF_NOEXIST);
    count = bpf_map_lookup_elem(map, key);
    if (count && *count != frames) { /* another CPU's entry came first */
        *count += frames;
    }
}

static __always_inline void xc_count(const struct net_device* dev, int error, __u64 frames) {
    if (BPF_CORE_READ(dev, nd_net.net, ns.inum) != xc_netns_inode) {
        return;
    }
    __u32 ingress = BPF_CORE_READ(dev, ifindex);
    struct xc_drop_port* port = bpf_map_lookup_elem(&xc_drop_ports, &ingress);
    if (!port) {
        return; /* not an interface of ours */
    }
    struct xc_drop_key key = {.ingress = ingress, .error = error < 0 ? -error : error};
    xc_add(&xc_drops, &key, frames);
    xc_add(&xc_drop_totals, &ingress, frames);
    if (port->armed) {
        port->armed = 0;
        bpf_ringbuf_output(&xc_drop_events, &ingress, sizeof ingress, 0);
    }
}

/* (dev, xdp, tgt, err, map_type, map_id, index): for a redirect through a
 * DEVMAP_HASH, index is the key looked up, the ingress ifindex. */
SEC("raw_tp/xdp_redirect_err")
int xconnect_redirect_err(struct bpf_raw_tracepoint_args* ctx) {
    xc_count((const struct net_device*)ctx->args[0], (int)ctx->args[3], 1);
    return 0;
}

/* (from_dev, to_dev, sent, drops, err), once per flushed batch. */
SEC("raw_tp/xdp_devmap_xmit")
int xconnect_devmap_xmit(struct bpf_raw_tracepoint_args* ctx) {
    const int drops = (int)ctx->args[3];
    if (drops <= 0) {
        return 0;
    }
    const int error = (int)ctx->args[4];
    /* A driver that took fewer frames than offered without an error: ENOSPC. */
    xc_count((const struct net_device*)ctx->args[0], error ? error : -28, (__u64)drops);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
