/* Map layout shared by the drop-accounting programs (bpf/xconnect_drops.bpf.c)
 * and user space (service/loader/drop_monitor.cpp). Part of the layout
 * XC_LAYOUT_VERSION (xconnect_maps.h) names: its maps are pinned beside the
 * XDP program's. */
#ifndef XCONNECT_BPF_DROPS_H
#define XCONNECT_BPF_DROPS_H

#include <linux/types.h>

#include "xconnect_maps.h"

/* Key of xc_drops: frames redirected out of `ingress`'s peer that the kernel
 * did not deliver, by the errno it gave (positive). */
struct xc_drop_key {
    __u32 ingress;
    __s32 error;
};

/* Value of xc_drop_ports, one per ingress interface of a pair: whether the
 * next drop there wakes the daemon (it re-arms after reading). */
struct xc_drop_port {
    __u32 armed;
    __u32 reserved;
};

/* Distinct (ingress, errno) pairs counted at once. */
#define XC_MAX_DROP_KEYS (XC_MAX_PORTS * 4)

#endif
