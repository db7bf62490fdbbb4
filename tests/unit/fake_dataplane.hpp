#pragma once

// The kernel seam in memory: what is attached where, the redirect map and the
// counters, and a journal of every call that changed something.

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "engine/dataplane.hpp"

namespace xconnect::test {

class FakeDataplane final : public Dataplane {
  public:
    static constexpr uint32_t our_program = 77;

    uint32_t program_id() const override { return our_program; }
    uint32_t port_capacity() const override { return capacity; }

    std::optional<AttachedProgram> attached_program(uint32_t ifindex) override {
        auto found = attached.find(ifindex);
        return found == attached.end() ? std::nullopt : std::optional(found->second);
    }

    void attach(uint32_t ifindex, AttachMode mode) override {
        if (no_native.contains(ifindex) && mode == AttachMode::native) {
            throw SystemError(
                "attach XDP program in native mode on ifindex " + std::to_string(ifindex),
                "bpf_link_create", EOPNOTSUPP);
        }
        if (auto refused = native_refused.find(ifindex);
            refused != native_refused.end() && mode == AttachMode::native) {
            throw SystemError(
                "attach XDP program in native mode on ifindex " + std::to_string(ifindex),
                "bpf_link_create", refused->second);
        }
        if (refuse.contains(ifindex)) {
            throw SystemError("attach on ifindex " + std::to_string(ifindex), "bpf_link_create",
                              EPERM);
        }
        if (auto current = attached.find(ifindex);
            current != attached.end() &&
            (current->second.earlier_xconnect || current->second.program_id == our_program)) {
            attached.erase(current);  // taken over, or ours in the other mode
        }
        if (attached.contains(ifindex)) {
            throw SystemError("attach on ifindex " + std::to_string(ifindex), "bpf_link_create",
                              EBUSY);
        }
        attached[ifindex] = {our_program, mode};
        journal.push_back("attach " + std::to_string(ifindex) + " " + std::string(to_string(mode)));
    }

    void detach(uint32_t ifindex) noexcept override {
        auto found = attached.find(ifindex);
        if (found != attached.end() && found->second.program_id == our_program) {
            attached.erase(found);
            journal.push_back("detach " + std::to_string(ifindex));
        }
    }

    void connect(uint32_t from, uint32_t to) override {
        if (gone.contains(to)) {
            // What DEVMAP_HASH says of a target that no longer exists.
            throw SystemError(
                "redirect to ifindex " + std::to_string(to) + " on ifindex " + std::to_string(from),
                "bpf_map_update_elem", EINVAL);
        }
        if (!redirects.contains(from) && redirects.size() >= map_entries) {
            // What the kernel says of a full DEVMAP_HASH.
            throw SystemError(
                "connect ifindex " + std::to_string(from) + " to " + std::to_string(to),
                "bpf_map_update_elem xc_ports", E2BIG);
        }
        counter_map.try_emplace(from);
        redirects[from] = to;
        journal.push_back("connect " + std::to_string(from) + "->" + std::to_string(to));
    }

    void disconnect(uint32_t from) noexcept override {
        if (redirects.erase(from) + counter_map.erase(from) > 0) {
            journal.push_back("disconnect " + std::to_string(from));
        }
    }

    Counters counters(uint32_t from) const override {
        auto found = counter_map.find(from);
        return found == counter_map.end() ? Counters{} : found->second;
    }

    DropsByPort drops() const override { return drop_map; }

    std::vector<InheritedPort> inherited_ports() const override { return inherited; }

    void release_earlier() noexcept override {
        for (auto it = attached.begin(); it != attached.end();) {
            if (it->second.earlier_xconnect) {
                journal.push_back("detach earlier " + std::to_string(it->first));
                it = attached.erase(it);
            } else {
                ++it;
            }
        }
    }

    // What an earlier xconnectd left: the state of `earlier` as the next
    // daemon's dataplane finds it (its programs ours if `same_program`, else
    // an earlier build's to replace). The journal starts empty.
    void left_by(const FakeDataplane& earlier, bool same_program) {
        attached.clear();
        for (const auto& [ifindex, program] : earlier.attached) {
            attached[ifindex] =
                same_program ? program
                             : AttachedProgram{program.program_id + 1000, program.mode, true};
        }
        redirects = earlier.redirects;
        counter_map = earlier.counter_map;
        inherited.clear();
        std::map<uint32_t, InheritedPort> found;
        for (const auto& [from, to] : redirects) {
            found[from].peer = to;
        }
        for (const auto& [ifindex, counters] : counter_map) {
            found[ifindex];
        }
        for (const auto& [ifindex, program] : attached) {
            found[ifindex].attached = program.mode;
            found[ifindex].current_program = !program.earlier_xconnect;
        }
        for (auto& [ifindex, port] : found) {
            port.ifindex = ifindex;
            inherited.push_back(port);
        }
        journal.clear();
    }

    // What the program would do with a frame entering `ifindex`.
    void forward(uint32_t ifindex, uint64_t bytes) {
        if (redirects.contains(ifindex) && attached.contains(ifindex)) {
            counter_map[ifindex] += Counters{1, bytes};
        }
    }

    // Someone else's `ip link set dev X xdpgeneric off`, or their program in place of ours.
    void someone_else_detaches(uint32_t ifindex) { attached.erase(ifindex); }
    void someone_else_replaces(uint32_t ifindex, uint32_t program_id) {
        attached[ifindex] = AttachedProgram{program_id, AttachMode::generic, false};
    }

    // The kernel's cleanup when a device goes away: programs and map entries
    // that point at it disappear; counters stay until user space removes them.
    void device_destroyed(uint32_t ifindex) {
        attached.erase(ifindex);
        std::erase_if(redirects, [&](const auto& entry) { return entry.second == ifindex; });
    }

    std::map<uint32_t, AttachedProgram> attached;
    std::map<uint32_t, uint32_t> redirects;
    std::map<uint32_t, Counters> counter_map;
    std::map<uint32_t, DropCounts> drop_map;  // ingress -> drops by errno
    // What the engine is told the map holds, and what it really holds (less
    // when entries the engine does not know of fill it).
    uint32_t capacity = 4096;
    size_t map_entries = 4096;
    std::set<uint32_t> no_native;
    std::map<uint32_t, int> native_refused;  // ifindex -> errno of a native attach (ERANGE, ...)
    std::set<uint32_t> refuse;
    std::set<uint32_t> gone;  // deleted, the engine not told yet
    std::vector<InheritedPort> inherited;
    std::vector<std::string> journal;
};

}  // namespace xconnect::test
