#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/capture.hpp"

namespace xconnect::cli {
namespace {

// The message of the CaptureUsageError that `args` cause; "" when they parse.
std::string usage_error(const std::vector<std::string>& args) {
    try {
        parse_capture_arguments(args);
    } catch (const CaptureUsageError& error) {
        return error.what();
    }
    return "";
}

// `text` has `part` in it (gmock's HasSubstr, without linking gmock).
testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// A request on `ifname` with nothing else set, for the tests to fill in.
CaptureRequest on(const std::string& ifname) {
    CaptureRequest request;
    request.ifname = ifname;
    return request;
}

TEST(CaptureArgumentsTest, InterfaceAlone) {
    EXPECT_EQ(parse_capture_arguments({"veth0"}), on("veth0"));
}

TEST(CaptureArgumentsTest, EveryOptionAndAFilter) {
    CaptureRequest expected = on("veth0");
    expected.write_to = "out.pcapng";
    expected.count = 10;
    expected.snaplen = 128;
    expected.seconds = 5;
    expected.filter = "tcp port 80";
    EXPECT_EQ(parse_capture_arguments({"veth0", "-w", "out.pcapng", "-c", "10", "-s", "128", "-G",
                                       "5", "tcp", "port", "80"}),
              expected);
}

TEST(CaptureArgumentsTest, OptionsBeforeTheInterface) {
    CaptureRequest expected = on("veth0");
    expected.write_to = "-";
    expected.count = 3;
    expected.filter = "icmp";
    EXPECT_EQ(parse_capture_arguments({"-c", "3", "-w", "-", "veth0", "icmp"}), expected);
}

TEST(CaptureArgumentsTest, ValuesAttachedToTheirOption) {
    CaptureRequest expected = on("veth0");
    expected.write_to = "cap.pcapng";
    expected.count = 5;
    expected.snaplen = 64;
    expected.seconds = 1;
    EXPECT_EQ(parse_capture_arguments({"-wcap.pcapng", "-c5", "-s64", "-G1", "veth0"}), expected);
    EXPECT_EQ(parse_capture_arguments({"-w-", "veth0"}).write_to, "-");
}

TEST(CaptureArgumentsTest, OptionsAmongTheFilterWords) {
    CaptureRequest expected = on("veth0");
    expected.count = 2;
    expected.snaplen = 100;
    expected.filter = "tcp port 80";
    EXPECT_EQ(parse_capture_arguments({"veth0", "tcp", "-c", "2", "port", "80", "-s100"}),
              expected);
}

TEST(CaptureArgumentsTest, DoubleDashEndsTheOptions) {
    CaptureRequest expected = on("veth0");
    expected.count = 1;
    expected.filter = "-c 5";
    EXPECT_EQ(parse_capture_arguments({"veth0", "-c", "1", "--", "-c", "5"}), expected);

    expected = on("veth0");
    expected.filter = "not ( arp )";
    EXPECT_EQ(parse_capture_arguments({"--", "veth0", "not", "(", "arp", ")"}), expected);
    // Only the first "--" is taken: a second is a filter word.
    EXPECT_EQ(parse_capture_arguments({"veth0", "--", "--"}).filter, "--");
}

TEST(CaptureArgumentsTest, FilterWordsAreJoinedBySingleSpaces) {
    EXPECT_EQ(parse_capture_arguments({"veth0", "not", "(", "arp", "or", "ip6", ")"}).filter,
              "not ( arp or ip6 )");
    EXPECT_EQ(parse_capture_arguments({"veth0", "", "udp", ""}).filter, "udp");
    EXPECT_EQ(parse_capture_arguments({"veth0", "-"}).filter, "-");
}

TEST(CaptureArgumentsTest, SnaplenZeroMeansEverything) {
    EXPECT_EQ(parse_capture_arguments({"veth0", "-s", "0"}).snaplen, 16384u);
    EXPECT_EQ(parse_capture_arguments({"veth0", "-s0"}).snaplen, 16384u);
    EXPECT_EQ(parse_capture_arguments({"veth0", "-s", "1"}).snaplen, 1u);
    EXPECT_EQ(parse_capture_arguments({"veth0", "-s", "16384"}).snaplen, 16384u);
    EXPECT_EQ(usage_error({"veth0", "-s", "16385"}),
              "-s: \"16385\" is not a snapshot length (1 to 16384 bytes, 0 for 16384)");
    EXPECT_TRUE(contains(usage_error({"veth0", "-s", "4294967296"}),
                         "-s: \"4294967296\" is not a snapshot length"));
}

TEST(CaptureArgumentsTest, CountBounds) {
    EXPECT_EQ(parse_capture_arguments({"veth0", "-c", "1"}).count, 1u);
    EXPECT_EQ(parse_capture_arguments({"veth0", "-c", "18446744073709551615"}).count,
              18446744073709551615u);
    EXPECT_EQ(parse_capture_arguments({"veth0", "-c", "007"}).count, 7u);
    EXPECT_EQ(usage_error({"veth0", "-c", "0"}),
              "-c: \"0\" is not a count (1 to 18446744073709551615)");
    EXPECT_EQ(usage_error({"veth0", "-c", "18446744073709551616"}),
              "-c: \"18446744073709551616\" is not a count (1 to 18446744073709551615)");
}

TEST(CaptureArgumentsTest, SecondsBounds) {
    EXPECT_EQ(parse_capture_arguments({"veth0", "-G", "1"}).seconds, 1u);
    EXPECT_EQ(parse_capture_arguments({"veth0", "-G", "4294967295"}).seconds, 4294967295u);
    EXPECT_EQ(usage_error({"veth0", "-G", "0"}),
              "-G: \"0\" is not a number of seconds (1 to 4294967295)");
    EXPECT_EQ(usage_error({"veth0", "-G", "4294967296"}),
              "-G: \"4294967296\" is not a number of seconds (1 to 4294967295)");
}

TEST(CaptureArgumentsTest, NumbersAreStrict) {
    EXPECT_EQ(usage_error({"veth0", "-c", "12x"}),
              "-c: \"12x\" is not a count (1 to 18446744073709551615)");
    for (const char* bad : {"", "+5", "-5", " 5", "5 ", "0x10", "1e3", "5.0", "\u0663"}) {
        EXPECT_TRUE(contains(usage_error({"veth0", "-c", bad}), "is not a count")) << bad;
        EXPECT_TRUE(contains(usage_error({"veth0", "-G", bad}), "is not a number of seconds"))
            << bad;
        EXPECT_TRUE(contains(usage_error({"veth0", "-s", bad}), "is not a snapshot length")) << bad;
    }
}

TEST(CaptureArgumentsTest, BadValuesAreQuotedBoundedAndEscaped) {
    const std::string message = usage_error({"veth0", "-c", std::string(1000, '9')});
    EXPECT_TRUE(contains(message, "\"" + std::string(64, '9') + "…\" (1000 bytes)"));
    EXPECT_LT(message.size(), 200u);
    EXPECT_EQ(usage_error({"veth0", "-G", "1\x1b[2J\"\\"}),
              "-G: \"1\\x1b[2J\\\"\\\\\" is not a number of seconds (1 to 4294967295)");
    EXPECT_EQ(usage_error({"veth0", "-c", "\xff\xc3\xa9"}),
              "-c: \"\\xff\\xc3\\xa9\" is not a count (1 to 18446744073709551615)");
}

TEST(CaptureArgumentsTest, TheInterfaceIsRequired) {
    EXPECT_TRUE(contains(usage_error({}), "capture needs an interface name"));
    EXPECT_TRUE(contains(usage_error({"-c", "5", "-w", "x"}), "capture needs an interface name"));
    EXPECT_TRUE(contains(usage_error({"--"}), "capture needs an interface name"));
    EXPECT_TRUE(contains(usage_error({""}), "\"\" is not an interface name"));
}

TEST(CaptureArgumentsTest, AnOptionNeedsItsValue) {
    EXPECT_TRUE(contains(usage_error({"veth0", "-c"}), "-c needs a value"));
    EXPECT_TRUE(contains(usage_error({"veth0", "-w"}), "-w needs a value"));
    EXPECT_TRUE(contains(usage_error({"-s"}), "-s needs a value"));
    EXPECT_TRUE(contains(usage_error({"veth0", "tcp", "-G"}), "-G needs a value"));
    EXPECT_TRUE(contains(usage_error({"veth0", "-w", ""}), "-w: \"\" is not a file name"));
    // The next word is the value, even one that looks like an option.
    EXPECT_EQ(parse_capture_arguments({"veth0", "-w", "-c"}).write_to, "-c");
    EXPECT_TRUE(contains(usage_error({"veth0", "-c", "-w"}), "-c: \"-w\" is not a count"));
}

TEST(CaptureArgumentsTest, UnknownOptionsAreRefused) {
    EXPECT_TRUE(contains(usage_error({"veth0", "-n"}), "unknown option \"-n\""));
    EXPECT_TRUE(contains(usage_error({"-i", "veth0"}), "unknown option \"-i\""));
    EXPECT_TRUE(contains(usage_error({"veth0", "--count=5"}), "unknown option \"--count=5\""));
    EXPECT_TRUE(contains(usage_error({"veth0", "tcp", "-v"}), "unknown option \"-v\""));
}

TEST(CaptureArgumentsTest, AnOptionGivenTwiceIsRefused) {
    EXPECT_EQ(usage_error({"veth0", "-c", "1", "-c2"}), "-c is given twice");
    EXPECT_EQ(usage_error({"-w", "a", "veth0", "-w", "b"}), "-w is given twice");
}

}  // namespace
}  // namespace xconnect::cli
