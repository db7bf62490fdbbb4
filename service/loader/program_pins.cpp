#include "program_pins.hpp"

#include <bpf/bpf.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"

namespace xconnect {

namespace {

constexpr const char* bpffs_root = "/sys/fs/bpf";
constexpr std::string_view pin_prefix = "xdp-program-";
constexpr std::string_view program_name = "xconnect";  // SEC("xdp") int xconnect(...)

bool on_bpffs(const std::filesystem::path& path) {
    struct statfs fs {};
    return statfs(path.c_str(), &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
}

// The nearest existing ancestor of `path` (or `path` itself).
std::filesystem::path existing_part(std::filesystem::path path) {
    while (!path.empty() && path != path.root_path() && !std::filesystem::exists(path)) {
        path = path.parent_path();
    }
    return path;
}

void ensure_bpffs(const std::filesystem::path& directory) {
    if (on_bpffs(existing_part(directory))) {
        return;
    }
    if (!directory.string().starts_with(bpffs_root)) {
        throw SystemError("pin XDP programs in " + directory.string(),
                          "statfs: not on a bpf filesystem", ENOTSUP);
    }
    // As systemd does at boot; needs CAP_SYS_ADMIN, which only a daemon run
    // by hand as root has (the unit relies on systemd's mount).
    if (mount("bpf", bpffs_root, "bpf", 0, "mode=0700") != 0) {
        throw_errno(std::string("mount bpffs at ") + bpffs_root + " to pin XDP programs", "mount");
    }
    log::notice("mounted bpffs at ", bpffs_root);
}

}  // namespace

std::filesystem::path ProgramPins::default_directory() {
    struct stat netns {};
    if (stat("/proc/self/ns/net", &netns) != 0) {
        throw_errno("identify this network namespace", "stat /proc/self/ns/net");
    }
    return std::filesystem::path(bpffs_root) / "xconnect" / std::to_string(netns.st_ino);
}

ProgramPins::ProgramPins(std::filesystem::path directory) : directory_(std::move(directory)) {
    ensure_bpffs(directory_);
    std::error_code error;
    std::filesystem::create_directories(directory_, error);
    if (error) {
        throw SystemError("create " + directory_.string(), "mkdir", error.value());
    }
    for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(pin_prefix)) {
            continue;
        }
        UniqueFd program(bpf_obj_get(entry.path().c_str()));
        bpf_prog_info info{};
        uint32_t length = sizeof info;
        if (!program || bpf_obj_get_info_by_fd(program.get(), &info, &length) != 0 ||
            info.type != BPF_PROG_TYPE_XDP || program_name != info.name) {
            log::warning(entry.path().string(), ": not an xconnect XDP program; ignored");
            continue;
        }
        earlier_.emplace(info.id, std::move(program));
    }
    if (error) {
        throw SystemError("list " + directory_.string(), "opendir", error.value());
    }
}

ProgramPins::~ProgramPins() = default;

std::filesystem::path ProgramPins::pin_path(uint32_t program_id) const {
    return directory_ / (std::string(pin_prefix) + std::to_string(program_id));
}

void ProgramPins::pin_own(int program_fd, uint32_t program_id) {
    if (bpf_obj_pin(program_fd, pin_path(program_id).c_str()) != 0) {
        throw_errno("pin XDP program id " + std::to_string(program_id) + " at " +
                        pin_path(program_id).string(),
                    "bpf_obj_pin");
    }
    own_ = program_id;
}

std::optional<int> ProgramPins::earlier(uint32_t program_id) const {
    if (auto found = earlier_.find(program_id); found != earlier_.end()) {
        return found->second.get();
    }
    return std::nullopt;
}

void ProgramPins::forget(uint32_t program_id) noexcept {
    if (::unlink(pin_path(program_id).c_str()) != 0 && errno != ENOENT) {
        log::warning("unpin ", pin_path(program_id).string(), ": ", errno_text(errno));
    }
    earlier_.erase(program_id);
}

void ProgramPins::remove_all() noexcept {
    while (!earlier_.empty()) {
        forget(earlier_.begin()->first);
    }
    if (own_) {
        forget(*own_);
        own_.reset();
    }
    if (::rmdir(directory_.c_str()) != 0 && errno != ENOTEMPTY && errno != ENOENT) {
        log::warning("remove ", directory_.string(), ": ", errno_text(errno));
    }
}

}  // namespace xconnect
