#include "xdp_attachments.hpp"

#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <memory>

namespace xconnect {

std::vector<XdpAttachment> xdp_attachments() {
    std::vector<XdpAttachment> result;
    std::unique_ptr<struct if_nameindex, decltype(&if_freenameindex)> interfaces(if_nameindex(),
                                                                                 if_freenameindex);
    for (const struct if_nameindex* interface = interfaces.get();
         interface && interface->if_index != 0; ++interface) {
        LIBBPF_OPTS(bpf_xdp_query_opts, query);
        if (bpf_xdp_query(static_cast<int>(interface->if_index), 0, &query) != 0) {
            continue;  // gone meanwhile
        }
        for (const auto& [id, mode] : {std::pair{query.drv_prog_id, AttachMode::native},
                                       std::pair{query.skb_prog_id, AttachMode::generic}}) {
            if (id != 0) {
                result.push_back({interface->if_index, interface->if_name, id, mode});
            }
        }
    }
    return result;
}

int detach_if_expected(uint32_t ifindex, AttachMode mode, int expected_fd) {
    LIBBPF_OPTS(bpf_xdp_attach_opts, expected, .old_prog_fd = expected_fd);
    const uint32_t mode_flag = mode == AttachMode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    return bpf_xdp_detach(static_cast<int>(ifindex), XDP_FLAGS_REPLACE | mode_flag, &expected);
}

}  // namespace xconnect
