#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <future>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "cli/capture.hpp"
#include "common/unique_fd.hpp"
#include "contract/pcapng.hpp"

namespace xconnect::cli {
namespace {

using std::chrono::seconds;

// How long a peer waits for what the test expects before giving up (so that a
// broken stream_capture fails the test instead of hanging it).
constexpr int peer_timeout_ms = 10'000;

// SIGINT and SIGTERM blocked in this thread (and so in the threads it starts)
// for the test's life, as xconnectctl blocks them; pending ones are taken
// before the old mask comes back, so none can kill the test run.
class BlockedSignals {
  public:
    BlockedSignals() {
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    }
    ~BlockedSignals() {
        const timespec now{};
        while (sigtimedwait(&signals_, nullptr, &now) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;

  private:
    sigset_t signals_{};
    sigset_t previous_{};
};

// A unique file name in the test's temporary directory, removed at the end.
class TempFile {
  public:
    TempFile() {
        std::string name = testing::TempDir() + "capture_stream_test_XXXXXX";
        UniqueFd fd(mkstemp(name.data()));
        if (!fd) {
            throw std::system_error(errno, std::generic_category(), name + ": mkstemp");
        }
        path_ = name;
    }
    ~TempFile() { unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }
    std::string contents() const {
        std::ifstream file(path_, std::ios::binary);
        return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    }

  private:
    std::string path_;
};

struct SocketPair {
    UniqueFd ours;  // stream_capture's
    UniqueFd peer;  // the daemon's
};

SocketPair socket_pair() {
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

// All of `bytes` on `fd`; false if the other end is gone (no SIGPIPE).
bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
}

// True once `fd` reads end of file (within the peer's timeout).
bool sees_end_of_file(int fd) {
    char byte = 0;
    for (;;) {
        pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
        if (poll(&readable, 1, peer_timeout_ms) <= 0) {
            return false;
        }
        const ssize_t got = recv(fd, &byte, 1, 0);
        if (got == 0) {
            return true;
        }
        if (got < 0 && errno != EINTR) {
            return false;
        }
    }
}

// ---------------------------------------------------------------- the stream

std::vector<uint8_t> frame_bytes(size_t size, uint8_t seed) {
    std::vector<uint8_t> frame(size);
    const uint8_t header[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    for (size_t i = 0; i < size; ++i) {
        frame[i] = i < sizeof header ? header[i] : static_cast<uint8_t>(seed + i);
    }
    return frame;
}

std::string head() {
    return pcapng::section_header("capture_stream_test") +
           pcapng::interface_description("left0", 16384) +
           pcapng::interface_description("right0", 16384);
}

// Frame `n` of a stream: on left0 or right0 in turn, inbound or outbound.
std::string frame(uint32_t n, size_t size = 98) {
    const auto bytes = frame_bytes(size, static_cast<uint8_t>(n));
    return pcapng::enhanced_packet(
        n % 2, 1'700'000'000'000'000'000 + n * 1'000'000ull, static_cast<uint32_t>(size), bytes,
        n % 3 == 0 ? pcapng::Direction::inbound : pcapng::Direction::outbound);
}

std::string frames(uint32_t count, size_t size = 98) {
    std::string out;
    for (uint32_t n = 0; n < count; ++n) {
        out += frame(n, size);
    }
    return out;
}

// Both interfaces' statistics: 40 received, 12 accepted, 1 dropped in all.
std::string statistics() {
    pcapng::InterfaceStatistics left;
    left.interface_id = 0;
    left.timestamp_ns = 1'700'000'001'000'000'000;
    left.received = 30;
    left.dropped = 1;
    left.accepted = 8;
    left.comment = "capture ended: count reached";
    pcapng::InterfaceStatistics right = left;
    right.interface_id = 1;
    right.received = 10;
    right.dropped = 0;
    right.accepted = 4;
    return pcapng::interface_statistics(left) + pcapng::interface_statistics(right);
}

const char* const complete_summary =
    "12 frames captured (filter accepted 12 of 40 received), 1 dropped by the capture\n"
    "capture ended: count reached\n";

// The lines stream_capture shows for `stream`: summary_line() for each of its
// packets, read back with the same reader.
std::string expected_lines(const std::string& stream) {
    pcapng::StreamReader reader;
    reader.feed({reinterpret_cast<const uint8_t*>(stream.data()), stream.size()});
    std::string lines;
    while (auto block = reader.next()) {
        if (const auto* packet = std::get_if<pcapng::Packet>(&*block)) {
            const auto whole_seconds = static_cast<time_t>(packet->timestamp_ns / 1'000'000'000);
            tm local{};
            localtime_r(&whole_seconds, &local);
            lines += pcapng::summary_line(*packet, &reader.interfaces().at(packet->interface_id),
                                          local.tm_gmtoff) +
                     "\n";
        }
    }
    return lines;
}

CaptureRequest request_writing_to(const std::string& path) {
    CaptureRequest request;
    request.ifname = "left0";
    request.write_to = path;
    return request;
}

CaptureRequest request_showing() {
    CaptureRequest request;
    request.ifname = "left0";
    return request;
}

// ---------------------------------------------------------------- the tests

TEST(CaptureStreamTest, CopiesTheStreamToAFileByteForByte) {
    BlockedSignals blocked;
    TempFile file;
    SocketPair sockets = socket_pair();
    // Larger than the socket's buffer and than stream_capture's 64 KiB reads:
    // a writer thread, and blocks cut between reads.
    const std::string stream = head() + frames(12, 9000) + statistics();
    ASSERT_GT(stream.size(), 100'000u);
    std::jthread daemon([&, peer = std::move(sockets.peer)] { send_all(peer.get(), stream); });

    std::ostringstream out, err;
    const CaptureSummary summary =
        stream_capture(sockets.ours.get(), request_writing_to(file.path()), out, err);
    daemon.join();

    EXPECT_TRUE(file.contents() == stream) << "the file differs from the stream";
    EXPECT_EQ(file.contents().size(), stream.size());
    EXPECT_EQ(summary.frames_written, 12u);
    EXPECT_EQ(summary.received, 40u);
    EXPECT_EQ(summary.accepted, 12u);
    EXPECT_EQ(summary.dropped, 1u);
    EXPECT_EQ(summary.why_ended, "capture ended: count reached");
    EXPECT_TRUE(summary.complete);
    EXPECT_EQ(out.str(), "");
    EXPECT_EQ(err.str(), complete_summary);
}

TEST(CaptureStreamTest, TheFileIsTruncated) {
    BlockedSignals blocked;
    TempFile file;
    {
        std::ofstream old(file.path(), std::ios::binary);
        old << std::string(1'000'000, 'x');
    }
    SocketPair sockets = socket_pair();
    const std::string stream = head() + frames(12) + statistics();
    ASSERT_TRUE(send_all(sockets.peer.get(), stream));
    sockets.peer.reset();

    std::ostringstream out, err;
    stream_capture(sockets.ours.get(), request_writing_to(file.path()), out, err);
    EXPECT_TRUE(file.contents() == stream);
}

TEST(CaptureStreamTest, ShowsALinePerFrame) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    const std::string stream = head() + frames(12) + statistics();
    ASSERT_TRUE(send_all(sockets.peer.get(), stream));
    sockets.peer.reset();

    std::ostringstream out, err;
    const CaptureSummary summary = stream_capture(sockets.ours.get(), request_showing(), out, err);

    EXPECT_EQ(out.str(), expected_lines(stream));
    size_t lines = 0;
    std::istringstream shown(out.str());
    for (std::string line; std::getline(shown, line);) {
        EXPECT_NE(line.find(lines % 2 == 0 ? "left0" : "right0"), std::string::npos) << line;
        ++lines;
    }
    EXPECT_EQ(lines, 12u);
    EXPECT_EQ(summary.frames_written, 12u);
    EXPECT_TRUE(summary.complete);
    EXPECT_EQ(err.str(), complete_summary);
}

TEST(CaptureStreamTest, AStreamCutInsideABlockIsIncomplete) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    const std::string third = frame(2);
    const std::string stream = head() + frames(2) + third.substr(0, third.size() / 2);
    ASSERT_TRUE(send_all(sockets.peer.get(), stream));
    sockets.peer.reset();

    std::ostringstream out, err;
    const CaptureSummary summary = stream_capture(sockets.ours.get(), request_showing(), out, err);

    EXPECT_EQ(summary.frames_written, 2u);
    EXPECT_FALSE(summary.complete);
    EXPECT_EQ(err.str(),
              "2 frames captured\n"
              "capture ended without statistics: the stream was cut\n");
}

TEST(CaptureStreamTest, AStreamWithoutStatisticsIsIncomplete) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    ASSERT_TRUE(send_all(sockets.peer.get(), head() + frames(1)));
    sockets.peer.reset();

    std::ostringstream out, err;
    const CaptureSummary summary = stream_capture(sockets.ours.get(), request_showing(), out, err);

    EXPECT_EQ(summary.frames_written, 1u);
    EXPECT_FALSE(summary.complete);
    EXPECT_EQ(err.str(),
              "1 frame captured\n"
              "capture ended without statistics: the stream was cut\n");
}

TEST(CaptureStreamTest, ASignalAsksTheDaemonToEndTheCapture) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    std::promise<bool> saw_end_of_file;
    auto peer_saw_end_of_file = saw_end_of_file.get_future();
    // The daemon: frames until the client shuts its half down, then the
    // statistics, then close.
    std::jthread daemon([&, peer = std::move(sockets.peer)] {
        send_all(peer.get(), head() + frames(12));
        const bool eof = sees_end_of_file(peer.get());
        saw_end_of_file.set_value(eof);
        send_all(peer.get(), statistics());
    });

    raise(SIGINT);
    std::ostringstream out, err;
    const CaptureSummary summary = stream_capture(sockets.ours.get(), request_showing(), out, err);
    daemon.join();

    EXPECT_TRUE(peer_saw_end_of_file.get());
    EXPECT_EQ(summary.frames_written, 12u);
    EXPECT_EQ(summary.why_ended, "capture ended: count reached");
    EXPECT_TRUE(summary.complete);
    EXPECT_EQ(err.str(), complete_summary);
}

TEST(CaptureStreamTest, ASecondSignalStopsAtOnce) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    const pthread_t client = pthread_self();
    std::promise<void> client_returned;
    auto returned = client_returned.get_future();
    // The daemon: frames, then, once the client asked to end, a second signal
    // while it holds the stream open without its statistics.
    std::jthread daemon([&, peer = std::move(sockets.peer)] {
        send_all(peer.get(), head() + frames(3));
        if (sees_end_of_file(peer.get())) {
            pthread_kill(client, SIGTERM);
        }
        returned.wait_for(seconds(10));
    });

    raise(SIGINT);
    std::ostringstream out, err;
    const CaptureSummary summary = stream_capture(sockets.ours.get(), request_showing(), out, err);
    client_returned.set_value();
    daemon.join();

    EXPECT_FALSE(summary.complete);
    EXPECT_EQ(err.str(),
              "3 frames captured\n"
              "capture ended without statistics: interrupted again before the daemon sent them\n");
}

// Standard output replaced by a pipe whose reader has gone, SIGPIPE ignored,
// as `xconnectctl capture veth0 -w - | head -c 100` ends.
class ClosedStandardOutput {
  public:
    ClosedStandardOutput() {
        int ends[2];
        if (pipe2(ends, O_CLOEXEC) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe2");
        }
        UniqueFd read_end(ends[0]);
        UniqueFd write_end(ends[1]);
        read_end.reset();
        fflush(stdout);
        saved_.reset(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &ignore, &previous_sigpipe_);
        dup2(write_end.get(), STDOUT_FILENO);
    }
    ~ClosedStandardOutput() {
        dup2(saved_.get(), STDOUT_FILENO);
        sigaction(SIGPIPE, &previous_sigpipe_, nullptr);
    }
    ClosedStandardOutput(const ClosedStandardOutput&) = delete;
    ClosedStandardOutput& operator=(const ClosedStandardOutput&) = delete;

  private:
    UniqueFd saved_;
    struct sigaction previous_sigpipe_ {};
};

TEST(CaptureStreamTest, AClosedStandardOutputEndsTheCaptureQuietly) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    ASSERT_TRUE(send_all(sockets.peer.get(), head() + frames(3)));
    // The daemon's end stays open: only the closed output can end the capture.
    CaptureRequest request = request_showing();
    request.write_to = "-";
    std::ostringstream out, err;
    CaptureSummary summary;
    {
        ClosedStandardOutput closed;
        summary = stream_capture(sockets.ours.get(), request, out, err);
    }
    EXPECT_FALSE(summary.complete);
    EXPECT_EQ(summary.frames_written, 0u);
    EXPECT_EQ(err.str(),
              "0 frames captured\n"
              "capture ended: standard output was closed\n");
    // The daemon sees the client go: end of file, and no one to write to.
    EXPECT_TRUE(sees_end_of_file(sockets.peer.get()));
    EXPECT_FALSE(send_all(sockets.peer.get(), statistics()));
}

TEST(CaptureStreamTest, AFileThatCannotBeOpenedIsNamed) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    const std::string path = testing::TempDir() + "capture_stream_test_no_such_dir/capture.pcapng";
    std::ostringstream out, err;
    try {
        stream_capture(sockets.ours.get(), request_writing_to(path), out, err);
        ADD_FAILURE() << "no error";
    } catch (const std::system_error& error) {
        const std::string message = error.what();
        EXPECT_EQ(error.code().value(), ENOENT);
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("open"), std::string::npos) << message;
        EXPECT_NE(message.find(std::strerror(ENOENT)), std::string::npos) << message;
    }
}

TEST(CaptureStreamTest, AMalformedStreamIsAFormatError) {
    BlockedSignals blocked;
    SocketPair sockets = socket_pair();
    ASSERT_TRUE(send_all(sockets.peer.get(), std::string(64, '\xff')));
    sockets.peer.reset();
    std::ostringstream out, err;
    EXPECT_THROW(stream_capture(sockets.ours.get(), request_showing(), out, err),
                 pcapng::FormatError);
}

}  // namespace
}  // namespace xconnect::cli
