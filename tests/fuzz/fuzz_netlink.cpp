// fuzz-netlink: bytes -> parse_link_datagram(), the very function the link
// monitor runs on every datagram it receives (RTM_NEWLINK, RTM_DELLINK).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_check.hpp"
#include "netlink/links.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 64 * 1024) {
        return 0;  // the monitor's receive buffer; longer datagrams are never parsed
    }
    // Heap memory of exactly this size, aligned as the monitor's buffer:
    // AddressSanitizer catches any read past the datagram.
    std::vector<char> buffer(data, data + size);
    const xconnect::netlink::ParsedDatagram parsed =
        xconnect::netlink::parse_link_datagram(buffer.data(), buffer.size());
    for (const auto& event : parsed.events) {
        // Every string came out of the datagram, so none can be longer.
        FUZZ_CHECK(event.link.name.size() < size && event.link.kind.size() < size,
                   "name of %zu, kind of %zu bytes from a %zu-byte datagram",
                   event.link.name.size(), event.link.kind.size(), size);
        if (event.kind == xconnect::netlink::LinkEvent::Kind::removed) {
            FUZZ_CHECK(event.link.name.empty() && event.link.kind.empty(),
                       "a removal carries only the ifindex");
        }
    }
    FUZZ_CHECK(xconnect::netlink::parse_link_datagram(buffer.data(), buffer.size()).events ==
                   parsed.events,
               "parsing the same datagram twice gave different events");
    return 0;
}
