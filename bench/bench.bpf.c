// SPDX-License-Identifier: GPL-2.0
/* The benchmark's own XDP programs: a traffic generator run with
 * BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES, a counting sink, and the
 * bare bpf_redirect_map program xconnect's is compared with. The sink and the
 * bare redirect are frags-aware (multi-buffer): a veth refuses a native
 * program that is not (ERANGE) once its peer's MTU exceeds one page, and the
 * 9000-byte rows need both natively. */
#include <linux/bpf.h>
/* bpf_helpers.h needs the types linux/bpf.h defines. */
#include <bpf/bpf_helpers.h>

/* Generator: every frame leaves through this interface (set before load). */
const volatile __u32 generator_egress = 0;

SEC("xdp")
int generate(struct xdp_md *ctx)
{
    return bpf_redirect(generator_egress, 0);
}

/* Sink: frames and bytes seen, per CPU, and when the first frame arrived
 * after user space zeroed first_seen_ns (for latency: no polling needed). */
struct sink_counters {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct sink_counters);
    __uint(max_entries, 1);
} sink_counts SEC(".maps");

__u64 first_seen_ns = 0;

SEC("xdp.frags")
int sink(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct sink_counters *counters = bpf_map_lookup_elem(&sink_counts, &zero);

    if (counters) {
        counters->packets++;
        /* All buffers of a multi-buffer frame, not just the first. */
        counters->bytes += bpf_xdp_get_buff_len(ctx);
    }
    if (first_seen_ns == 0)
        first_seen_ns = bpf_ktime_get_ns();
    return XDP_DROP;
}

/* Bare redirect: what xconnect's program does, minus the counters. */
struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
    __uint(max_entries, 4096);
} bare_ports SEC(".maps");

SEC("xdp.frags")
int bare_redirect(struct xdp_md *ctx)
{
    return bpf_redirect_map(&bare_ports, ctx->ingress_ifindex, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
