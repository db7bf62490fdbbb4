#pragma once

// Where xconnectd pins its XDP program in bpffs, one directory per network
// namespace, so that the next xconnectd there recognises the programs an
// earlier one left attached (killed, crashed) and takes them over. Opening a
// pin needs only file access; looking a program up by id would need
// CAP_SYS_ADMIN, which the unit does not grant.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>

#include "common/unique_fd.hpp"

namespace xconnect {

class ProgramPins {
  public:
    // /sys/fs/bpf/xconnect/<inode of this network namespace>.
    static std::filesystem::path default_directory();

    // Makes sure `directory` is on bpffs (mounting /sys/fs/bpf when it is not
    // and the process may), creates it, and opens every program pinned there
    // by an earlier xconnectd. Throws SystemError.
    explicit ProgramPins(std::filesystem::path directory);
    ~ProgramPins();  // leaves the pins: only forget()/remove_all() take them away
    ProgramPins(const ProgramPins&) = delete;
    ProgramPins& operator=(const ProgramPins&) = delete;

    const std::filesystem::path& directory() const { return directory_; }

    // Pins our program. Throws SystemError.
    void pin_own(int program_fd, uint32_t program_id);
    // An fd of the earlier xconnectd's program with this id, if one was pinned.
    std::optional<int> earlier(uint32_t program_id) const;
    const std::map<uint32_t, UniqueFd>& earlier_programs() const { return earlier_; }
    // Unpins an earlier program that nothing runs any more.
    void forget(uint32_t program_id) noexcept;
    // Unpins everything this daemon knows of and removes the directory: a
    // clean exit, with nothing left attached.
    void remove_all() noexcept;

  private:
    std::filesystem::path pin_path(uint32_t program_id) const;

    std::filesystem::path directory_;
    std::map<uint32_t, UniqueFd> earlier_;  // program id -> fd
    std::optional<uint32_t> own_;
};

}  // namespace xconnect
