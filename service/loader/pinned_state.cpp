#include "pinned_state.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "xconnect_maps.h"
#include "xdp_attachments.hpp"

namespace xconnect {

namespace fs = std::filesystem;

namespace {

constexpr const char* bpffs_root = "/sys/fs/bpf";
constexpr std::string_view program_prefix = "xdp-program-";
constexpr std::string_view map_prefix = "xc_";  // every map of bpf/xconnect.bpf.c
constexpr std::string_view layout_prefix = "layout-";
constexpr std::string_view program_name = "xconnect";  // SEC("xdp.frags") int xconnect(...)

bool on_bpffs(const fs::path& path) {
    struct statfs filesystem {};
    return statfs(path.c_str(), &filesystem) == 0 && filesystem.f_type == BPF_FS_MAGIC;
}

// What to do about EACCES in the state directory, which only a daemon that
// is not root meets.
std::string unless_denied(int error) {
    return error == EACCES || error == EPERM
               ? " (xconnectd.service gives user xconnect its own /sys/fs/bpf/xconnect: a "
                 "0700 bpffs cannot be entered otherwise, and pins another user made must be "
                 "chown'ed, as its ExecStartPre= does)"
               : "";
}

// The nearest existing ancestor of `path` (or `path` itself). Throws
// SystemError for a part this process may not look at.
fs::path existing_part(const fs::path& directory) {
    fs::path path = directory;
    struct stat status {};
    while (!path.empty() && path != path.root_path() && ::stat(path.c_str(), &status) != 0) {
        const int error = errno;
        if (error != ENOENT) {
            throw SystemError(
                "reach the state directory " + directory.string() + unless_denied(error),
                "stat " + path.string(), error);
        }
        path = path.parent_path();
    }
    return path;
}

void ensure_bpffs(const fs::path& directory) {
    if (on_bpffs(existing_part(directory))) {
        return;
    }
    if (!directory.string().starts_with(bpffs_root)) {
        throw SystemError("pin the XDP program and its maps in " + directory.string(),
                          "statfs: not on a bpf filesystem", ENOTSUP);
    }
    // As systemd does at boot. Needs CAP_SYS_ADMIN: a daemon run by hand as
    // root has it; under systemd, PID 1 has mounted it before any unit.
    if (mount("bpf", bpffs_root, "bpf", 0, "mode=0700") != 0) {
        const int error = errno;
        throw SystemError(std::string("no bpffs at ") + bpffs_root + ", and mounting it " +
                              (error == EPERM ? "needs CAP_SYS_ADMIN, which this process lacks "
                                                "(the systemd unit mounts it before starting "
                                                "xconnectd)"
                                              : "failed"),
                          "mount", error);
    }
    log::notice("mounted bpffs at ", bpffs_root);
}

bool is_xconnect_pin(std::string_view name) {
    return name.starts_with(program_prefix) || name.starts_with(map_prefix);
}

bool is_xconnect_program(const ProgramIdentity& identity) {
    return identity.type == BPF_PROG_TYPE_XDP && identity.name == program_name;
}

// Opens the xconnect programs pinned directly in `directory`.
template <typename Found>
void open_pinned_programs(const fs::path& directory, Found found) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
        if (!entry.path().filename().string().starts_with(program_prefix)) {
            continue;
        }
        UniqueFd program(bpf_obj_get(entry.path().c_str()));
        if (!program && (errno == EACCES || errno == EPERM)) {
            const int error = errno;
            throw SystemError(
                "open the pinned program " + entry.path().string() + unless_denied(error),
                "bpf_obj_get", error);
        }
        const auto identity = program ? identify_program(program.get()) : std::nullopt;
        if (!identity || !is_xconnect_program(*identity)) {
            log::warning(entry.path().string(), ": not an xconnect XDP program; ignored");
            continue;
        }
        found(*identity, std::move(program), entry.path());
    }
    if (error) {
        throw SystemError("list " + directory.string(), "opendir", error.value());
    }
}

// The layout directories under `directory`, ours included.
std::vector<fs::path> layout_directories(const fs::path& directory) {
    std::vector<fs::path> result;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
        if (entry.path().filename().string().starts_with(layout_prefix) &&
            entry.is_directory(error)) {
            result.push_back(entry.path());
        }
    }
    return result;
}

// Unpins xconnect's pins in `directory` (nobody else's) and removes it if
// that left it empty. False if something could not be removed (logged).
bool remove_pins_in(const fs::path& directory) noexcept {
    bool removed_all = true;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
        if (!is_xconnect_pin(entry.path().filename().string())) {
            continue;
        }
        if (::unlink(entry.path().c_str()) != 0 && errno != ENOENT) {
            log::warning("unpin ", entry.path().string(), ": ", errno_text(errno));
            removed_all = false;
        }
    }
    if (::rmdir(directory.c_str()) != 0 && errno != ENOENT) {
        log::warning("remove ", directory.string(), ": ", errno_text(errno));
        removed_all = false;
    }
    return removed_all;
}

}  // namespace

std::optional<ProgramIdentity> identify_program(int program_fd) {
    bpf_prog_info info{};
    uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(program_fd, &info, &length) != 0) {
        return std::nullopt;
    }
    ProgramIdentity identity;
    identity.id = info.id;
    identity.type = info.type;
    identity.name = info.name;
    std::copy(std::begin(info.tag), std::end(info.tag), identity.tag.begin());
    identity.map_ids.resize(info.nr_map_ids);
    if (!identity.map_ids.empty()) {
        bpf_prog_info maps{};
        maps.nr_map_ids = static_cast<uint32_t>(identity.map_ids.size());
        maps.map_ids = reinterpret_cast<uint64_t>(identity.map_ids.data());
        length = sizeof maps;
        if (bpf_obj_get_info_by_fd(program_fd, &maps, &length) != 0) {
            return std::nullopt;
        }
        identity.map_ids.resize(std::min<size_t>(maps.nr_map_ids, identity.map_ids.size()));
    }
    std::sort(identity.map_ids.begin(), identity.map_ids.end());
    return identity;
}

uint32_t map_id(int map_fd) {
    bpf_map_info info{};
    uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(map_fd, &info, &length) != 0) {
        throw_errno("query a map's id", "bpf_obj_get_info_by_fd");
    }
    return info.id;
}

fs::path PinnedState::default_directory() {
    struct stat netns {};
    if (stat("/proc/self/ns/net", &netns) != 0) {
        throw_errno("identify this network namespace", "stat /proc/self/ns/net");
    }
    return fs::path(bpffs_root) / "xconnect" / std::to_string(netns.st_ino);
}

PinnedState::PinnedState(fs::path directory)
    : directory_(std::move(directory)),
      layout_directory_(directory_ /
                        (std::string(layout_prefix) + std::to_string(XC_LAYOUT_VERSION))) {
    ensure_bpffs(directory_);
    std::error_code error;
    fs::create_directories(layout_directory_, error);
    if (error) {
        throw SystemError("create " + layout_directory_.string() + unless_denied(error.value()),
                          "mkdir", error.value());
    }
    auto keep = [this](const ProgramIdentity& identity, UniqueFd fd, const fs::path& pin) {
        earlier_.emplace(identity.id, Pinned{std::move(fd), pin});
    };
    // Pinned beside the layouts: a build from before the maps were pinned.
    open_pinned_programs(directory_, keep);
    for (const fs::path& layout : layout_directories(directory_)) {
        open_pinned_programs(layout, keep);
    }
}

PinnedState::~PinnedState() = default;

fs::path PinnedState::map_pin(std::string_view name) const {
    return layout_directory_ / name;
}

std::optional<UniqueFd> PinnedState::take_own(const ProgramIdentity& loaded) {
    for (auto it = earlier_.begin(); it != earlier_.end(); ++it) {
        if (it->second.pin.parent_path() != layout_directory_) {
            continue;
        }
        const auto pinned = identify_program(it->second.fd.get());
        // The tag alone ignores map references: an earlier daemon whose maps
        // were not these has the same tag.
        if (pinned && pinned->tag == loaded.tag && pinned->map_ids == loaded.map_ids) {
            own_pin_ = it->second.pin;
            UniqueFd own = std::move(it->second.fd);
            earlier_.erase(it);
            return own;
        }
    }
    return std::nullopt;
}

void PinnedState::pin_own(int program_fd, uint32_t program_id) {
    const fs::path pin =
        layout_directory_ / (std::string(program_prefix) + std::to_string(program_id));
    if (bpf_obj_pin(program_fd, pin.c_str()) != 0) {
        throw_errno("pin XDP program id " + std::to_string(program_id) + " at " + pin.string(),
                    "bpf_obj_pin");
    }
    own_pin_ = pin;
}

std::optional<int> PinnedState::earlier(uint32_t program_id) const {
    if (auto found = earlier_.find(program_id); found != earlier_.end()) {
        return found->second.fd.get();
    }
    return std::nullopt;
}

std::vector<uint32_t> PinnedState::earlier_ids() const {
    std::vector<uint32_t> ids;
    for (const auto& [id, pinned] : earlier_) {
        ids.push_back(id);
    }
    return ids;
}

void PinnedState::forget(uint32_t program_id) noexcept {
    auto found = earlier_.find(program_id);
    if (found == earlier_.end()) {
        return;
    }
    if (::unlink(found->second.pin.c_str()) != 0 && errno != ENOENT) {
        log::warning("unpin ", found->second.pin.string(), ": ", errno_text(errno));
    }
    earlier_.erase(found);
}

std::vector<fs::path> PinnedState::other_layouts() const {
    std::vector<fs::path> result = layout_directories(directory_);
    std::erase(result, layout_directory_);
    return result;
}

void PinnedState::forget_other_layouts() noexcept {
    for (const fs::path& layout : other_layouts()) {
        std::erase_if(earlier_,
                      [&](const auto& entry) { return entry.second.pin.parent_path() == layout; });
        if (remove_pins_in(layout)) {
            log::notice("unpinned the maps of ", layout.filename().string(),
                        ", an earlier xconnectd's layout");
        }
    }
}

void PinnedState::remove_all() noexcept {
    while (!earlier_.empty()) {
        forget(earlier_.begin()->first);
    }
    own_pin_.reset();
    forget_other_layouts();
    remove_pins_in(layout_directory_);
    if (::rmdir(directory_.c_str()) != 0 && errno != ENOENT) {
        log::warning("remove ", directory_.string(), ": ", errno_text(errno));
    }
}

unsigned flush_state_directory(const fs::path& directory) {
    std::error_code error;
    if (!fs::exists(directory, error)) {
        return 0;
    }
    std::map<uint32_t, UniqueFd> programs;  // id ->
    auto keep = [&](const ProgramIdentity& identity, UniqueFd fd, const fs::path&) {
        programs.emplace(identity.id, std::move(fd));
    };
    open_pinned_programs(directory, keep);
    const std::vector<fs::path> layouts = layout_directories(directory);
    for (const fs::path& layout : layouts) {
        open_pinned_programs(layout, keep);
    }
    unsigned detached = 0;
    if (!programs.empty()) {
        for (const XdpAttachment& attachment : xdp_attachments()) {
            auto program = programs.find(attachment.program_id);
            if (program == programs.end()) {
                continue;  // not ours
            }
            if (int rc =
                    detach_if_expected(attachment.ifindex, attachment.mode, program->second.get());
                rc != 0) {
                throw SystemError(attachment.name + ": detach XDP program id " +
                                      std::to_string(attachment.program_id),
                                  "bpf_xdp_detach", -rc);
            }
            log::info(attachment.name, ": detached xconnect's XDP program id ",
                      attachment.program_id);
            ++detached;
        }
    }
    bool removed_all = true;
    for (const fs::path& layout : layouts) {
        removed_all = remove_pins_in(layout) && removed_all;
    }
    removed_all = remove_pins_in(directory) && removed_all;
    if (!removed_all) {
        throw SystemError("flush " + directory.string(), "unlink", EBUSY);
    }
    return detached;
}

namespace {

// A file that names the network namespace with this inode, if any is found.
std::optional<fs::path> find_network_namespace(ino_t inode) {
    std::vector<fs::path> candidates;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/run/netns", error)) {
        candidates.push_back(entry.path());
    }
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
        const std::string name = entry.path().filename().string();
        if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
            candidates.push_back(entry.path() / "ns" / "net");
        }
    }
    for (const fs::path& candidate : candidates) {
        struct stat netns {};
        if (stat(candidate.c_str(), &netns) == 0 && netns.st_ino == inode) {
            return candidate;
        }
    }
    return std::nullopt;
}

// setns() into a network namespace for a scope; leaving it again must work,
// or this process would go on in the wrong namespace.
class InNetworkNamespace {
  public:
    explicit InNetworkNamespace(const fs::path& netns)
        : original_(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
        if (!original_) {
            throw_errno("open this network namespace", "open /proc/self/ns/net");
        }
        UniqueFd target(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!target || setns(target.get(), CLONE_NEWNET) != 0) {
            throw_errno("enter network namespace " + netns.string(), "setns");
        }
    }
    ~InNetworkNamespace() {
        if (setns(original_.get(), CLONE_NEWNET) != 0) {
            log::error("return to the original network namespace: setns: ", errno_text(errno));
            std::abort();
        }
    }
    InNetworkNamespace(const InNetworkNamespace&) = delete;
    InNetworkNamespace& operator=(const InNetworkNamespace&) = delete;

  private:
    UniqueFd original_;
};

}  // namespace

unsigned flush_all_namespaces() {
    const fs::path root = fs::path(bpffs_root) / "xconnect";
    unsigned detached = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(root, error)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
            continue;
        }
        const auto netns = find_network_namespace(std::stoull(name));
        if (!netns) {
            // Its interfaces went with it, or nothing here can reach them.
            log::notice(entry.path().string(),
                        ": no process or /run/netns entry holds this network namespace; "
                        "removing its pins only");
            detached += flush_state_directory(entry.path());
            continue;
        }
        InNetworkNamespace inside(*netns);
        detached += flush_state_directory(entry.path());
    }
    if (error && error != std::errc::no_such_file_or_directory) {
        throw SystemError("list " + root.string(), "opendir", error.value());
    }
    // The root stays: tmpfiles.d makes it for the unit, which binds it into
    // its mount namespace and could not start without it.
    return detached;
}

}  // namespace xconnect
