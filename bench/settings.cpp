#include "settings.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <thread>

namespace xconnect::bench {

uint64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // what bpf_ktime_get_ns() reads
    return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

int cpu_count() {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text;
}

}  // namespace xconnect::bench
