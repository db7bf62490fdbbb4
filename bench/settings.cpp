#include "settings.hpp"

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

uint64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // what bpf_ktime_get_ns() reads
    return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

std::string two_places(double value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(2) << value;
    return out.str();
}

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text;
}

}  // namespace xconnect::bench
