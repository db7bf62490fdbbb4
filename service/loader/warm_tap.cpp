#include "warm_tap.hpp"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cstring>

#include "common/error.hpp"

namespace xconnect {

WarmTap::WarmTap(int program_fd) : tap_(::open("/dev/net/tun", O_RDWR | O_CLOEXEC)) {
    if (!tap_) {
        throw_errno("open /dev/net/tun for the tap that keeps the XDP program warm", "open");
    }
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    static_assert(sizeof name_pattern <= sizeof request.ifr_name);
    std::memcpy(request.ifr_name, name_pattern, sizeof name_pattern);
    if (::ioctl(tap_.get(), TUNSETIFF, &request) != 0) {
        throw_errno(std::string("create tap ") + name_pattern, "ioctl TUNSETIFF");
    }
    name_.assign(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ));
    ifindex_ = ::if_nametoindex(name_.c_str());
    if (ifindex_ == 0) {
        throw_errno("find tap " + name_ + " just created", "if_nametoindex");
    }
    if (int rc = bpf_xdp_attach(static_cast<int>(ifindex_), program_fd,
                                XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE, nullptr);
        rc != 0) {
        throw SystemError("attach XDP program in native mode to " + name_, "bpf_xdp_attach", -rc);
    }
}

}  // namespace xconnect
