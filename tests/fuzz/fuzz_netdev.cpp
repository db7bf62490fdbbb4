// fuzz-netdev: bytes -> parse_netdev_datagram() and parse_family_reply(), the
// functions the xdp-features monitor runs on every datagram of the netdev
// family and on nlctrl's answer. The family id is the one this kernel gave
// it (any fixed id will do: a message of another family is skipped).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.hpp"
#include "netlink/netdev_features.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) {
        return 0;  // the monitor's receive buffer; longer datagrams are never parsed
    }
    constexpr uint16_t family_id = 20;
    // Heap memory of exactly this size: AddressSanitizer catches any read past it.
    std::vector<char> buffer(data, data + size);
    const auto parsed =
        xconnect::netlink::parse_netdev_datagram(buffer.data(), buffer.size(), family_id);
    for (const auto& event : parsed.events) {
        FUZZ_CHECK(event.device.ifindex != 0, "an event for ifindex 0");
    }
    FUZZ_CHECK(
        xconnect::netlink::parse_netdev_datagram(buffer.data(), buffer.size(), family_id).events ==
            parsed.events,
        "parsing the same datagram twice gave different events");
    const auto reply = xconnect::netlink::parse_family_reply(buffer.data(), buffer.size(), "mgmt");
    FUZZ_CHECK(reply.family.has_value() != (reply.error != 0),
               "a family reply is either a family or an errno");
    return 0;
}
