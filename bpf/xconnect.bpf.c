// SPDX-License-Identifier: GPL-2.0
/* One XDP program for every cross-connected interface: redirect each frame to
 * the peer of its ingress interface, and count what was redirected. */
#include <linux/bpf.h>
/* bpf_helpers.h needs the types linux/bpf.h defines. */
#include <bpf/bpf_helpers.h>

#include "xconnect_capture.h"
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

/* The revision of what the program does beyond its instructions. The kernel's
 * tag hashes the instructions only, and a restarted xconnectd keeps a pinned
 * program whose tag is its own; so a change of load flags alone (revision 2:
 * frags-aware) must change the instructions too, or an upgrade would keep
 * running the earlier program. */
#define XC_PROGRAM_REVISION 2

/* Frags-aware (multi-buffer, Linux >= 5.18): drivers attach it natively at
 * MTUs above one page (a 9000-MTU veth refuses a program that is not with
 * ERANGE), and it redirects every buffer of a frame. XC_PROGRAM_SINGLE_BUFFER
 * builds the earlier kind, for the test of a driver that refuses. */
#ifdef XC_PROGRAM_SINGLE_BUFFER
SEC("xdp")
#else
SEC("xdp.frags")
#endif
int xconnect(struct xdp_md* ctx) {
    __u32 ingress = ctx->ingress_ifindex;
    __u32 stamp = XC_PROGRAM_REVISION * 1000 + XC_PROGRAM_VARIANT;
    asm volatile("" : "+r"(stamp)); /* kept: an immediate the verifier sees */
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
            /* The whole frame, every buffer of it; and not data_end - data:
             * pointer arithmetic needs CAP_PERFMON, which the unit does not grant. */
            counters->bytes += bpf_xdp_get_buff_len(ctx);
        }
#ifndef XC_NO_CAPTURE /* the benchmark's "before capture" build */
        xc_capture(ctx, ingress);
#endif
    }
    return action;
}

char LICENSE[] SEC("license") = "GPL";
