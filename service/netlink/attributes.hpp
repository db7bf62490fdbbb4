#pragma once

// What the netlink parsers (links.cpp, netdev_features.cpp) share to read
// attributes with libmnl. Private to the netlink front end.

#include <libmnl/libmnl.h>

namespace xconnect::netlink {

// mnl_attr_parse() callback filling a table indexed by attribute type, 0..max_type.
template <int max_type>
int collect_attribute(const nlattr* attribute, void* data) {
    auto* table = static_cast<const nlattr**>(data);
    const int type = mnl_attr_get_type(attribute);
    if (type <= max_type) {
        table[type] = attribute;
    }
    return MNL_CB_OK;
}

}  // namespace xconnect::netlink
