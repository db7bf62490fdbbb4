#include "pinned_maps.hpp"

#include <bpf/bpf.h>

#include <cerrno>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "xconnect_maps.h"

namespace xconnect {

namespace {

// A pinned map is reused only if it is what this build would create.
void refuse_unless_reusable(const bpf_map* map, int pinned_fd, const std::filesystem::path& pin) {
    bpf_map_info info{};
    uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(pinned_fd, &info, &length) != 0) {
        throw_errno("query pinned map " + pin.string(), "bpf_obj_get_info_by_fd");
    }
    const bool same = info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
                      info.value_size == bpf_map__value_size(map) &&
                      info.max_entries == bpf_map__max_entries(map) &&
                      (info.map_flags & ~uint32_t{BPF_F_RDONLY_PROG}) == bpf_map__map_flags(map);
    if (!same) {
        throw SystemError(pin.string() + " differs from this build's map of layout " +
                              std::to_string(XC_LAYOUT_VERSION) +
                              " (a map changed without a new XC_LAYOUT_VERSION?); "
                              "xconnectd --flush removes it",
                          "reuse pinned map", EINVAL);
    }
}

}  // namespace

PinnedMaps::PinnedMaps(bpf_object* object, const PinnedState& state) : state_(state) {
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, object) {
        if (bpf_map__is_internal(map)) {
            continue;  // .rodata, .bss: the object's own, set at each load
        }
        const std::filesystem::path pin = state_.map_pin(bpf_map__name(map));
        UniqueFd pinned(bpf_obj_get(pin.c_str()));
        if (!pinned) {
            if (errno != ENOENT) {
                throw_errno("open pinned map " + pin.string(), "bpf_obj_get");
            }
            created_.push_back(map);
            continue;
        }
        refuse_unless_reusable(map, pinned.get(), pin);
        if (int rc = bpf_map__reuse_fd(map, pinned.get()); rc != 0) {
            throw SystemError("reuse pinned map " + pin.string(), "bpf_map__reuse_fd", -rc);
        }
    }
}

void PinnedMaps::pin_created() const {
    for (bpf_map* created : created_) {
        const std::filesystem::path pin = state_.map_pin(bpf_map__name(created));
        if (int rc = bpf_map__pin(created, pin.c_str()); rc != 0) {
            throw SystemError("pin map at " + pin.string(), "bpf_map__pin", -rc);
        }
    }
}

}  // namespace xconnect
