/* Capture, the part of the XDP program that copies the frames of captured
 * interfaces to user space (service/loader/capture_ring.cpp reads them).
 * Included by xconnect.bpf.c only: its maps must be the program's own. */
#ifndef XCONNECT_BPF_CAPTURE_H
#define XCONNECT_BPF_CAPTURE_H

#include <bpf/bpf_helpers.h>
#include <linux/bpf.h>

#include "xconnect_maps.h"

/* Key 0: struct xc_capture_switch. One array lookup (inlined by the
 * verifier) is all a frame pays while nothing is captured. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct xc_capture_switch);
    __uint(max_entries, 1);
} xc_capture_switch SEC(".maps");

/* ingress ifindex -> struct xc_capture_port, for every captured interface. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct xc_capture_port);
    __uint(max_entries, XC_MAX_CAPTURED_PORTS);
} xc_capture_ports SEC(".maps");

/* Where a frame is assembled before it goes into the ring: the ring takes a
 * variable length only by copy (bpf_ringbuf_output), reserve needs a constant. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct xc_capture_record);
    __uint(max_entries, 1);
} xc_capture_scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, XC_CAPTURE_RING_BYTES);
} xc_capture_ring SEC(".maps");

static __always_inline void xc_capture(struct xdp_md* ctx, __u32 ingress) {
    __u32 zero = 0;
    const struct xc_capture_switch* on = bpf_map_lookup_elem(&xc_capture_switch, &zero);
    if (!on || on->snaplen == 0) {
        return;
    }
    struct xc_capture_port* port = bpf_map_lookup_elem(&xc_capture_ports, &ingress);
    if (!port) {
        return;
    }
    struct xc_capture_record* record = bpf_map_lookup_elem(&xc_capture_scratch, &zero);
    if (!record) {
        return;
    }
    /* Every buffer of a multi-buffer frame: bpf_xdp_load_bytes reads across
     * them, where data_end - data would see the first page only. */
    __u32 length = bpf_xdp_get_buff_len(ctx);
    __u32 captured = length < on->snaplen ? length : on->snaplen;
    /* 1 to XC_CAPTURE_MAX_BYTES, in a form the verifier can follow: the copy's
     * length must be bounded and not zero. */
    __u32 last = captured - 1;
    asm volatile("%0 &= %1" : "+r"(last) : "i"(XC_CAPTURE_MAX_BYTES - 1));
    captured = last + 1;
    record->header.timestamp_ns = bpf_ktime_get_ns();
    record->header.ifindex = ingress;
    record->header.length = length;
    record->header.captured = captured;
    record->header.reserved = 0;
    if (bpf_xdp_load_bytes(ctx, 0, record->bytes, captured) != 0 ||
        bpf_ringbuf_output(&xc_capture_ring, record, sizeof(record->header) + captured, 0) != 0) {
        __sync_fetch_and_add(&port->lost, 1);
    }
}

#endif
