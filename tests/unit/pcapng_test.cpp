// pcapng: the writer's bytes against the spec written out by hand, the
// reader on the writer's streams (whole and a byte at a time), on a
// big-endian stream built here, and on malformed ones; summary_line.

#include "contract/pcapng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace xconnect::pcapng {
namespace {

// `text` has `part` in it (gmock's HasSubstr, without linking gmock).
testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

std::string bytes_of(std::initializer_list<uint8_t> bytes) {
    return std::string(bytes.begin(), bytes.end());
}

std::span<const uint8_t> span_of(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Every block of `stream`, fed `chunk` bytes at a time; the stream must end
// at a block's end.
std::vector<Block> read_all(const std::string& stream, size_t chunk,
                            size_t max_block_bytes = 1 << 20) {
    StreamReader reader(max_block_bytes);
    std::vector<Block> blocks;
    for (size_t at = 0; at < stream.size(); at += chunk) {
        reader.feed(span_of(stream).subspan(at, std::min(chunk, stream.size() - at)));
        while (auto block = reader.next()) {
            blocks.push_back(std::move(*block));
        }
    }
    EXPECT_EQ(reader.pending(), 0u);
    return blocks;
}

// The FormatError's message reading `stream` causes; "" when it reads.
std::string format_error(const std::string& stream, size_t max_block_bytes = 1 << 20) {
    try {
        read_all(stream, stream.size(), max_block_bytes);
    } catch (const FormatError& error) {
        return error.what();
    }
    return "";
}

std::vector<uint8_t> frame_of(size_t size) {
    std::vector<uint8_t> frame(size);
    for (size_t i = 0; i < size; ++i) {
        frame[i] = static_cast<uint8_t>(i * 7 + 1);
    }
    return frame;
}

// A block built field by field in either byte order, for the streams the
// writer never makes.
class Built {
  public:
    explicit Built(bool big_endian) : big_endian_(big_endian) {}
    Built& u8(uint8_t value) {
        body_ += static_cast<char>(value);
        return *this;
    }
    Built& u16(uint16_t value) { return put(value, 2); }
    Built& u32(uint32_t value) { return put(value, 4); }
    Built& u64(uint64_t value) { return put(value, 8); }
    Built& text(const std::string& text) {
        body_ += text;
        body_.append((4 - text.size() % 4) % 4, '\0');
        return *this;
    }
    Built& option(uint16_t code, const std::string& value) {
        return u16(code).u16(static_cast<uint16_t>(value.size())).text(value);
    }
    Built& end_of_options() { return u32(0); }
    // type, total length, body, total length (or `trailer` when given).
    std::string block(uint32_t type, std::optional<uint32_t> trailer = std::nullopt) const {
        const auto length = static_cast<uint32_t>(body_.size() + 12);
        Built whole(big_endian_);
        whole.u32(type).u32(length);
        whole.body_ += body_;
        whole.u32(trailer.value_or(length));
        return whole.body_;
    }
    std::string bytes() const { return body_; }

  private:
    Built& put(uint64_t value, int size) {
        for (int i = 0; i < size; ++i) {
            const int shift = big_endian_ ? 8 * (size - 1 - i) : 8 * i;
            body_ += static_cast<char>(value >> shift);
        }
        return *this;
    }
    bool big_endian_;
    std::string body_;
};

std::string little_section() {
    return section_header("test");
}
std::string little_interface() {
    return interface_description("veth0", 262144);
}

// ---------------------------------------------------------------- writer

class PcapngWriterTest : public testing::Test {
  protected:
    void SetUp() override {
        if (std::endian::native != std::endian::little) {
            GTEST_SKIP() << "the expected bytes are written out little-endian";
        }
    }
};

TEST_F(PcapngWriterTest, SectionHeaderAsTheSpecSays) {
    const std::string expected = bytes_of({
        0x0A, 0x0D, 0x0D, 0x0A,  // block type
        40,   0,    0,    0,     // block total length
        0x4D, 0x3C, 0x2B, 0x1A,  // byte-order magic
        1,    0,    0,    0,     // version 1.0
        0xFF, 0xFF, 0xFF, 0xFF,  // section length -1
        0xFF, 0xFF, 0xFF, 0xFF,  //
        4,    0,    2,    0,     // shb_userappl, 2 bytes
        'x',  'c',  0,    0,     //
        0,    0,    0,    0,     // opt_endofopt
        40,   0,    0,    0,     // block total length
    });
    EXPECT_EQ(section_header("xc"), expected);
}

TEST_F(PcapngWriterTest, InterfaceDescriptionAsTheSpecSays) {
    const std::string expected = bytes_of({
        1,   0,   0,   0,    // block type
        44,  0,   0,   0,    // total length
        1,   0,   0,   0,    // Ethernet, reserved
        0,   0,   4,   0,    // snaplen
        2,   0,   5,   0,    // if_name, 5 bytes
        'v', 'e', 't', 'h',  //
        '0', 0,   0,   0,    //
        9,   0,   1,   0,    // if_tsresol, 1 byte
        9,   0,   0,   0,    // 10^-9
        0,   0,   0,   0,    // opt_endofopt
        44,  0,   0,   0,    // total length
    });
    EXPECT_EQ(interface_description("veth0", 0x40000), expected);
}

TEST_F(PcapngWriterTest, EnhancedPacketAsTheSpecSays) {
    const std::vector<uint8_t> frame = {0xAA, 0xBB, 0xCC};
    const std::string expected = bytes_of({
        6,    0,    0,    0,  // block type
        48,   0,    0,    0,  // block total length
        2,    0,    0,    0,  // interface id
        0x0A, 0,    0,    0,  // timestamp, high word
        0x0B, 0,    0,    0,  // timestamp, low word
        3,    0,    0,    0,  // captured length
        5,    0,    0,    0,  // original length
        0xAA, 0xBB, 0xCC, 0,  // the frame, padded
        2,    0,    4,    0,  // epb_flags, 4 bytes
        2,    0,    0,    0,  // outbound
        0,    0,    0,    0,  // opt_endofopt
        48,   0,    0,    0,  // block total length
    });
    EXPECT_EQ(enhanced_packet(2, 0x0000000A'0000000B, 5, frame, Direction::outbound), expected);
}

TEST_F(PcapngWriterTest, InterfaceStatisticsAsTheSpecSays) {
    InterfaceStatistics statistics;
    statistics.interface_id = 1;
    statistics.timestamp_ns = 0x00000001'00000002;
    statistics.start_ns = 0x00000003'00000004;
    statistics.received = 7;
    statistics.comment = "end";
    const std::string expected = bytes_of({
        5,   0,   0,   0,  // block type
        60,  0,   0,   0,  // block total length
        1,   0,   0,   0,  // interface id
        1,   0,   0,   0,  // timestamp high
        2,   0,   0,   0,  // timestamp low
        1,   0,   3,   0,  // opt_comment, 3 bytes
        'e', 'n', 'd', 0,  //
        2,   0,   8,   0,  // isb_starttime
        3,   0,   0,   0,  // high
        4,   0,   0,   0,  // low
        4,   0,   8,   0,  // isb_ifrecv
        7,   0,   0,   0,  //
        0,   0,   0,   0,  //
        0,   0,   0,   0,  // opt_endofopt
        60,  0,   0,   0,  // block total length
    });
    EXPECT_EQ(interface_statistics(statistics), expected);
}

TEST_F(PcapngWriterTest, StatisticsWithoutOptionsHaveNoEndOfOptions) {
    InterfaceStatistics statistics;
    statistics.timestamp_ns = 5;
    EXPECT_EQ(interface_statistics(statistics),
              bytes_of({5, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 24, 0, 0, 0}));
}

// ---------------------------------------------------------------- reader

// SHB, two IDBs, EPBs of every padding and a jumbo frame, ISBs with and
// without options, a block the reader does not interpret.
struct Capture {
    std::string stream;
    std::vector<Block> blocks;
};

Capture a_capture() {
    Capture capture;
    auto add = [&](std::string bytes, Block block) {
        capture.stream += bytes;
        capture.blocks.push_back(std::move(block));
    };
    add(section_header("xconnectd 0.1"), SectionHeader{"xconnectd 0.1"});
    add(interface_description("veth0", 262144), Interface{1, 262144, "veth0", 1'000'000'000});
    add(interface_description("tap-x", 9018), Interface{1, 9018, "tap-x", 1'000'000'000});
    uint64_t timestamp = 1'700'000'000'123'456'789;
    uint32_t id = 0;
    for (const size_t size : {0, 1, 3, 4, 5, 9000}) {
        const Direction direction = size % 2 ? Direction::inbound : Direction::outbound;
        const auto frame = frame_of(size);
        add(enhanced_packet(id, timestamp, static_cast<uint32_t>(size + 4), frame, direction),
            Packet{id, timestamp, static_cast<uint32_t>(size + 4), frame, direction});
        id = 1 - id;
        timestamp += 1'000'000'007;
    }
    add(enhanced_packet(0, 0, 60, frame_of(60), Direction::unknown),
        Packet{0, 0, 60, frame_of(60), Direction::unknown});
    add(Built(std::endian::native == std::endian::big).u32(42).block(0x00000BAD),
        OtherBlock{0xBAD});
    InterfaceStatistics bare;
    bare.interface_id = 1;
    bare.timestamp_ns = timestamp;
    add(interface_statistics(bare), bare);
    InterfaceStatistics full{0, timestamp, 1'700'000'000'000'000'000, timestamp, 10,
                             2, 8,         "capture stopped: asked"};
    add(interface_statistics(full), full);
    return capture;
}

TEST(PcapngReaderTest, ReadsWhatTheWriterWrote) {
    const Capture capture = a_capture();
    EXPECT_EQ(read_all(capture.stream, capture.stream.size()), capture.blocks);
}

TEST(PcapngReaderTest, AByteAtATimeGivesTheSameBlocks) {
    const Capture capture = a_capture();
    EXPECT_EQ(read_all(capture.stream, 1), capture.blocks);
    EXPECT_EQ(read_all(capture.stream, 7), capture.blocks);
}

TEST(PcapngReaderTest, KnowsTheSectionsInterfaces) {
    const Capture capture = a_capture();
    StreamReader reader;
    reader.feed(span_of(capture.stream));
    while (reader.next()) {
    }
    ASSERT_EQ(reader.interfaces().size(), 2u);
    EXPECT_EQ(reader.interfaces()[1].name, "tap-x");
}

TEST(PcapngReaderTest, ACutStreamLeavesBytesPending) {
    const std::string stream = little_section() + little_interface();
    StreamReader reader;
    reader.feed(span_of(stream).first(stream.size() - 3));
    EXPECT_TRUE(reader.next().has_value());
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_EQ(reader.pending(), little_interface().size() - 3);
}

TEST(PcapngReaderTest, ReadsABigEndianStream) {
    std::string stream = Built(true)
                             .u32(0x1A2B3C4D)
                             .u16(1)
                             .u16(0)
                             .u64(~uint64_t{0})
                             .option(4, "big")
                             .end_of_options()
                             .block(0x0A0D0D0A);
    stream += Built(true)
                  .u16(1)
                  .u16(0)
                  .u32(1514)
                  .option(2, "eth1")
                  .option(9, std::string(1, '\x06'))  // microseconds
                  .end_of_options()
                  .block(1);
    stream += Built(true)
                  .u32(0)
                  .u32(0x00000001)
                  .u32(0x00000002)  // 2^32 + 2 microseconds
                  .u32(5)
                  .u32(64)
                  .text("\x01\x02\x03\x04\x05")
                  .option(2, Built(true).u32(1).bytes())  // inbound
                  .end_of_options()
                  .block(6);
    stream += Built(true)
                  .u32(0)
                  .u32(0)
                  .u32(3)
                  .option(2, Built(true).u32(0).u32(1).bytes())  // start: 1 us
                  .option(4, Built(true).u64(0x0102030405060708).bytes())
                  .option(1, "bye")
                  .end_of_options()
                  .block(5);
    InterfaceStatistics statistics;
    statistics.timestamp_ns = 3'000;
    statistics.start_ns = 1'000;
    statistics.received = 0x0102030405060708;
    statistics.comment = "bye";
    const std::vector<Block> expected = {
        SectionHeader{"big"},
        Interface{1, 1514, "eth1", 1'000'000},
        Packet{0, ((uint64_t{1} << 32) + 2) * 1'000, 64, {1, 2, 3, 4, 5}, Direction::inbound},
        statistics,
    };
    EXPECT_EQ(read_all(stream, stream.size()), expected);
    EXPECT_EQ(read_all(stream, 1), expected);
}

// An interface of `tsresol` and a packet at `ticks` on it, in host order.
std::string packet_at(uint8_t tsresol, uint64_t ticks) {
    const bool big = std::endian::native == std::endian::big;
    return little_section() +
           Built(big).u16(1).u16(0).u32(0).option(9, std::string(1, char(tsresol))).block(1) +
           Built(big).u32(0).u32(uint32_t(ticks >> 32)).u32(uint32_t(ticks)).u32(0).u32(0).block(6);
}

uint64_t timestamp_of(uint8_t tsresol, uint64_t ticks) {
    const auto blocks = read_all(packet_at(tsresol, ticks), 4096);
    return std::get<Packet>(blocks.at(2)).timestamp_ns;
}

TEST(PcapngReaderTest, TimestampsInEveryResolution) {
    EXPECT_EQ(timestamp_of(6, 1'700'000'000'000'001), 1'700'000'000'000'001'000u);
    EXPECT_EQ(timestamp_of(9, 1'700'000'000'000'000'001), 1'700'000'000'000'000'001u);
    EXPECT_EQ(timestamp_of(0, 3), 3'000'000'000u);              // seconds
    EXPECT_EQ(timestamp_of(12, 1'500'000), 1'500u);             // picoseconds
    EXPECT_EQ(timestamp_of(19, ~uint64_t{0}), 1'844'674'407u);  // 10^-19, the finest base 10
    EXPECT_EQ(timestamp_of(0x80 | 10, 1024 * 5 + 512), 5'500'000'000u);  // 2^-10 s
    EXPECT_EQ(timestamp_of(0x80 | 63, uint64_t{1} << 62), 500'000'000u);
    // Without if_tsresol: microseconds.
    const bool big = std::endian::native == std::endian::big;
    const std::string stream = little_section() + Built(big).u16(1).u16(0).u32(0).block(1) +
                               Built(big).u32(0).u32(0).u32(7).u32(0).u32(0).block(6);
    EXPECT_EQ(std::get<Packet>(read_all(stream, 4096).at(2)).timestamp_ns, 7'000u);
}

TEST(PcapngReaderTest, RefusesResolutionsAndTimestampsOutOfRange) {
    EXPECT_TRUE(contains(format_error(packet_at(20, 0)), "if_tsresol 10^-20"));
    EXPECT_TRUE(contains(format_error(packet_at(0x80 | 64, 0)), "if_tsresol 2^-64"));
    // 2^64 - 1 microseconds is past 2^64 nanoseconds.
    EXPECT_TRUE(contains(format_error(packet_at(6, ~uint64_t{0})), "past 64-bit nanoseconds"));
}

TEST(PcapngReaderTest, ANewSectionForgetsTheInterfaces) {
    const std::string packet = enhanced_packet(0, 0, 0, {}, Direction::unknown);
    const std::string stream = little_section() + little_interface() + little_section() + packet;
    const std::string error = format_error(stream);
    EXPECT_TRUE(contains(
        error, "enhanced packet block at offset " + std::to_string(stream.size() - packet.size())));
    EXPECT_TRUE(contains(error, "interface id 0 is not described (0 interfaces"));
}

TEST(PcapngReaderTest, ASectionMayChangeTheByteOrder) {
    const bool big = std::endian::native == std::endian::big;
    const std::string other = Built(!big).u32(0x1A2B3C4D).u16(1).u16(0).u64(0).block(0x0A0D0D0A) +
                              Built(!big).u16(1).u16(0).u32(1500).block(1);
    const auto blocks = read_all(little_section() + little_interface() + other, 3);
    ASSERT_EQ(blocks.size(), 4u);
    EXPECT_EQ(std::get<Interface>(blocks[3]), (Interface{1, 1500, "", 1'000'000}));
}

// ---------------------------------------------------------------- malformed

TEST(PcapngReaderTest, RefusesABadByteOrderMagic) {
    std::string stream = little_section();
    stream[8] = 0x4E;
    const std::string error = format_error(stream);
    EXPECT_TRUE(contains(error, "section header block at offset 0"));
    EXPECT_TRUE(contains(error, "byte-order magic 0x1a2b3c4e"));
}

TEST(PcapngReaderTest, RefusesABlockBeforeTheSectionHeader) {
    EXPECT_TRUE(contains(format_error(little_interface()),
                         "interface description block at offset 0: comes before the first"));
    // As soon as its type is in: nothing else could make it right.
    StreamReader reader;
    reader.feed(span_of(little_interface()).first(4));
    EXPECT_THROW(reader.next(), FormatError);
}

TEST(PcapngReaderTest, RefusesALengthNotAMultipleOfFour) {
    std::string stream = little_section() + little_interface();
    stream[little_section().size() + 4] += 1;
    const std::string error = format_error(stream);
    EXPECT_TRUE(contains(
        error, "interface description block at offset " + std::to_string(little_section().size())));
    EXPECT_TRUE(contains(error, "total length 45 is not a multiple of 4"));
}

TEST(PcapngReaderTest, RefusesALengthUnderTwelve) {
    const bool big = std::endian::native == std::endian::big;
    EXPECT_TRUE(contains(format_error(little_section() + Built(big).u32(1).u32(8).bytes()),
                         "total length 8 is not a multiple of 4 of at least 12"));
}

TEST(PcapngReaderTest, RefusesATrailerThatDoesNotMatch) {
    const bool big = std::endian::native == std::endian::big;
    const std::string stream =
        little_section() + Built(big).u16(1).u16(0).u32(0).block(1, uint32_t{24});
    EXPECT_TRUE(
        contains(format_error(stream), "trailing total length 24 does not match the leading 20"));
}

TEST(PcapngReaderTest, RefusesABlockOverTheLimitBeforeItIsIn) {
    const std::vector<uint8_t> frame(2000);
    const std::string stream =
        little_section() + little_interface() + enhanced_packet(0, 0, 2000, frame, {});
    EXPECT_TRUE(
        contains(format_error(stream, 1024), "total length 2044 is over the limit of 1024 bytes"));
    StreamReader reader(1024);
    reader.feed(span_of(stream).first(little_section().size() + little_interface().size() + 8));
    reader.next();
    reader.next();
    EXPECT_THROW(reader.next(), FormatError);
}

TEST(PcapngReaderTest, RefusesAPacketBeforeAnyInterface) {
    const std::string stream = little_section() + enhanced_packet(0, 0, 0, {}, Direction::unknown);
    const std::string error = format_error(stream);
    EXPECT_TRUE(contains(
        error, "enhanced packet block at offset " + std::to_string(little_section().size())));
    EXPECT_TRUE(contains(error, "interface id 0 is not described"));
}

TEST(PcapngReaderTest, RefusesAnInterfaceIdOutOfRange) {
    InterfaceStatistics statistics;
    statistics.interface_id = 1;
    EXPECT_TRUE(contains(
        format_error(little_section() + little_interface() + interface_statistics(statistics)),
        "interface statistics block at offset 84: interface id 1 is not described (1 interfaces"));
    EXPECT_TRUE(contains(format_error(little_section() + little_interface() +
                                      enhanced_packet(7, 0, 0, {}, Direction::unknown)),
                         "interface id 7 is not described"));
}

TEST(PcapngReaderTest, RefusesAnOptionRunningPastTheBlock) {
    const bool big = std::endian::native == std::endian::big;
    // if_name says 9 bytes; 4 are left before the block's end.
    const std::string stream =
        little_section() + Built(big).u16(1).u16(0).u32(0).u16(2).u16(9).u32(0).block(1);
    EXPECT_TRUE(contains(format_error(stream), "option 2 of 9 bytes runs past the block (4 left)"));
}

TEST(PcapngReaderTest, RefusesACapturedLengthPastTheBlock) {
    std::string stream = little_section() + little_interface();
    std::string packet = enhanced_packet(0, 0, 4, frame_of(4), Direction::inbound);
    packet[20] = 17;  // captured length 17: 20 bytes padded; 16 are left (frame and options)
    EXPECT_TRUE(contains(format_error(stream + packet),
                         "captured length 17 runs past the block (16 bytes left)"));
}

TEST(PcapngReaderTest, RefusesFixedFieldsCutShort) {
    const bool big = std::endian::native == std::endian::big;
    EXPECT_TRUE(contains(
        format_error(little_section() + little_interface() + Built(big).u32(0).u32(0).block(6)),
        "its 8-byte body ends inside its fields"));
}

TEST(PcapngReaderTest, RefusesAnEpbFlagsOfTheWrongSize) {
    const bool big = std::endian::native == std::endian::big;
    const std::string packet =
        Built(big).u32(0).u32(0).u32(0).u32(0).u32(0).option(2, "ab").end_of_options().block(6);
    EXPECT_TRUE(contains(format_error(little_section() + little_interface() + packet),
                         "option 2 has 2 bytes, not 4"));
}

// ---------------------------------------------------------------- summary

Packet packet_of(std::vector<uint8_t> bytes, Direction direction = Direction::inbound) {
    Packet packet;
    packet.interface_id = 3;
    packet.timestamp_ns = 1'700'000'000'123'456'789;  // 22:13:20.123456789 UTC
    packet.original_length = static_cast<uint32_t>(bytes.size());
    packet.bytes = std::move(bytes);
    packet.direction = direction;
    return packet;
}

std::vector<uint8_t> ethernet(std::initializer_list<uint8_t> after_macs, size_t size = 64) {
    std::vector<uint8_t> frame(std::max(12 + after_macs.size(), size));
    frame[0] = frame[5] = frame[6] = 2;  // to 02:00:00:00:00:02
    frame[11] = 1;                       // from 02:00:00:00:00:01
    std::copy(after_macs.begin(), after_macs.end(), frame.begin() + 12);
    return frame;
}

TEST(PcapngSummaryTest, AnUntaggedIpv4Frame) {
    const Interface veth0{1, 262144, "veth0", 1'000'000'000};
    EXPECT_EQ(summary_line(packet_of(ethernet({0x08, 0x00}, 98)), &veth0, 0),
              "22:13:20.123456789 veth0 in 98 02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4");
}

TEST(PcapngSummaryTest, AQinQFrame) {
    const Interface tap{1, 262144, "tap0", 1'000'000'000};
    const auto frame = ethernet({0x88, 0xA8, 0x00, 0x64, 0x81, 0x00, 0x20, 0x0A, 0x86, 0xDD});
    EXPECT_EQ(summary_line(packet_of(frame, Direction::outbound), &tap, 3600),
              "23:13:20.123456789 tap0 out 64 02:00:00:00:00:01 > 02:00:00:00:00:02 "
              "vlan 100 vlan 10 IPv6");
}

TEST(PcapngSummaryTest, ARuntSaysItIsTooShort) {
    EXPECT_EQ(summary_line(packet_of(frame_of(10), Direction::unknown), nullptr, 0),
              "22:13:20.123456789 if3 10 (10 bytes captured, too short for an Ethernet header)");
}

TEST(PcapngSummaryTest, AnUnknownEthertypeInHex) {
    const Interface unnamed{1, 0, "", 1'000'000};
    EXPECT_EQ(summary_line(packet_of(ethernet({0x12, 0x34})), &unnamed, 0),
              "22:13:20.123456789 if3 in 64 02:00:00:00:00:01 > 02:00:00:00:00:02 0x1234");
}

TEST(PcapngSummaryTest, NamedEthertypes) {
    const Interface eth{1, 0, "eth0", 1'000'000'000};
    auto last_word = [&](std::initializer_list<uint8_t> type) {
        const std::string line = summary_line(packet_of(ethernet(type)), &eth, 0);
        return line.substr(line.rfind("02:00:00:00:00:02 ") + 18);
    };
    EXPECT_EQ(last_word({0x08, 0x06}), "ARP");
    EXPECT_EQ(last_word({0x88, 0xCC}), "LLDP");
    EXPECT_EQ(last_word({0x88, 0x47}), "MPLS");
    EXPECT_EQ(last_word({0x81, 0x00, 0x0F, 0xFF, 0x08, 0x00}), "vlan 4095 IPv4");
    EXPECT_EQ(last_word({0x00, 0x26}), "802.3 length 38");
}

TEST(PcapngSummaryTest, AnotherLinkTypeIsNotReadAsEthernet) {
    const Interface cooked{113, 0, "any", 1'000'000'000};
    EXPECT_EQ(summary_line(packet_of(ethernet({0x08, 0x00})), &cooked, 0),
              "22:13:20.123456789 any in 64 (link type 113, 64 bytes captured)");
}

TEST(PcapngSummaryTest, ATagCutShort) {
    const Interface eth{1, 0, "eth0", 1'000'000'000};
    EXPECT_EQ(summary_line(packet_of(ethernet({0x81, 0x00, 0x00}, 15)), &eth, 0),
              "22:13:20.123456789 eth0 in 15 02:00:00:00:00:01 > 02:00:00:00:00:02 "
              "802.1Q (tag cut short)");
}

TEST(PcapngSummaryTest, TheTimeOfDayWrapsEitherWay) {
    Packet packet = packet_of(ethernet({0x08, 0x00}));
    packet.timestamp_ns = 5'000'000'001;  // 00:00:05 UTC
    EXPECT_TRUE(contains(summary_line(packet, nullptr, -3600), "23:00:05.000000001 if3"));
    packet.timestamp_ns = 86'399'999'999'999;  // 23:59:59.999999999 UTC
    EXPECT_TRUE(contains(summary_line(packet, nullptr, 86'400 * 1000 + 1), "00:00:00.999999999"));
}

TEST(PcapngSummaryTest, AnInterfaceNameCannotDriveTheTerminal) {
    const Interface evil{1, 0, "a\x1b[2Jb", 1'000'000'000};
    EXPECT_TRUE(contains(summary_line(packet_of(ethernet({0x08, 0x00})), &evil, 0), " a?[2Jb in "));
}

}  // namespace
}  // namespace xconnect::pcapng
