#pragma once

// xconnectctl capture: its tcpdump-style arguments, and the stream the
// daemon hands out (Pair.Capture's fd) copied to a file, to standard output,
// or shown a line per frame. Knows nothing of D-Bus: xconnectctl.cpp makes
// the call and passes the fd here.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xconnect::cli {

class CaptureUsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// `capture IFNAME [-w FILE|-] [-c COUNT] [-s SNAPLEN] [-G SECONDS] [FILTER...]`
struct CaptureRequest {
    std::string ifname;
    std::optional<std::string> write_to;  // -w: a file, or "-" for standard output
    std::optional<uint64_t> count;        // -c
    std::optional<uint32_t> snaplen;      // -s
    std::optional<uint32_t> seconds;      // -G
    std::string filter;                   // the remaining words, joined by spaces
    bool operator==(const CaptureRequest&) const = default;
};

// The arguments after the verb. Options and the interface may come in any
// order before the filter; "--" ends the options. Throws CaptureUsageError
// naming the option and the value (quoted, bounded) that is wrong.
CaptureRequest parse_capture_arguments(const std::vector<std::string>& args);

// What a capture said at its end, from its Interface Statistics Blocks.
struct CaptureSummary {
    uint64_t frames_written = 0;  // Enhanced Packet Blocks seen
    uint64_t received = 0;        // sum of isb_ifrecv
    uint64_t dropped = 0;         // sum of isb_ifdrop
    uint64_t accepted = 0;        // sum of isb_filteraccept
    std::string why_ended;        // the statistics blocks' comment ("capture ended: ...")
    bool complete = false;        // the stream ended after its statistics
};

// Reads the capture stream from `socket` until the daemon closes it:
// - with write_to, copies it byte for byte to the file (created 0644,
//   truncated) or to standard output for "-", flushing as it goes so that a
//   reader on a pipe sees frames as they come;
// - without, prints summary_line() per frame to `out`.
// SIGINT and SIGTERM (the caller has blocked them; they are taken with a
// signalfd) ask the daemon to end the capture: shutdown(SHUT_WR) on the
// socket; reading goes on until the daemon has written the statistics and
// closed. A second signal stops at once. So the caller blocks SIGINT and
// SIGTERM (sigprocmask) before the call, and ignores SIGPIPE: EPIPE on
// standard output (the reader of "-w -" went away) ends the capture quietly,
// the socket shut down. Writes "N frames captured, ..." and why the capture
// ended to `err`. Returns the summary; throws
// std::system_error for I/O failures with the file's name, and
// pcapng::FormatError for a malformed stream (it is always parsed, for the
// summary).
CaptureSummary stream_capture(int socket, const CaptureRequest& request, std::ostream& out,
                              std::ostream& err);

}  // namespace xconnect::cli
