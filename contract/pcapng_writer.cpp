// pcapng writing: the blocks of a capture, in host byte order (pcapng.hpp).

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "pcapng.hpp"
#include "pcapng_format.hpp"

namespace xconnect::pcapng {
namespace {

using namespace format;

size_t padded(size_t length) {
    return (length + 3) & ~size_t{3};
}

// A string option's value: at most 65535 bytes, cut at a UTF-8 character's start.
std::string_view bounded_text(std::string_view text) {
    size_t length = std::min<size_t>(text.size(), std::numeric_limits<uint16_t>::max());
    if (length < text.size()) {
        while (length > 0 && (static_cast<uint8_t>(text[length]) & 0xC0) == 0x80) {
            --length;
        }
    }
    return text.substr(0, length);
}

// One block in host byte order: type and a placeholder for the total length,
// the body, the options, the total length again at finish().
class BlockWriter {
  public:
    explicit BlockWriter(uint32_t type) {
        put(type);
        put(uint32_t{0});
    }
    template <class T>
    void put(T value) {
        char raw[sizeof value];
        std::memcpy(raw, &value, sizeof value);
        out_.append(raw, sizeof value);
    }
    void put_padded(const void* data, size_t length) {
        out_.append(static_cast<const char*>(data), length);
        out_.append(padded(length) - length, '\0');
    }
    void option(uint16_t code, const void* data, size_t length) {
        put(code);
        put(static_cast<uint16_t>(length));
        put_padded(data, length);
        has_options_ = true;
    }
    void option_text(uint16_t code, std::string_view text) {
        text = bounded_text(text);
        if (!text.empty()) {
            option(code, text.data(), text.size());
        }
    }
    void option_u64(uint16_t code, std::optional<uint64_t> value) {
        if (value) {
            option(code, &*value, sizeof *value);
        }
    }
    void option_timestamp(uint16_t code, std::optional<uint64_t> ns) {
        if (ns) {
            const uint32_t words[2] = {static_cast<uint32_t>(*ns >> 32),
                                       static_cast<uint32_t>(*ns)};
            option(code, words, sizeof words);
        }
    }
    std::string finish() {
        if (has_options_) {
            put(opt_endofopt);
            put(uint16_t{0});
        }
        if (out_.size() + 4 > std::numeric_limits<uint32_t>::max()) {
            throw std::length_error("pcapng: a block of " + std::to_string(out_.size()) +
                                    " bytes does not fit its 32-bit length");
        }
        const auto total = static_cast<uint32_t>(out_.size() + 4);
        put(total);
        std::memcpy(out_.data() + 4, &total, sizeof total);
        return std::move(out_);
    }

  private:
    std::string out_;
    bool has_options_ = false;
};

}  // namespace

std::string section_header(std::string_view application) {
    BlockWriter block(section_header_type);
    block.put(byte_order_magic);
    block.put(uint16_t{1});  // major version
    block.put(uint16_t{0});  // minor version
    block.put(int64_t{-1});  // section length: not known
    block.option_text(shb_userappl, application);
    return block.finish();
}

std::string interface_description(std::string_view name, uint32_t snaplen) {
    BlockWriter block(interface_description_type);
    block.put(linktype_ethernet);
    block.put(uint16_t{0});  // reserved
    block.put(snaplen);
    block.option_text(if_name, name);
    const uint8_t nanoseconds = 9;  // 10^-9 s
    block.option(if_tsresol, &nanoseconds, 1);
    return block.finish();
}

std::string enhanced_packet(uint32_t interface_id, uint64_t timestamp_ns, uint32_t original_length,
                            std::span<const uint8_t> bytes, Direction direction) {
    if (bytes.size() > std::numeric_limits<uint32_t>::max()) {
        throw std::length_error("pcapng: a frame of " + std::to_string(bytes.size()) +
                                " bytes does not fit an Enhanced Packet Block");
    }
    BlockWriter block(enhanced_packet_type);
    block.put(interface_id);
    block.put(static_cast<uint32_t>(timestamp_ns >> 32));
    block.put(static_cast<uint32_t>(timestamp_ns));
    block.put(static_cast<uint32_t>(bytes.size()));
    block.put(original_length);
    block.put_padded(bytes.data(), bytes.size());
    const uint32_t flags = static_cast<uint32_t>(direction) & 3;
    block.option(epb_flags, &flags, sizeof flags);
    return block.finish();
}

std::string interface_statistics(const InterfaceStatistics& statistics) {
    BlockWriter block(interface_statistics_type);
    block.put(statistics.interface_id);
    block.put(static_cast<uint32_t>(statistics.timestamp_ns >> 32));
    block.put(static_cast<uint32_t>(statistics.timestamp_ns));
    block.option_text(opt_comment, statistics.comment);
    block.option_timestamp(isb_starttime, statistics.start_ns);
    block.option_timestamp(isb_endtime, statistics.end_ns);
    block.option_u64(isb_ifrecv, statistics.received);
    block.option_u64(isb_ifdrop, statistics.dropped);
    block.option_u64(isb_filteraccept, statistics.accepted);
    return block.finish();
}

}  // namespace xconnect::pcapng
