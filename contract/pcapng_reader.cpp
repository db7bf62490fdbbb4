// pcapng reading (pcapng.hpp): StreamReader, either byte order, as each
// section header says.

#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "pcapng.hpp"
#include "pcapng_format.hpp"

namespace xconnect::pcapng {
namespace {

using namespace format;

constexpr uint64_t nanoseconds_per_second = 1'000'000'000;

size_t padded(size_t length) {
    return (length + 3) & ~size_t{3};
}

uint8_t swap_if(uint8_t value, bool) {
    return value;
}
uint16_t swap_if(uint16_t value, bool swapped) {
    return swapped ? __builtin_bswap16(value) : value;
}
uint32_t swap_if(uint32_t value, bool swapped) {
    return swapped ? __builtin_bswap32(value) : value;
}
uint64_t swap_if(uint64_t value, bool swapped) {
    return swapped ? __builtin_bswap64(value) : value;
}

template <class T>
T load(const uint8_t* data, bool swapped) {
    T value;
    std::memcpy(&value, data, sizeof value);
    return swap_if(value, swapped);
}

std::string hex32(uint32_t value) {
    char text[11];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

std::string block_name(uint32_t type) {
    switch (type) {
        case section_header_type:
            return "section header block";
        case interface_description_type:
            return "interface description block";
        case enhanced_packet_type:
            return "enhanced packet block";
        case interface_statistics_type:
            return "interface statistics block";
        default:
            return "block of type " + hex32(type);
    }
}

[[noreturn]] void fail(uint64_t offset, uint32_t type, const std::string& what) {
    throw FormatError("pcapng: " + block_name(type) + " at offset " + std::to_string(offset) +
                      ": " + what);
}

// A block's body (after type and length, before the trailing length), read
// in the section's byte order; running past its end is a FormatError.
class Body {
  public:
    Body(const uint8_t* data, size_t size, bool swapped, uint64_t offset, uint32_t type)
        : data_(data), size_(size), swapped_(swapped), offset_(offset), type_(type) {}

    [[noreturn]] void fail(const std::string& what) const { pcapng::fail(offset_, type_, what); }
    size_t remaining() const { return size_ - used_; }

    std::span<const uint8_t> take(size_t length) {
        if (length > remaining()) {
            fail("its " + std::to_string(size_) + "-byte body ends inside its fields");
        }
        const std::span<const uint8_t> taken(data_ + used_, length);
        used_ += length;
        return taken;
    }
    template <class T>
    T get() {
        return load<T>(take(sizeof(T)).data(), swapped_);
    }
    uint64_t get_timestamp() {
        const uint64_t high = get<uint32_t>();
        return high << 32 | get<uint32_t>();
    }

    // Calls handle(code, value) per option up to opt_endofopt or the end.
    template <class Handle>
    void options(Handle&& handle) {
        while (remaining() > 0) {
            const auto code = get<uint16_t>();
            const auto length = get<uint16_t>();
            if (code == opt_endofopt) {
                return;
            }
            if (padded(length) > remaining()) {
                fail("option " + std::to_string(code) + " of " + std::to_string(length) +
                     " bytes runs past the block (" + std::to_string(remaining()) + " left)");
            }
            handle(code, take(padded(length)).first(length));
        }
    }
    void expect_length(uint16_t code, std::span<const uint8_t> value, size_t length) const {
        if (value.size() != length) {
            fail("option " + std::to_string(code) + " has " + std::to_string(value.size()) +
                 " bytes, not " + std::to_string(length));
        }
    }
    template <class T>
    T option_value(uint16_t code, std::span<const uint8_t> value) const {
        expect_length(code, value, sizeof(T));
        return load<T>(value.data(), swapped_);
    }
    // Two 32-bit words, high then low, as in the block's own timestamp.
    uint64_t option_timestamp(uint16_t code, std::span<const uint8_t> value) const {
        expect_length(code, value, 8);
        const uint64_t high = load<uint32_t>(value.data(), swapped_);
        return high << 32 | load<uint32_t>(value.data() + 4, swapped_);
    }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t used_ = 0;
    bool swapped_;
    uint64_t offset_;
    uint32_t type_;
};

std::string text_of(std::span<const uint8_t> value) {
    return std::string(reinterpret_cast<const char*>(value.data()), value.size());
}

SectionHeader read_section_header(Body& body) {
    body.get<uint32_t>();  // the magic, already judged
    const auto major = body.get<uint16_t>();
    const auto minor = body.get<uint16_t>();
    if (major != 1) {
        body.fail("version " + std::to_string(major) + "." + std::to_string(minor) + " is not 1.x");
    }
    body.get<uint64_t>();  // section length
    SectionHeader header;
    body.options([&](uint16_t code, std::span<const uint8_t> value) {
        if (code == shb_userappl) {
            header.application = text_of(value);
        }
    });
    return header;
}

uint64_t ticks_per_second(Body& body, uint8_t tsresol) {
    const unsigned exponent = tsresol & 0x7F;
    if (tsresol & 0x80) {
        if (exponent > 63) {
            body.fail("if_tsresol 2^-" + std::to_string(exponent) + " s is out of range");
        }
        return uint64_t{1} << exponent;
    }
    if (exponent > 19) {
        body.fail("if_tsresol 10^-" + std::to_string(exponent) + " s is out of range");
    }
    uint64_t ticks = 1;
    for (unsigned i = 0; i < exponent; ++i) {
        ticks *= 10;
    }
    return ticks;
}

Interface read_interface(Body& body) {
    Interface interface;
    interface.link_type = body.get<uint16_t>();
    body.get<uint16_t>();  // reserved
    interface.snaplen = body.get<uint32_t>();
    body.options([&](uint16_t code, std::span<const uint8_t> value) {
        if (code == if_name) {
            interface.name = text_of(value);
        } else if (code == if_tsresol) {
            interface.ticks_per_second =
                ticks_per_second(body, body.option_value<uint8_t>(9, value));
        }
    });
    return interface;
}

const Interface& interface_named(Body& body, const std::vector<Interface>& interfaces) {
    const auto id = body.get<uint32_t>();
    if (id >= interfaces.size()) {
        body.fail("interface id " + std::to_string(id) + " is not described (" +
                  std::to_string(interfaces.size()) + " interfaces in the section)");
    }
    return interfaces[id];
}

uint64_t to_ns(Body& body, uint64_t ticks, const Interface& interface) {
    const unsigned __int128 ns =
        static_cast<unsigned __int128>(ticks) * nanoseconds_per_second / interface.ticks_per_second;
    if (ns > std::numeric_limits<uint64_t>::max()) {
        body.fail("timestamp " + std::to_string(ticks) + " at " +
                  std::to_string(interface.ticks_per_second) +
                  " ticks per second is past 64-bit nanoseconds");
    }
    return static_cast<uint64_t>(ns);
}

Packet read_packet(Body& body, const std::vector<Interface>& interfaces) {
    Packet packet;
    const Interface& interface = interface_named(body, interfaces);
    packet.interface_id = static_cast<uint32_t>(&interface - interfaces.data());
    packet.timestamp_ns = to_ns(body, body.get_timestamp(), interface);
    const auto captured = body.get<uint32_t>();
    packet.original_length = body.get<uint32_t>();
    if (padded(captured) > body.remaining()) {
        body.fail("captured length " + std::to_string(captured) + " runs past the block (" +
                  std::to_string(body.remaining()) + " bytes left)");
    }
    const auto bytes = body.take(padded(captured)).first(captured);
    packet.bytes.assign(bytes.begin(), bytes.end());
    body.options([&](uint16_t code, std::span<const uint8_t> value) {
        if (code == epb_flags) {
            const auto direction = body.option_value<uint32_t>(2, value) & 3;
            packet.direction = direction == 3 ? Direction::unknown : Direction(direction);
        }
    });
    return packet;
}

InterfaceStatistics read_statistics(Body& body, const std::vector<Interface>& interfaces) {
    InterfaceStatistics statistics;
    const Interface& interface = interface_named(body, interfaces);
    statistics.interface_id = static_cast<uint32_t>(&interface - interfaces.data());
    statistics.timestamp_ns = to_ns(body, body.get_timestamp(), interface);
    body.options([&](uint16_t code, std::span<const uint8_t> value) {
        switch (code) {
            case opt_comment:
                statistics.comment = text_of(value);
                break;
            case isb_starttime:
            case isb_endtime: {
                const uint64_t ns = to_ns(body, body.option_timestamp(code, value), interface);
                (code == isb_starttime ? statistics.start_ns : statistics.end_ns) = ns;
                break;
            }
            case isb_ifrecv:
                statistics.received = body.option_value<uint64_t>(code, value);
                break;
            case isb_ifdrop:
                statistics.dropped = body.option_value<uint64_t>(code, value);
                break;
            case isb_filteraccept:
                statistics.accepted = body.option_value<uint64_t>(code, value);
                break;
        }
    });
    return statistics;
}

}  // namespace

void StreamReader::feed(std::span<const uint8_t> bytes) {
    if (offset_ > 0) {  // drop the blocks already returned
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(offset_));
        stream_offset_ += offset_;
        offset_ = 0;
    }
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Block> StreamReader::next() {
    const uint8_t* const data = buffer_.data() + offset_;
    const size_t available = pending();
    const uint64_t at = stream_offset_ + offset_;
    if (available < 4) {
        return std::nullopt;
    }
    bool swapped = swapped_;
    const auto type = load<uint32_t>(data, swapped);
    if (type == section_header_type) {  // the same in either byte order
        if (available < 12) {
            return std::nullopt;
        }
        const auto magic = load<uint32_t>(data + 8, false);
        if (magic != byte_order_magic && magic != __builtin_bswap32(byte_order_magic)) {
            fail(at, type,
                 "byte-order magic " + hex32(magic) + " is not " + hex32(byte_order_magic));
        }
        swapped = magic != byte_order_magic;
    } else if (!in_section_) {
        fail(at, type, "comes before the first section header block");
    } else if (available < 8) {
        return std::nullopt;
    }
    const auto length = load<uint32_t>(data + 4, swapped);
    if (length % 4 != 0 || length < 12) {
        fail(at, type,
             "total length " + std::to_string(length) + " is not a multiple of 4 of at least 12");
    }
    if (length > max_block_bytes_) {
        fail(at, type,
             "total length " + std::to_string(length) + " is over the limit of " +
                 std::to_string(max_block_bytes_) + " bytes");
    }
    if (available < length) {
        return std::nullopt;
    }
    const auto trailer = load<uint32_t>(data + length - 4, swapped);
    if (trailer != length) {
        fail(at, type,
             "trailing total length " + std::to_string(trailer) + " does not match the leading " +
                 std::to_string(length));
    }
    Body body(data + 8, length - 12, swapped, at, type);
    std::optional<Block> block;
    switch (type) {
        case section_header_type:
            block = read_section_header(body);
            swapped_ = swapped;
            in_section_ = true;
            interfaces_.clear();
            break;
        case interface_description_type:
            interfaces_.push_back(read_interface(body));
            block = interfaces_.back();
            break;
        case enhanced_packet_type:
            block = read_packet(body, interfaces_);
            break;
        case interface_statistics_type:
            block = read_statistics(body, interfaces_);
            break;
        default:
            block = OtherBlock{type};
    }
    offset_ += length;
    return block;
}

}  // namespace xconnect::pcapng
