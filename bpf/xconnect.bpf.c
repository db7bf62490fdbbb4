// SPDX-License-Identifier: GPL-2.0
/* One XDP program for every cross-connected interface: redirect each frame to
 * the peer of its ingress interface, and count what was redirected. */
#include <linux/bpf.h>
/* bpf_helpers.h needs the types linux/bpf.h defines. */
#include <bpf/bpf_helpers.h>

#include "xconnect_maps.h"

/* ingress ifindex -> egress ifindex. */
struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
    __uint(max_entries, XC_MAX_PORTS);
} xc_ports SEC(".maps");

/* ifindex & (XC_COUNTER_SLOTS - 1) -> per-CPU counters of the owning ifindex. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct xc_counter_slot);
    __uint(max_entries, XC_COUNTER_SLOTS);
} xc_counter_slots SEC(".maps");

/* ingress ifindex -> per-CPU counters, for ifindexes whose slot is taken;
 * entries are created by user space. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u32);
    __type(value, struct xc_port_counters);
    __uint(max_entries, XC_MAX_PORTS);
} xc_counters SEC(".maps");

/* A build stamp in the program's instructions, so a test can build a program
 * that differs from this one (another tag) and does the same. 0: none. */
#ifndef XC_PROGRAM_VARIANT
#define XC_PROGRAM_VARIANT 0
#endif

SEC("xdp")
int xconnect(struct xdp_md* ctx) {
    __u32 ingress = ctx->ingress_ifindex;
#if XC_PROGRAM_VARIANT != 0
    __u32 variant = XC_PROGRAM_VARIANT;
    asm volatile("" : "+r"(variant)); /* kept: an immediate the verifier sees */
#endif
    long action = bpf_redirect_map(&xc_ports, ingress, XC_MISS_ACTION);

    if (action == XDP_REDIRECT) {
        __u32 slot_index = ingress & (XC_COUNTER_SLOTS - 1);
        struct xc_counter_slot* slot = bpf_map_lookup_elem(&xc_counter_slots, &slot_index);
        struct xc_port_counters* counters;

        if (slot && slot->owner == ingress) {
            counters = &slot->counters;
        } else {
            counters = bpf_map_lookup_elem(&xc_counters, &ingress);
        }
        if (counters) {
            counters->packets++;
            /* Not data_end - data: pointer arithmetic needs CAP_PERFMON, which
             * the unit does not grant; this counts every fragment too. */
            counters->bytes += bpf_xdp_get_buff_len(ctx);
        }
    }
    return action;
}

char LICENSE[] SEC("license") = "GPL";
