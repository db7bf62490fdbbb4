#include "common/quote.hpp"

#include <gtest/gtest.h>

namespace xconnect {
namespace {

TEST(QuoteTest, ShortInputIsQuotedWhole) {
    EXPECT_EQ(quote("eth0"), "\"eth0\"");
    EXPECT_EQ(quote(""), "\"\"");
    EXPECT_EQ(quote("é日本\U0001F600"), "\"é日本\U0001F600\"");
    EXPECT_EQ(quote(std::string(64, 'x')), "\"" + std::string(64, 'x') + "\"");
}

TEST(QuoteTest, LongInputIsCutAndCounted) {
    EXPECT_EQ(quote(std::string(100000, 'x')), "\"" + std::string(64, 'x') + "…\" (100000 bytes)");
    EXPECT_EQ(quote(std::string(65, 'x')), "\"" + std::string(64, 'x') + "…\" (65 bytes)");
    EXPECT_EQ(quote("abcdef", 3), "\"abc…\" (6 bytes)");
}

TEST(QuoteTest, CutsOnACharacterBoundary) {
    // 63 bytes, then a 2-byte character that would end at byte 65: left out whole.
    const std::string text = std::string(63, 'x') + "é" + "yyy";
    EXPECT_EQ(quote(text), "\"" + std::string(63, 'x') + "…\" (68 bytes)");
    EXPECT_EQ(quote("日本語", 7), "\"日本…\" (9 bytes)");
    EXPECT_EQ(quote("\U0001F600\U0001F600", 5), "\"\U0001F600…\" (8 bytes)");
}

TEST(QuoteTest, EscapesWhatIsNotPrintableUtf8) {
    EXPECT_EQ(quote("a\tb\n"), "\"a\\x09b\\x0a\"");
    EXPECT_EQ(quote(std::string("a\0b", 3)), "\"a\\x00b\"");
    EXPECT_EQ(quote("\x7f\x1b[31m"), "\"\\x7f\\x1b[31m\"");
    EXPECT_EQ(quote("a\xff\xfe"), "\"a\\xff\\xfe\"");
    EXPECT_EQ(quote("\xc3"), "\"\\xc3\"");                             // truncated character
    EXPECT_EQ(quote("\xc0\xaf"), "\"\\xc0\\xaf\"");                    // overlong '/'
    EXPECT_EQ(quote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");           // UTF-16 surrogate
    EXPECT_EQ(quote("\xf4\x90\x80\x80"), "\"\\xf4\\x90\\x80\\x80\"");  // above U+10FFFF
    EXPECT_EQ(quote("\xef\xbf\xbe"), "\"\\xef\\xbf\\xbe\"");           // U+FFFE, sd-bus refuses it
    EXPECT_EQ(quote("a\u0085b"), "\"a\\u0085b\"");                     // C1 control
    EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    // An escaped byte counts as one byte of the 64 shown.
    EXPECT_EQ(quote(std::string(100, '\xff'), 2), "\"\\xff\\xff…\" (100 bytes)");
}

TEST(QuoteTest, ResultIsAlwaysBoundedValidUtf8) {
    uint32_t state = 1;
    for (int round = 0; round < 2000; ++round) {
        std::string text(static_cast<size_t>(round % 300), '\0');
        for (char& c : text) {
            state = state * 1103515245 + 12345;
            c = static_cast<char>(state >> 16);
        }
        const std::string quoted = quote(text);
        EXPECT_TRUE(is_valid_utf8(quoted)) << testing::PrintToString(quoted);
        EXPECT_EQ(quoted.find('\0'), std::string::npos);
        EXPECT_LE(quoted.size(), 4 * quote_limit + 40);
        const std::string message = valid_utf8(text);
        EXPECT_TRUE(is_valid_utf8(message));
        EXPECT_EQ(message.find('\0'), std::string::npos);
    }
}

TEST(ValidUtf8Test, KeepsValidTextEscapesTheRest) {
    EXPECT_EQ(valid_utf8("file.yaml:2: interface é\n"), "file.yaml:2: interface é\n");
    EXPECT_EQ(valid_utf8("a\xff"
                         "b\xc3"),
              "a\\xffb\\xc3");
    EXPECT_EQ(valid_utf8(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(valid_utf8("\xe6\x97\xa5\xe6\x97"), "日\\xe6\\x97");
}

TEST(ValidUtf8Test, StrictAsSdBus) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("ascii é 日本 \U0001F600 \U0010FFFD"));
    EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbd"));  // U+FFFD, the replacement character
    for (const char* bad : {"\x80", "\xc3", "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf",
                            "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
                            "\xef\xb7\x90", "\xef\xbf\xbf", "\xf0\x9f\xbf\xbe", "\xfe", "\xff"}) {
        EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(std::string(bad));
    }
}

}  // namespace
}  // namespace xconnect
