// What the daemon checks of a capture's options before anything runs, and
// the filter libpcap compiles for it (run in user space on each frame).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "capture/capture_filter.hpp"
#include "capture/capture_options.hpp"
#include "common/quote.hpp"
#include "contract/errors.hpp"

namespace xconnect {
namespace {

std::string refusal(const CaptureOptions& options) {
    try {
        checked(options, 16384);
    } catch (const ContractError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::invalid_args);
        return error.what();
    }
    return "accepted";
}

TEST(CaptureOptionsTest, SnaplenDefaultsToWhatTheProgramCopiesAndIsBoundedByIt) {
    CaptureOptions options;
    EXPECT_EQ(checked(options, 16384).snaplen, 16384u);
    options.snaplen = 60;
    EXPECT_EQ(checked(options, 16384).snaplen, 60u);
    options.snaplen = 16385;
    EXPECT_EQ(refusal(options), "snaplen 16385 is more than the XDP program copies (16384 bytes)");
}

TEST(CaptureOptionsTest, FiltersAreBoundedAndQuotedBounded) {
    CaptureOptions options;
    options.filter = std::string(4096, 'x');
    EXPECT_EQ(refusal(options), "accepted");
    options.filter += 'x';
    const std::string too_long = refusal(options);
    EXPECT_NE(too_long.find("is longer than 4096 bytes"), std::string::npos) << too_long;
    EXPECT_LT(too_long.size(), 400u) << "the filter is quoted bounded";
    options.filter = std::string("icmp\0 or tcp", 12);
    EXPECT_NE(refusal(options).find("NUL"), std::string::npos);
}

// An Ethernet frame: destination, source, ethertype, then `rest`.
std::vector<uint8_t> frame(uint16_t ethertype, const std::vector<uint8_t>& rest) {
    std::vector<uint8_t> bytes(60);
    const uint8_t header[] = {
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, uint8_t(ethertype >> 8), uint8_t(ethertype)};
    std::copy(std::begin(header), std::end(header), bytes.begin());
    std::copy(rest.begin(), rest.end(), bytes.begin() + sizeof header);
    return bytes;
}

TEST(CaptureFilterTest, MatchesAsTcpdumpWould) {
    const auto arp = frame(0x0806, {});
    const auto tagged = frame(0x8100, {0x00, 0x0a, 0x08, 0x06});  // VLAN 10, then ARP
    EXPECT_TRUE(CaptureFilter("", 16384).matches(arp, 60)) << "no filter: every frame";
    EXPECT_TRUE(CaptureFilter("arp", 16384).matches(arp, 60));
    EXPECT_FALSE(CaptureFilter("arp", 16384).matches(tagged, 60));
    EXPECT_TRUE(CaptureFilter("vlan 10 and arp", 16384).matches(tagged, 60));
    EXPECT_FALSE(CaptureFilter("vlan 20", 16384).matches(tagged, 60));
    EXPECT_TRUE(CaptureFilter("ether src 02:00:00:00:00:01", 16384).matches(arp, 60));
    // The original length, not what was kept, is what `greater` compares.
    EXPECT_TRUE(CaptureFilter("greater 1000", 16384).matches(arp, 1500));
}

TEST(CaptureFilterTest, ABadExpressionIsRefusedWithLibpcapsWords) {
    try {
        CaptureFilter("ether src nonsense and", 16384);
        FAIL() << "accepted";
    } catch (const ContractError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::invalid_args);
        EXPECT_EQ(std::string(error.what()).rfind("filter \"ether src nonsense and\": ", 0), 0u)
            << error.what();
    }
}

TEST(CaptureFilterTest, LibpcapsWordsAreBoundedAsInputIs) {
    // libpcap repeats the unknown word, here (escaped with a backslash, as its
    // lexer takes any bytes) 200 bytes that are not UTF-8,
    // each escaped into 4 (the fuzzer's find: a message of 1180 bytes).
    const std::string word(200, '\xff');
    try {
        CaptureFilter("host \\" + word, 16384);
        FAIL() << "accepted";
    } catch (const ContractError& error) {
        const std::string message = error.what();
        EXPECT_TRUE(is_valid_utf8(message));
        EXPECT_LE(message.size(), 1024u) << message;
        EXPECT_NE(message.find("\\xff"), std::string::npos) << message;
    }
}

}  // namespace
}  // namespace xconnect
