#pragma once

// Walking a BPF hash map's keys safely.

#include <bpf/bpf.h>

#include <cstddef>
#include <vector>

namespace xconnect {

// Every key of the hash map `map_fd`, at most `limit` (its max_entries), read
// before any entry is changed. Updating or deleting while walking with
// bpf_map_get_next_key is not safe: an update puts the entry at its bucket's
// head, so two keys of one bucket updated in turn are walked again forever,
// and a deleted key restarts the walk from the first. The limit also ends a
// walk that a BPF program keeps adding to.
template <class Key>
std::vector<Key> map_keys(int map_fd, size_t limit) {
    std::vector<Key> keys;
    Key key{};
    for (const Key* previous = nullptr;
         keys.size() < limit && bpf_map_get_next_key(map_fd, previous, &key) == 0;
         previous = &keys.back()) {
        keys.push_back(key);
    }
    return keys;
}

}  // namespace xconnect
