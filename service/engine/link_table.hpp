#pragma once

// The links the kernel has, as the netlink front end reports them: found by
// ifindex or by name in one lookup. A name belongs to one link at a time; the
// newest report wins when a link is recreated or renamed before the kernel's
// news about the old one arrives.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model.hpp"
#include "name_hash.hpp"

namespace xconnect {

class LinkTable {
  public:
    // Forgets every link and takes `links` as the whole truth.
    void replace_all(const std::vector<LinkInfo>& links);

    // Records a new or changed link. Returns nullopt when nothing changed,
    // otherwise the name the ifindex had before (empty for a new link): the
    // pairs holding either name need a look.
    std::optional<std::string> update(const LinkInfo& link);

    // Forgets the link; returns the name it had, nullopt if it was unknown.
    std::optional<std::string> remove(uint32_t ifindex);

    const LinkInfo* find(std::string_view name) const;
    const LinkInfo* find(uint32_t ifindex) const;

    // Our own attach or detach, known before the kernel's news of it arrives.
    void set_xdp_program(uint32_t ifindex, uint32_t program_id);

    size_t size() const { return by_ifindex_.size(); }
    // Every link, sorted by name.
    std::vector<LinkInfo> sorted_by_name() const;

  private:
    void forget_name(const std::string& name, uint32_t ifindex);

    std::unordered_map<uint32_t, LinkInfo> by_ifindex_;
    NameMap<uint32_t> ifindex_by_name_;
};

}  // namespace xconnect
