#include "topology.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "bench.skel.h"
#include "child_process.hpp"
#include "common/unique_fd.hpp"
#include "frames.hpp"
#include "generator.hpp"
#include "loader/bpf_skeleton.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netlink/links.hpp"
#include "netns.hpp"
#include "system_bus.hpp"

namespace xconnect::bench {

Skeleton load_skeleton() {
    return Skeleton::open_and_load("load the benchmark's BPF programs");
}

uint32_t ifindex_in(const Netns& netns, const std::string& ifname) {
    NetnsScope inside(netns);
    const uint32_t ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) {
        throw std::runtime_error("no interface " + ifname + " in " + netns.name());
    }
    return ifindex;
}

}  // namespace xconnect::bench
