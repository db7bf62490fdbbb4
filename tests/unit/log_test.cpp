#include "common/log.hpp"

#include <gtest/gtest.h>

namespace xconnect::log {
namespace {

TEST(LogTest, JournalStreamNamesExactlyItsDeviceAndInode) {
    EXPECT_TRUE(journal_stream_names("8:42", 8, 42));
    EXPECT_FALSE(journal_stream_names("8:43", 8, 42));
    EXPECT_FALSE(journal_stream_names("9:42", 8, 42));
    EXPECT_FALSE(journal_stream_names(nullptr, 8, 42));  // not started by systemd
    EXPECT_FALSE(journal_stream_names("", 8, 42));
    EXPECT_FALSE(journal_stream_names("8:42x", 8, 42));
    EXPECT_FALSE(journal_stream_names("8", 8, 42));
}

TEST(LogTest, OutsideTheJournalOnlyErrorsWarningsAndDebugSayTheirLevel) {
    EXPECT_STREQ(console_prefix(Level::err), "error: ");
    EXPECT_STREQ(console_prefix(Level::warning), "warning: ");
    EXPECT_STREQ(console_prefix(Level::notice), "");
    EXPECT_STREQ(console_prefix(Level::info), "");
    EXPECT_STREQ(console_prefix(Level::debug), "debug: ");
}

}  // namespace
}  // namespace xconnect::log
