#include "unit_capabilities.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace xconnect::test {

std::vector<std::string> unit_capabilities() {
    const std::string unit = XCONNECT_SOURCE_DIR "/systemd/xconnectd.service.in";
    std::ifstream file(unit);
    const std::string key = "CapabilityBoundingSet=";
    for (std::string line; std::getline(file, line);) {
        if (!line.starts_with(key)) {
            continue;
        }
        std::istringstream words(line.substr(key.size()));
        std::vector<std::string> capabilities;
        for (std::string word; words >> word;) {
            if (!word.starts_with("CAP_")) {
                throw std::runtime_error(unit + ": cannot read capability " + word);
            }
            word = word.substr(4);
            std::transform(word.begin(), word.end(), word.begin(),
                           [](unsigned char c) { return std::tolower(c); });
            capabilities.push_back(word);
        }
        return capabilities;
    }
    throw std::runtime_error(unit + " has no " + key);
}

void ensure_bpffs_mounted() {
    struct statfs fs {};
    if (statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type == BPF_FS_MAGIC) {
        return;
    }
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
        throw std::runtime_error("cannot mount bpffs at /sys/fs/bpf");
    }
}

std::vector<std::string> xconnectd_as_the_unit_runs_it(const std::vector<std::string>& args) {
    std::string set = "-all";
    for (const std::string& capability : unit_capabilities()) {
        set += ",+" + capability;
    }
    std::vector<std::string> command{"/usr/bin/setpriv",
                                     "--inh-caps=" + set,
                                     "--ambient-caps=" + set,
                                     "--bounding-set=" + set,
                                     "--",
                                     XCONNECTD_PATH};
    command.insert(command.end(), args.begin(), args.end());
    return command;
}

}  // namespace xconnect::test
