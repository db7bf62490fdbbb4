#pragma once

// pcapng (draft-ietf-opsawg-pcapng), the stream Pair.Capture hands out: the
// daemon writes it, xconnectctl reads it back to print a line per frame.
// Only what a capture of a pair needs: one section, Ethernet interfaces with
// nanosecond timestamps, Enhanced Packet Blocks with a direction, Interface
// Statistics Blocks. Blocks are written in host byte order (the section
// header's byte-order magic says which); the reader takes either order.
// Pure: no I/O.

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace xconnect::pcapng {

inline constexpr uint16_t linktype_ethernet = 1;

// epb_flags bits 0-1.
enum class Direction : uint8_t { unknown = 0, inbound = 1, outbound = 2 };

// ---------------------------------------------------------------- writing

// Section Header Block, section length unknown (-1), with shb_userappl.
std::string section_header(std::string_view application);

// Interface Description Block: LINKTYPE_ETHERNET, if_name, if_tsresol 9
// (nanoseconds).
std::string interface_description(std::string_view if_name, uint32_t snaplen);

// Enhanced Packet Block: `bytes` as captured (padded to 32 bits), the frame's
// original length, epb_flags with the direction.
std::string enhanced_packet(uint32_t interface_id, uint64_t timestamp_ns, uint32_t original_length,
                            std::span<const uint8_t> bytes, Direction direction);

struct InterfaceStatistics {
    uint32_t interface_id = 0;
    uint64_t timestamp_ns = 0;
    std::optional<uint64_t> start_ns;  // isb_starttime
    std::optional<uint64_t> end_ns;    // isb_endtime
    std::optional<uint64_t> received;  // isb_ifrecv
    std::optional<uint64_t> dropped;   // isb_ifdrop
    std::optional<uint64_t> accepted;  // isb_filteraccept
    std::string comment;               // opt_comment; empty: none
    bool operator==(const InterfaceStatistics&) const = default;
};

// Interface Statistics Block; options present only where set.
std::string interface_statistics(const InterfaceStatistics& statistics);

// ---------------------------------------------------------------- reading

class FormatError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct Interface {
    uint16_t link_type = 0;
    uint32_t snaplen = 0;
    std::string name;                       // if_name; empty if absent
    uint64_t ticks_per_second = 1'000'000;  // from if_tsresol (default: microseconds)
    bool operator==(const Interface&) const = default;
};

struct Packet {
    uint32_t interface_id = 0;
    uint64_t timestamp_ns = 0;  // converted from the interface's resolution
    uint32_t original_length = 0;
    std::vector<uint8_t> bytes;  // as captured
    Direction direction = Direction::unknown;
    bool operator==(const Packet&) const = default;
};

struct SectionHeader {
    std::string application;  // shb_userappl; empty if absent
    bool operator==(const SectionHeader&) const = default;
};

// A block type this reader does not interpret (skipped whole).
struct OtherBlock {
    uint32_t type = 0;
    bool operator==(const OtherBlock&) const = default;
};

using Block = std::variant<SectionHeader, Interface, Packet, InterfaceStatistics, OtherBlock>;

// Reads a stream as it arrives: feed() what was read, then next() until it
// returns nullopt (a block is incomplete). Malformed input throws
// FormatError naming the block's offset and what is wrong, at feed() or
// next(); a block longer than `max_block_bytes` is malformed, so a bad length
// cannot make it buffer without bound.
class StreamReader {
  public:
    explicit StreamReader(size_t max_block_bytes = 1 << 20) : max_block_bytes_(max_block_bytes) {}

    void feed(std::span<const uint8_t> bytes);
    std::optional<Block> next();

    // The interfaces of the current section, by interface id.
    const std::vector<Interface>& interfaces() const { return interfaces_; }
    // Bytes fed and not yet returned as blocks: nonzero at the end of the
    // stream means it was cut inside a block.
    size_t pending() const { return buffer_.size() - offset_; }

  private:
    size_t max_block_bytes_;
    std::vector<uint8_t> buffer_;
    size_t offset_ = 0;           // of the next block in buffer_
    uint64_t stream_offset_ = 0;  // of buffer_[0] in the stream, for messages
    bool swapped_ = false;        // the section is in the other byte order
    bool in_section_ = false;
    std::vector<Interface> interfaces_;
};

// ---------------------------------------------------------------- showing

// One line per frame, as a person reads it on a terminal:
// "16:59:55.123456789 veth0 in 98 02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4"
// (local time of day; the interface's name or "if<ID>"; "in" or "out" when the
// direction is known; the original length; source and destination MAC; the
// ethertype by name where known, else 0xNNNN, after any 802.1Q/802.1ad tags
// shown as "vlan ID"). `utc_offset_seconds` is added to the timestamp's time
// of day (the caller's local zone). A frame too short to have an Ethernet
// header says so instead of MACs.
std::string summary_line(const Packet& packet, const Interface* interface,
                         int64_t utc_offset_seconds);

}  // namespace xconnect::pcapng
