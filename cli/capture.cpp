#include "capture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>
#include <limits>
#include <ostream>
#include <span>
#include <system_error>
#include <variant>

#include "common/unique_fd.hpp"
#include "contract/pcapng.hpp"

namespace xconnect::cli {

namespace {

// The largest snapshot length a capture takes; tcpdump's "-s 0" asks for it.
constexpr uint32_t snaplen_max = 16384;
constexpr size_t read_chunk = 64 * 1024;

// A word from the command line or a file name, for a message: at most `limit`
// bytes shown, printable ASCII kept, '"' and '\' escaped, every other byte as
// \xNN, so nothing reaches the terminal as a control sequence. (common/quote's
// quote() lives in the service's library, which the CLI does not link.)
std::string quoted(std::string_view text, size_t limit = 64) {
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : text.substr(0, limit)) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            out += "\\x";
            out += hex_digits[byte >> 4];
            out += hex_digits[byte & 15];
        }
    }
    if (text.size() > limit) {
        out += "…\" (" + std::to_string(text.size()) + " bytes)";
    } else {
        out += '"';
    }
    return out;
}

[[noreturn]] void throw_system_error(int error_number, const std::string& context) {
    throw std::system_error(error_number, std::generic_category(), context);
}

// Digits only (no sign, no space, no trailing junk), within [low, high].
template <typename Number>
Number parse_number(const std::string& option, const std::string& value, Number low, Number high,
                    const std::string& what, const std::string& range) {
    Number number{};
    const char* const end = value.data() + value.size();
    bool valid = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    if (valid) {
        const auto [stop, error] = std::from_chars(value.data(), end, number);
        valid = error == std::errc{} && stop == end && number >= low && number <= high;
    }
    if (!valid) {
        throw CaptureUsageError(option + ": " + quoted(value) + " is not " + what + " (" + range +
                                ")");
    }
    return number;
}

template <typename Number>
std::string full_range(Number low) {
    return std::to_string(low) + " to " + std::to_string(std::numeric_limits<Number>::max());
}

constexpr const char* usage =
    "capture IFNAME [-w FILE|-] [-c COUNT] [-s SNAPLEN] [-G SECONDS] [FILTER...]";

// ---------------------------------------------------------------- streaming

// Why the loop stopped.
enum class Ending { end_of_stream, interrupted, output_closed };

// Writes all of `bytes` to `fd`. Returns false when `fd` is standard output and
// its reader went away (EPIPE; the caller ignores SIGPIPE); throws for
// anything else, naming `name`.
bool write_all(int fd, std::span<const uint8_t> bytes, const std::string& name) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written >= 0) {
            bytes = bytes.subspan(static_cast<size_t>(written));
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            // A non-blocking standard output (a terminal or pipe set so by
            // someone else): wait until it takes more.
            pollfd writable{.fd = fd, .events = POLLOUT, .revents = 0};
            if (::poll(&writable, 1, -1) < 0 && errno != EINTR) {
                throw_system_error(errno, name + ": poll");
            }
            continue;
        }
        if (errno == EPIPE && fd == STDOUT_FILENO) {
            return false;
        }
        throw_system_error(errno, name + ": write");
    }
    return true;
}

// Where the raw stream goes with -w: a file this owns, or standard output.
struct Output {
    UniqueFd owned;
    int fd = -1;
    std::string name;  // for messages
};

std::optional<Output> open_output(const CaptureRequest& request) {
    if (!request.write_to) {
        return std::nullopt;
    }
    Output output;
    if (*request.write_to == "-") {
        output.fd = STDOUT_FILENO;
        output.name = "standard output";
        return output;
    }
    output.name = "capture file " + quoted(*request.write_to, 256);
    output.owned.reset(
        ::open(request.write_to->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!output.owned) {
        throw_system_error(errno, output.name + ": open");
    }
    output.fd = output.owned.get();
    return output;
}

// SIGINT and SIGTERM, which the caller has blocked, as a readable fd.
UniqueFd open_signalfd() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    UniqueFd fd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd) {
        throw_system_error(errno, "capture: signalfd for SIGINT and SIGTERM");
    }
    return fd;
}

// How many signals are pending on the signalfd (reading them).
unsigned take_signals(int signal_fd) {
    unsigned taken = 0;
    for (;;) {
        signalfd_siginfo info{};
        const ssize_t got = ::read(signal_fd, &info, sizeof info);
        if (got == static_cast<ssize_t>(sizeof info)) {
            ++taken;
            continue;
        }
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            throw_system_error(errno, "capture: read of the signalfd");
        }
        return taken;
    }
}

void shutdown_socket(int socket, int how, const char* what) {
    // ENOTCONN: the daemon's end is gone already, which is what was asked.
    if (::shutdown(socket, how) != 0 && errno != ENOTCONN) {
        throw_system_error(errno, std::string("capture stream: shutdown(") + what + ")");
    }
}

// The local zone's offset from UTC at `timestamp_ns` (daylight saving time
// included).
int64_t utc_offset_at(uint64_t timestamp_ns) {
    const auto seconds = static_cast<time_t>(timestamp_ns / 1'000'000'000);
    tm local{};
    if (::localtime_r(&seconds, &local) == nullptr) {
        return 0;
    }
    return local.tm_gmtoff;
}

std::string plural(uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

struct Tally {
    CaptureSummary summary;
    bool statistics_seen = false;
    bool have_received = false;
    bool have_dropped = false;
    bool have_accepted = false;
};

void write_summary(std::ostream& err, const Tally& tally, Ending ending) {
    const CaptureSummary& s = tally.summary;
    err << plural(s.frames_written, "frame", "frames") << " captured";
    if (tally.have_received && tally.have_accepted) {
        err << " (filter accepted " << s.accepted << " of " << s.received << " received)";
    } else if (tally.have_received) {
        err << " (of " << s.received << " received)";
    } else if (tally.have_accepted) {
        err << " (filter accepted " << s.accepted << ")";
    }
    if (tally.have_dropped) {
        err << ", " << s.dropped << " dropped by the capture";
    }
    err << '\n';
    switch (ending) {
        case Ending::output_closed:
            err << "capture ended: standard output was closed\n";
            break;
        case Ending::interrupted:
            err << "capture ended without statistics: interrupted again before the daemon sent "
                   "them\n";
            break;
        case Ending::end_of_stream:
            if (s.complete) {
                // The daemon's comment says it whole: "capture ended: 10 frames written (count)".
                err << (s.why_ended.empty() ? std::string("capture ended") : s.why_ended) << '\n';
            } else {
                err << "capture ended without statistics: the stream was cut\n";
            }
            break;
    }
    err.flush();
}

}  // namespace

CaptureRequest parse_capture_arguments(const std::vector<std::string>& args) {
    CaptureRequest request;
    bool have_ifname = false;
    bool options_ended = false;
    std::vector<std::string> filter;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (!options_ended && arg == "--") {
            options_ended = true;
            continue;
        }
        if (options_ended || arg.size() < 2 || arg[0] != '-') {
            if (!have_ifname) {
                if (arg.empty()) {
                    throw CaptureUsageError("\"\" is not an interface name: " + std::string(usage));
                }
                request.ifname = arg;
                have_ifname = true;
            } else if (!arg.empty()) {
                filter.push_back(arg);
            }
            continue;
        }
        const char letter = arg[1];
        const std::string option = arg.substr(0, 2);
        if (letter != 'w' && letter != 'c' && letter != 's' && letter != 'G') {
            throw CaptureUsageError("unknown option " + quoted(arg) + ": " + usage);
        }
        std::string value;
        if (arg.size() > 2) {
            value = arg.substr(2);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            throw CaptureUsageError(option + " needs a value: " + usage);
        }
        const auto once = [&](bool given) {
            if (given) {
                throw CaptureUsageError(option + " is given twice");
            }
        };
        switch (letter) {
            case 'w':
                once(request.write_to.has_value());
                if (value.empty()) {
                    throw CaptureUsageError(
                        "-w: \"\" is not a file name (\"-\" is standard output)");
                }
                request.write_to = value;
                break;
            case 'c':
                once(request.count.has_value());
                request.count =
                    parse_number<uint64_t>(option, value, 1, std::numeric_limits<uint64_t>::max(),
                                           "a count", full_range<uint64_t>(1));
                break;
            case 's': {
                once(request.snaplen.has_value());
                const uint32_t snaplen =
                    parse_number<uint32_t>(option, value, 0, snaplen_max, "a snapshot length",
                                           "1 to " + std::to_string(snaplen_max) +
                                               " bytes, 0 for " + std::to_string(snaplen_max));
                request.snaplen = snaplen == 0 ? snaplen_max : snaplen;
                break;
            }
            case 'G':
                once(request.seconds.has_value());
                request.seconds =
                    parse_number<uint32_t>(option, value, 1, std::numeric_limits<uint32_t>::max(),
                                           "a number of seconds", full_range<uint32_t>(1));
                break;
        }
    }
    if (!have_ifname) {
        throw CaptureUsageError(std::string("capture needs an interface name: ") + usage);
    }
    for (const std::string& word : filter) {
        if (!request.filter.empty()) {
            request.filter += ' ';
        }
        request.filter += word;
    }
    return request;
}

CaptureSummary stream_capture(int socket, const CaptureRequest& request, std::ostream& out,
                              std::ostream& err) {
    std::optional<Output> output = open_output(request);
    const UniqueFd signal_fd = open_signalfd();
    ::tzset();

    pcapng::StreamReader reader;
    Tally tally;
    CaptureSummary& summary = tally.summary;
    std::vector<uint8_t> chunk(read_chunk);
    Ending ending = Ending::end_of_stream;

    // One block read back: counted, and shown when not copied.
    const auto take = [&](const pcapng::Block& block) {
        if (const auto* packet = std::get_if<pcapng::Packet>(&block)) {
            ++summary.frames_written;
            if (!output) {
                const auto& interfaces = reader.interfaces();
                const pcapng::Interface* interface = packet->interface_id < interfaces.size()
                                                         ? &interfaces[packet->interface_id]
                                                         : nullptr;
                out << pcapng::summary_line(*packet, interface, utc_offset_at(packet->timestamp_ns))
                    << '\n'
                    << std::flush;
                if (!out) {
                    ending = Ending::output_closed;
                }
            }
        } else if (const auto* statistics = std::get_if<pcapng::InterfaceStatistics>(&block)) {
            tally.statistics_seen = true;
            if (statistics->received) {
                summary.received += *statistics->received;
                tally.have_received = true;
            }
            if (statistics->dropped) {
                summary.dropped += *statistics->dropped;
                tally.have_dropped = true;
            }
            if (statistics->accepted) {
                summary.accepted += *statistics->accepted;
                tally.have_accepted = true;
            }
            if (summary.why_ended.empty()) {
                summary.why_ended = statistics->comment;
            }
        }
    };

    // One read of the socket: copied, parsed, shown. False at the end of the
    // stream or when the output is gone.
    const auto read_some = [&]() -> bool {
        const ssize_t got = ::read(socket, chunk.data(), chunk.size());
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                return true;
            }
            if (errno == ECONNRESET) {
                return false;  // the daemon went away: the stream was cut
            }
            throw_system_error(errno, "capture stream: read");
        }
        if (got == 0) {
            return false;
        }
        const std::span<const uint8_t> bytes(chunk.data(), static_cast<size_t>(got));
        if (output && !write_all(output->fd, bytes, output->name)) {
            ending = Ending::output_closed;
            return false;
        }
        try {
            reader.feed(bytes);
            while (auto block = reader.next()) {
                take(*block);
                if (ending == Ending::output_closed) {
                    return false;
                }
            }
        } catch (const pcapng::FormatError& error) {
            throw pcapng::FormatError(std::string("capture stream: ") + error.what());
        }
        return true;
    };

    // The signals taken: the first asks the daemon to end, the second stops.
    // False to stop.
    bool asked_to_end = false;
    const auto take_signals_now = [&]() -> bool {
        for (unsigned n = take_signals(signal_fd.get()); n > 0; --n) {
            if (asked_to_end) {
                ending = Ending::interrupted;
                return false;
            }
            // The daemon sees the end of our half: it ends the capture,
            // writes the statistics and closes.
            shutdown_socket(socket, SHUT_WR, "SHUT_WR");
            asked_to_end = true;
        }
        return true;
    };

    for (;;) {
        pollfd fds[2] = {{.fd = socket, .events = POLLIN, .revents = 0},
                         {.fd = signal_fd.get(), .events = POLLIN, .revents = 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_system_error(errno, "capture stream: poll");
        }
        // What the daemon sent before the signal is taken first.
        if (fds[0].revents != 0 && !read_some()) {
            break;
        }
        if (fds[1].revents != 0 && !take_signals_now()) {
            break;
        }
    }

    if (ending == Ending::output_closed) {
        // Nobody reads what we copy: the daemon may stop sending it.
        shutdown_socket(socket, SHUT_RDWR, "SHUT_RDWR");
    }
    summary.complete =
        ending == Ending::end_of_stream && tally.statistics_seen && reader.pending() == 0;
    write_summary(err, tally, ending);
    return summary;
}

}  // namespace xconnect::cli
