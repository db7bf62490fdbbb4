/* Map layout shared by the XDP program (bpf/xconnect.bpf.c) and user space
 * (service/loader). Both halves include this file; nothing is copied by hand. */
#ifndef XCONNECT_BPF_MAPS_H
#define XCONNECT_BPF_MAPS_H

#include <linux/types.h>

/* Version of the maps' layout below. The maps are pinned under
 * <state dir>/layout-<version>/, so a daemon of another layout never reuses
 * them as if they were its own: it migrates their entries into its own maps
 * instead. Bump it with any change to a map's type, key, value or size. */
#ifndef XC_LAYOUT_VERSION
#define XC_LAYOUT_VERSION 2
#endif

/* Upper bound on interfaces in cross-connects at once (one entry per ingress
 * interface). DEVMAP_HASH is keyed by ifindex, so ifindex values are unbounded. */
#define XC_MAX_PORTS 4096

/* What the program returns when the ingress ifindex has no peer: hand the
 * frame to the normal stack, as if no program were attached. */
#define XC_MISS_ACTION XDP_PASS

/* Per-CPU value of xc_counters, keyed by ingress ifindex: frames redirected
 * out of this interface's peer. Per CPU, so the hot path takes no lock. */
struct xc_port_counters {
    __u64 packets;
    __u64 bytes;
};

/* The counters' fast path: a per-CPU array indexed by the low bits of the
 * ingress ifindex, whose slot says which ifindex owns it. An array lookup
 * costs a fraction of a hash lookup, which showed in the forwarding rate;
 * an ifindex whose slot another one owns is counted in xc_counters instead. */
#ifndef XC_COUNTER_SLOTS
#define XC_COUNTER_SLOTS 1024 /* a power of two */
#endif

struct xc_counter_slot {
    __u32 owner; /* ingress ifindex counted here; 0: free */
    __u32 reserved;
    struct xc_port_counters counters;
};

/* Capture (bpf/xconnect_capture.h). */

/* The ring's size in bytes, a power-of-2 multiple of the page size: about
 * 90 000 frames of 64 bytes, or 5 000 of 1 514, waiting for the daemon. */
#define XC_CAPTURE_RING_BYTES (8u << 20)
/* The most bytes of one frame a capture copies: a 9 000-MTU frame whole.
 * A power of two, so that a mask bounds the copy's length for the verifier. */
#define XC_CAPTURE_MAX_BYTES 16384
/* Interfaces captured at once: both sides of each capture's pair. */
#define XC_MAX_CAPTURED_PORTS 64

struct xc_capture_switch {
    __u32 snaplen; /* bytes to copy of each captured frame; 0: no capture runs */
    __u32 reserved;
};

/* Value of xc_capture_ports: one captured ingress interface. */
struct xc_capture_port {
    __u64 lost; /* frames not copied: the ring was full */
};

/* What the ring holds per frame: this header, then `captured` bytes. */
struct xc_capture_header {
    __u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    __u32 ifindex;      /* the interface it entered on */
    __u32 length;       /* the frame's length, every buffer of it */
    __u32 captured;     /* bytes that follow: min(length, snaplen) */
    __u32 reserved;
};

struct xc_capture_record {
    struct xc_capture_header header;
    __u8 bytes[XC_CAPTURE_MAX_BYTES];
};

#endif
