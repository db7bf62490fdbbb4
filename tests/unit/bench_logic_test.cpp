// The benchmark's pure decisions: which generator, and which rates may be
// compared at all.
#include <gtest/gtest.h>

#include <stdexcept>

#include "generator_spec.hpp"
#include "rates.hpp"

namespace xconnect::bench {
namespace {

TEST(GeneratorSpec, ParsesKindAndProcessCountAndSaysWhereItRuns) {
    const GeneratorSpec one = GeneratorSpec::parse("packet-ring");
    EXPECT_EQ(one.kind, GeneratorKind::packet_ring);
    EXPECT_EQ(one.cpus, std::vector<int>{0});
    EXPECT_EQ(one.describe(), "packet-ring on CPU 0");

    const GeneratorSpec two = GeneratorSpec::parse("af-xdp-copy x2");
    EXPECT_EQ(two.kind, GeneratorKind::xsk_copy);
    EXPECT_EQ(two.cpus, (std::vector<int>{0, 1}));
    EXPECT_EQ(two.describe(), "af-xdp-copy on CPUs 0,1");
}

TEST(GeneratorSpec, RefusesUnknownKindsAndCounts) {
    for (const char* bad : {"pktgen", "", "live-frames x0", "packet-socket x", "packet-socket x2a",
                            "packet-socket x100", "packet-socket x-1"}) {
        EXPECT_THROW(GeneratorSpec::parse(bad), std::invalid_argument) << bad;
    }
}

TEST(GeneratorSpec, OnlyPacketSocketsSendFramesAboveAPage) {
    EXPECT_TRUE(sends_size(GeneratorKind::live_frames, 4096));
    EXPECT_FALSE(sends_size(GeneratorKind::live_frames, 9000));
    EXPECT_FALSE(sends_size(GeneratorKind::xsk_copy, 9000));
    EXPECT_TRUE(sends_size(GeneratorKind::packet_socket, 9000));
    EXPECT_TRUE(sends_size(GeneratorKind::packet_ring, 9000));
}

TEST(GeneratorChoice, TheFastestWorkingSocketGeneratorForTheSizeWins) {
    const std::vector<GeneratorCandidate> candidates = {
        {GeneratorSpec::parse("live-frames"), 14.0, ""},
        {GeneratorSpec::parse("packet-socket"), 0.7, ""},
        {GeneratorSpec::parse("packet-socket x2"), 1.4, ""},
        {GeneratorSpec::parse("af-xdp-copy x2"), 1.9, ""},
        {GeneratorSpec::parse("packet-ring x2"), 5.0, "generator: bind: Device or resource busy"},
    };
    EXPECT_EQ(fastest_socket_generator(candidates, 64)->describe(), "af-xdp-copy on CPUs 0,1");
    EXPECT_EQ(fastest_socket_generator(candidates, 9000)->describe(), "packet-socket on CPUs 0,1");
    EXPECT_FALSE(fastest_socket_generator({candidates[0], candidates[4]}, 64));
}

std::vector<Rate> veth_rates(double ceiling, double bare_native, double bridge) {
    return {{"veth", "ceiling", 64, {ceiling}, "g", ""},
            {"veth", "bare-native", 64, {bare_native}, "g", ""},
            {"veth", "xconnectd-native", 64, {bare_native * 0.98}, "g", ""},
            {"veth", "bridge", 64, {bridge}, "g", ""},
            {"veth", "bridge", 1500, {bridge}, "g", ""}};
}

TEST(Rates, ARateWithinOneAndAHalfTimesOfItsCeilingIsGeneratorBound) {
    const auto rates = veth_rates(2.0, 1.34, 0.76);
    EXPECT_TRUE(generator_bound(rates, rates[1]));   // 2.0 < 1.5 x 1.34
    EXPECT_FALSE(generator_bound(rates, rates[3]));  // 2.0 >= 1.5 x 0.76
    EXPECT_FALSE(generator_bound(rates, rates[0]));  // the ceiling itself
    EXPECT_FALSE(generator_bound(rates, rates[4]));  // no ceiling at 1500 B
}

TEST(Rates, ABoundRateIsComparedWithNothingAndAFreeOneIsARatio) {
    const auto bound = veth_rates(1.9, 1.34, 0.76);
    EXPECT_EQ(versus(bound, bound[2], "bare-native"), "–");
    EXPECT_EQ(versus(bound, bound[2], "bridge"), "–");
    const auto free = veth_rates(14.0, 8.0, 1.6);
    EXPECT_EQ(versus(free, free[2], "bare-native"), "0.98x");
    EXPECT_EQ(versus(free, free[2], "bridge"), "4.90x");
    EXPECT_EQ(versus(free, free[2], "tc-mirred"), "");  // not measured
}

}  // namespace
}  // namespace xconnect::bench
