#include "link_table.hpp"

#include <algorithm>

namespace xconnect {

void LinkTable::replace_all(const std::vector<LinkInfo>& links) {
    by_ifindex_.clear();
    ifindex_by_name_.clear();
    for (const LinkInfo& link : links) {
        update(link);
    }
}

std::optional<std::string> LinkTable::update(const LinkInfo& link) {
    std::string old_name;
    if (auto old = by_ifindex_.find(link.ifindex); old != by_ifindex_.end()) {
        if (old->second == link) {
            return std::nullopt;
        }
        old_name = old->second.name;
        if (old_name != link.name) {
            forget_name(old_name, link.ifindex);
        }
    }
    // The name may still point at an older link that was recreated: the new one wins.
    if (auto holder = ifindex_by_name_.find(link.name);
        holder != ifindex_by_name_.end() && holder->second != link.ifindex) {
        by_ifindex_.erase(holder->second);
    }
    by_ifindex_[link.ifindex] = link;
    ifindex_by_name_[link.name] = link.ifindex;
    return old_name;
}

std::optional<std::string> LinkTable::remove(uint32_t ifindex) {
    auto link = by_ifindex_.find(ifindex);
    if (link == by_ifindex_.end()) {
        return std::nullopt;
    }
    std::string name = std::move(link->second.name);
    by_ifindex_.erase(link);
    forget_name(name, ifindex);
    return name;
}

void LinkTable::forget_name(const std::string& name, uint32_t ifindex) {
    if (auto by_name = ifindex_by_name_.find(name);
        by_name != ifindex_by_name_.end() && by_name->second == ifindex) {
        ifindex_by_name_.erase(by_name);
    }
}

const LinkInfo* LinkTable::find(std::string_view name) const {
    auto by_name = ifindex_by_name_.find(name);
    return by_name == ifindex_by_name_.end() ? nullptr : find(by_name->second);
}

const LinkInfo* LinkTable::find(uint32_t ifindex) const {
    auto link = by_ifindex_.find(ifindex);
    return link == by_ifindex_.end() ? nullptr : &link->second;
}

std::vector<LinkInfo> LinkTable::sorted_by_name() const {
    std::vector<LinkInfo> links;
    links.reserve(by_ifindex_.size());
    for (const auto& [ifindex, link] : by_ifindex_) {
        links.push_back(link);
    }
    std::ranges::sort(links, std::less<>{}, &LinkInfo::name);
    return links;
}

void LinkTable::set_xdp_program(uint32_t ifindex, uint32_t program_id) {
    if (auto link = by_ifindex_.find(ifindex); link != by_ifindex_.end()) {
        link->second.xdp_program_id = program_id;
    }
}

}  // namespace xconnect
