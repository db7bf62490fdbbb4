// Capture (Pair.Capture, xconnectctl capture) against the real daemon on a
// private bus: frames sent across a pair both ways come back byte for byte,
// with their side, in the order sent, read by tshark and tcpdump; filter,
// count, time, Ctrl-C, the pair removed and the daemon stopped end a capture
// with its statistics; polkit guards it.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>
#include <regex>

#include "bus_fixture.hpp"
#include "contract/pcapng.hpp"
#include "frames.hpp"
#include "user_readable.hpp"

namespace xconnect {
namespace {

using namespace test;

const Mac kLeftMac{2, 0, 0, 0, 0xca, 1};
const Mac kRightMac{2, 0, 0, 0, 0xca, 2};
// Only the test's frames: the namespaces' own stacks send some too (IPv6).
const std::string kTestFrames = "ether src 02:00:00:00:ca:01 or ether src 02:00:00:00:ca:02";

// A frame of `size` bytes of random payload under an ethertype of local
// experiments (IEEE 802 0x88b5).
Frame random_frame(const Mac& source, const Mac& destination, size_t size, std::mt19937& random) {
    Frame frame(destination.begin(), destination.end());
    frame.insert(frame.end(), source.begin(), source.end());
    frame.push_back(0x88);
    frame.push_back(0xb5);
    while (frame.size() < size) {
        frame.push_back(static_cast<uint8_t>(random()));
    }
    return frame;
}

// One frame as the reading tools saw it.
struct ReadBack {
    std::string interface;  // tshark's frame.interface_name
    std::string direction;  // tshark's frame.packet_flags_direction
    Frame bytes;            // tcpdump -xx
};

// What a capture file holds, as tshark and tcpdump read it.
std::vector<ReadBack> read_back(const fs::path& file) {
    std::vector<ReadBack> frames;
    std::istringstream fields(sh("tshark -r " + file.string() +
                                 " -T fields -E separator=, -e frame.interface_name"
                                 " -e frame.packet_flags_direction 2>/dev/null | cat"));
    for (std::string line; std::getline(fields, line);) {
        const size_t comma = line.find(',');
        frames.push_back({line.substr(0, comma), line.substr(comma + 1), {}});
    }
    // tcpdump -xx: the whole frame in hex, 16 bytes a line after a tab.
    std::istringstream dump(sh("tcpdump -r " + file.string() + " -n -xx 2>/dev/null | cat"));
    size_t index = 0;
    bool first = true;
    for (std::string line; std::getline(dump, line);) {
        if (line.empty() || (line[0] != '\t' && !std::isdigit(line[0]))) {
            continue;  // a frame's description may go on in a line of its own
        }
        if (line[0] != '\t') {
            index = first ? 0 : index + 1;  // a timestamp: the next frame
            first = false;
            continue;
        }
        if (index >= frames.size()) {
            ADD_FAILURE() << "tcpdump read more frames than tshark";
            break;
        }
        std::istringstream words(line.substr(line.find(':') + 1));
        for (std::string word; words >> word;) {
            for (size_t at = 0; at + 1 < word.size(); at += 2) {
                frames[index].bytes.push_back(
                    static_cast<uint8_t>(std::stoul(word.substr(at, 2), nullptr, 16)));
            }
        }
    }
    return frames;
}

// The statistics at the end of a capture file, by interface id.
std::vector<pcapng::InterfaceStatistics> statistics_of(const fs::path& file) {
    const std::string bytes = read_file(file);
    pcapng::StreamReader reader;
    reader.feed({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    std::vector<pcapng::InterfaceStatistics> statistics;
    while (auto block = reader.next()) {
        if (auto* isb = std::get_if<pcapng::InterfaceStatistics>(&*block)) {
            statistics.push_back(*isb);
        }
    }
    EXPECT_EQ(reader.pending(), 0u) << file << " ends inside a block";
    return statistics;
}

class CaptureTest : public BusTest {
  protected:
    void SetUp() override {
        BusTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        capture_file_ = config_dir_ / "capture.pcapng";
    }

    void add_pair() {
        const Outcome added = ctl("add xconnect-1 xconnect-2");
        ASSERT_EQ(added.status, 0) << added.output;
    }
    Outcome ctl(const std::string& args, const TestUser* as = nullptr) {
        return run((as ? as->run_as() : "") + xconnectctl_.string() + " " + args + " </dev/null");
    }
    // xconnectctl capture ARGS in the background (as `as`), once the daemon
    // said it started. Its stderr is in the returned process's log.
    std::unique_ptr<ChildProcess> start_capture(const std::string& args,
                                                const TestUser* as = nullptr) {
        const std::string command =
            (as ? as->run_as() : "") + xconnectctl_.string() + " capture " + args + " </dev/null";
        auto process = std::make_unique<ChildProcess>(
            "/bin/sh", std::vector<std::string>{"-c", command}, nullptr, /*with_stdout=*/true);
        bus_->log().expect_log("capture of xconnect-1<->xconnect-2 started by");
        return process;
    }
    // Sends `frame` in at `from` (1: xc-1, the left side's peer) and waits
    // until it came out at the other side: the next one is sent after it.
    void cross(int from, const Frame& frame) {
        PacketSocket& in = from == 1 ? *left_ : *right_;
        PacketSocket& out = from == 1 ? *right_ : *left_;
        in.send(frame);
        ASSERT_TRUE(out.receive_equal(frame))
            << "frame of " << frame.size() << " bytes from xc-" << from;
    }
    void open_sockets() {
        left_ = std::make_unique<PacketSocket>(*peers_[0], "xc-1");
        right_ = std::make_unique<PacketSocket>(*peers_[1], "xc-2");
    }
    void gro(int peer, bool on) {
        sh(peers_[peer - 1]->exec() + "ethtool -K xc-" + std::to_string(peer) + " gro " +
           (on ? "on" : "off"));
    }
    void set_mtu(int mtu) {
        for (int n = 1; n <= 2; ++n) {
            sh(host_->ip() + "link set xconnect-" + std::to_string(n) + " mtu " +
               std::to_string(mtu));
            sh(peers_[n - 1]->ip() + "link set xc-" + std::to_string(n) + " mtu " +
               std::to_string(mtu));
        }
    }

    // Sends `frames` (side, frame) across, captures them to a file with
    // kTestFrames as the filter and the count of frames, and checks the file
    // holds exactly them, with their side, in order.
    void expect_captured_exactly(const std::vector<std::pair<int, Frame>>& frames) {
        auto capture = start_capture("xconnect-1 -w " + capture_file_.string() + " -c " +
                                     std::to_string(frames.size()) + " " + kTestFrames);
        for (const auto& [side, frame] : frames) {
            ASSERT_NO_FATAL_FAILURE(cross(side, frame));
        }
        ASSERT_EQ(capture->wait_exit(), 0) << capture->log_text();
        EXPECT_TRUE(capture->logged("capture ended: " + std::to_string(frames.size()) +
                                    " frames written (count)"))
            << capture->log_text();
        const std::vector<ReadBack> read = read_back(capture_file_);
        ASSERT_EQ(read.size(), frames.size());
        for (size_t i = 0; i < frames.size(); ++i) {
            const auto& [side, frame] = frames[i];
            EXPECT_EQ(read[i].interface, side == 1 ? "xconnect-1" : "xconnect-2") << "frame " << i;
            EXPECT_EQ(read[i].direction, "0x00000001") << "frame " << i << ": inbound";
            EXPECT_EQ(hex(read[i].bytes), hex(frame)) << "frame " << i;
        }
        const auto statistics = statistics_of(capture_file_);
        ASSERT_EQ(statistics.size(), 2u);
        uint64_t accepted = 0;
        for (const auto& side : statistics) {
            accepted += side.accepted.value_or(0);
            EXPECT_EQ(side.dropped, 0u);
            EXPECT_GE(side.received.value_or(0), side.accepted.value_or(0));
        }
        EXPECT_EQ(accepted, frames.size());
    }

    const UserReadableCopy installed_{{XCONNECTCTL_PATH}};
    const fs::path xconnectctl_ = installed_["xconnectctl"];
    fs::path capture_file_;
    std::unique_ptr<PacketSocket> left_;
    std::unique_ptr<PacketSocket> right_;
    std::mt19937 random_{20261207};
};

// Both ways: random payloads of every size from 64 to 1514 bytes, 802.1Q and
// QinQ frames, in both modes.
class CaptureModeTest : public CaptureTest, public testing::WithParamInterface<bool> {};

TEST_P(CaptureModeTest, FramesComeBackByteForByteWithTheirSideInOrder) {
    const bool native = GetParam();
    gro(1, native);
    gro(2, native);
    ASSERT_NO_FATAL_FAILURE(add_pair());
    EXPECT_EQ(property("/org/xconnect/pair/xconnect_2d1", "Mode"),
              std::string("s \"") + (native ? "native" : "generic") + "\"\n");
    open_sockets();
    std::vector<std::pair<int, Frame>> frames;
    std::uniform_int_distribution<size_t> size(64, 1514);
    for (uint32_t i = 0; i < 40; ++i) {
        const int side = i % 3 == 0 ? 2 : 1;
        const Mac& source = side == 1 ? kLeftMac : kRightMac;
        const Mac& destination = side == 1 ? kRightMac : kLeftMac;
        frames.emplace_back(side, random_frame(source, destination, size(random_), random_));
    }
    frames.emplace_back(1, random_frame(kLeftMac, kRightMac, 64, random_));
    frames.emplace_back(2, random_frame(kRightMac, kLeftMac, 1514, random_));
    frames.emplace_back(1, vlan_frame(kLeftMac, kRightMac, 10, 200, 1));
    frames.emplace_back(2, vlan_frame(kRightMac, kLeftMac, 4094, 1518, 2));
    // AF_PACKET lets only an 802.1Q frame exceed the MTU (by its tag).
    frames.emplace_back(1, qinq_frame(kLeftMac, kRightMac, 100, 200, 1514, 3));
    frames.emplace_back(2, qinq_frame(kRightMac, kLeftMac, 0x2064, 0x30c8, 300, 4));
    expect_captured_exactly(frames);
}

TEST_P(CaptureModeTest, JumboFramesAreCapturedWhole) {
    const bool native = GetParam();
    set_mtu(9000);
    gro(1, native);
    gro(2, native);
    ASSERT_NO_FATAL_FAILURE(add_pair());
    open_sockets();
    expect_captured_exactly({{1, random_frame(kLeftMac, kRightMac, 9014, random_)},
                             {2, random_frame(kRightMac, kLeftMac, 9014, random_)},
                             {1, random_frame(kLeftMac, kRightMac, 5000, random_)}});
}

INSTANTIATE_TEST_SUITE_P(Modes, CaptureModeTest, testing::Bool(),
                         [](const auto& info) { return info.param ? "native" : "generic"; });

TEST_F(CaptureTest, TheFilterDecidesWhatIsWrittenAndCounted) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    open_sockets();
    auto capture = start_capture("xconnect-1 -w " + capture_file_.string() +
                                 " -c 3 vlan 10 and ether src 02:00:00:00:ca:01");
    std::vector<Frame> wanted;
    for (uint32_t i = 0; i < 9; ++i) {
        const Frame frame = i % 3 == 2 ? vlan_frame(kLeftMac, kRightMac, 10, 100, i)
                                       : vlan_frame(kLeftMac, kRightMac, 20, 100, i);
        if (i % 3 == 2) {
            wanted.push_back(frame);
        }
        ASSERT_NO_FATAL_FAILURE(cross(1, frame));
    }
    ASSERT_EQ(capture->wait_exit(), 0) << capture->log_text();
    const auto read = read_back(capture_file_);
    ASSERT_EQ(read.size(), 3u);
    for (size_t i = 0; i < read.size(); ++i) {
        EXPECT_EQ(hex(read[i].bytes), hex(wanted[i]));
    }
    const auto statistics = statistics_of(capture_file_);
    ASSERT_EQ(statistics.size(), 2u);
    EXPECT_EQ(statistics[0].accepted, 3u);
    EXPECT_GE(statistics[0].received.value_or(0), 9u) << "every frame in counts as received";
    EXPECT_EQ(statistics[0].comment, "capture ended: 3 frames written (count)");
}

TEST_F(CaptureTest, ABadFilterIsRefusedWithLibpcapsWordsAndNothingRuns) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    const Outcome bad = ctl("capture xconnect-1 -c 1 ether src nonsense and");
    EXPECT_EQ(bad.status, 2) << bad.output;
    EXPECT_NE(bad.output.find("filter \"ether src nonsense and\""), std::string::npos)
        << bad.output;
    expect_error(gdbus("org.xconnect.Pair.Capture \"{'filter': <'tcp port 99999'>}\"", nullptr,
                       "/org/xconnect/pair/xconnect_2d1"),
                 "org.freedesktop.DBus.Error.InvalidArgs");
    expect_error(gdbus("org.xconnect.Pair.Capture \"{'frames': <uint64 3>}\"", nullptr,
                       "/org/xconnect/pair/xconnect_2d1"),
                 "org.freedesktop.DBus.Error.InvalidArgs");
    expect_error(gdbus("org.xconnect.Pair.Capture \"{'count': <'3'>}\"", nullptr,
                       "/org/xconnect/pair/xconnect_2d1"),
                 "org.freedesktop.DBus.Error.InvalidArgs");
    EXPECT_FALSE(bus_->log().logged("capture of xconnect-1<->xconnect-2 started"));
}

TEST_F(CaptureTest, SecondsEndACaptureWithItsStatistics) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    auto capture = start_capture("xconnect-1 -G 1 -w " + capture_file_.string());
    ASSERT_EQ(capture->wait_exit(), 0) << capture->log_text();
    const auto statistics = statistics_of(capture_file_);
    ASSERT_EQ(statistics.size(), 2u);
    EXPECT_EQ(statistics[1].comment, "capture ended: 1 second elapsed");
    const uint64_t elapsed_ns =
        statistics[1].end_ns.value_or(0) - statistics[1].start_ns.value_or(0);
    EXPECT_GE(elapsed_ns, 1'000'000'000u);
}

TEST_F(CaptureTest, CtrlCEndsTheCaptureThroughTheDaemonWithStatistics) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    open_sockets();
    // Not through sh: the signal goes to xconnectctl itself.
    ChildProcess capture(xconnectctl_.string(),
                         {"capture", "xconnect-1", "-w", capture_file_.string(), kTestFrames},
                         nullptr, /*with_stdout=*/true);
    bus_->log().expect_log("capture of xconnect-1<->xconnect-2 started by");
    const Frame frame = random_frame(kLeftMac, kRightMac, 100, random_);
    ASSERT_NO_FATAL_FAILURE(cross(1, frame));
    capture.signal(SIGINT);
    EXPECT_EQ(capture.wait_exit(), 0) << capture.log_text();
    const auto read = read_back(capture_file_);
    ASSERT_EQ(read.size(), 1u);
    EXPECT_EQ(hex(read[0].bytes), hex(frame));
    const auto statistics = statistics_of(capture_file_);
    ASSERT_EQ(statistics.size(), 2u);
    EXPECT_EQ(statistics[0].comment, "capture ended: ended by the reader");
}

TEST_F(CaptureTest, RemovingThePairEndsItsCapture) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    auto capture = start_capture("xconnect-1 -w " + capture_file_.string());
    ASSERT_EQ(ctl("remove xconnect-2").status, 0);
    ASSERT_EQ(capture->wait_exit(), 0) << capture->log_text();
    EXPECT_TRUE(capture->logged("capture ended: pair xconnect-1<->xconnect-2 removed"))
        << capture->log_text();
    EXPECT_EQ(statistics_of(capture_file_).size(), 2u);
}

TEST_F(CaptureTest, StoppingTheDaemonEndsEveryCaptureWithStatistics) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    auto first = start_capture("xconnect-1 -w " + capture_file_.string());
    const fs::path second_file = config_dir_ / "second.pcapng";
    auto second = start_capture("xconnect-2 -w " + second_file.string());
    bus_->stop_xconnectd();
    for (auto* capture : {first.get(), second.get()}) {
        EXPECT_EQ(capture->wait_exit(), 0) << capture->log_text();
        EXPECT_TRUE(capture->logged("capture ended: xconnectd stopping")) << capture->log_text();
    }
    EXPECT_EQ(statistics_of(capture_file_).size(), 2u);
    EXPECT_EQ(statistics_of(second_file).size(), 2u);
}

TEST_F(CaptureTest, TwoCapturesAtOnceEachGetWhatTheyAskedFor) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    open_sockets();
    const fs::path vlan_file = config_dir_ / "vlan.pcapng";
    auto everything =
        start_capture("xconnect-1 -w " + capture_file_.string() + " -c 6 " + kTestFrames);
    auto vlans = start_capture("xconnect-2 -w " + vlan_file.string() + " -c 2 -s 60 vlan");
    std::vector<Frame> sent;
    for (uint32_t i = 0; i < 6; ++i) {
        sent.push_back(i % 3 == 0 ? vlan_frame(kRightMac, kLeftMac, 7, 500, i)
                                  : random_frame(kLeftMac, kRightMac, 300, random_));
        ASSERT_NO_FATAL_FAILURE(cross(i % 3 == 0 ? 2 : 1, sent.back()));
    }
    EXPECT_EQ(everything->wait_exit(), 0) << everything->log_text();
    EXPECT_EQ(vlans->wait_exit(), 0) << vlans->log_text();
    const auto all = read_back(capture_file_);
    ASSERT_EQ(all.size(), 6u);
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(hex(all[i].bytes), hex(sent[i]));
    }
    const auto tagged = read_back(vlan_file);
    ASSERT_EQ(tagged.size(), 2u);
    for (size_t i = 0; i < tagged.size(); ++i) {
        const Frame& frame = sent[i * 3];
        EXPECT_EQ(hex(tagged[i].bytes), hex(Frame(frame.begin(), frame.begin() + 60)))
            << "snaplen 60";
        EXPECT_EQ(tagged[i].interface, "xconnect-2");
    }
}

// Eight at once, each its own stream; the ninth is refused, saying why.
TEST_F(CaptureTest, AtMostEightCapturesRunAtOnce) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    // Not through sh: SIGINT goes to xconnectctl itself.
    auto capture = [&](const std::string& file) {
        auto process = std::make_unique<ChildProcess>(
            xconnectctl_.string(),
            std::vector<std::string>{"capture", "xconnect-1", "-w", (config_dir_ / file).string()},
            nullptr, /*with_stdout=*/true);
        bus_->log().expect_log("capture of xconnect-1<->xconnect-2 started by");
        return process;
    };
    std::vector<std::unique_ptr<ChildProcess>> running;
    for (int n = 0; n < 8; ++n) {
        running.push_back(capture("c" + std::to_string(n)));
    }
    const Outcome ninth = ctl("capture xconnect-2 -c 1");
    EXPECT_EQ(ninth.status, 1) << ninth.output;
    EXPECT_NE(ninth.output.find("8 captures run already"), std::string::npos) << ninth.output;
    // One ends: there is room again.
    running.back()->signal(SIGINT);
    EXPECT_EQ(running.back()->wait_exit(), 0);
    running.pop_back();
    ASSERT_NO_THROW(bus_->log().expect_log("capture of xconnect-1<->xconnect-2 ended"));
    auto another = capture("another");
    another->signal(SIGINT);
    EXPECT_EQ(another->wait_exit(), 0) << another->log_text();
}

TEST_F(CaptureTest, WithoutAFileItPrintsALinePerFrame) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    open_sockets();
    auto capture = start_capture("xconnect-1 -c 2 " + kTestFrames);
    ASSERT_NO_FATAL_FAILURE(cross(1, vlan_frame(kLeftMac, kRightMac, 10, 100, 1)));
    ASSERT_NO_FATAL_FAILURE(cross(2, random_frame(kRightMac, kLeftMac, 80, random_)));
    ASSERT_EQ(capture->wait_exit(), 0) << capture->log_text();
    const std::string text = capture->log_text();
    EXPECT_TRUE(std::regex_search(
        text, std::regex(R"(\d\d:\d\d:\d\d\.\d{9} xconnect-1 in 100 02:00:00:00:ca:01 > )"
                         R"(02:00:00:00:ca:02 vlan 10 0x88b5)")))
        << text;
    EXPECT_TRUE(std::regex_search(text, std::regex(R"(xconnect-2 in 80 02:00:00:00:ca:02 > )"
                                                   R"(02:00:00:00:ca:01 0x88b5)")))
        << text;
}

TEST_F(CaptureTest, AStreamOnStandardOutputIsReadByTcpdumpAsFramesCome) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    open_sockets();
    // tcpdump prints each frame as it reads it, while the capture runs.
    auto pipeline = std::make_unique<ChildProcess>(
        "/bin/sh",
        std::vector<std::string>{"-c", xconnectctl_.string() + " capture xconnect-1 -c 2 -w - " +
                                           kTestFrames + " | tcpdump -l -n -r - 2>&1"},
        nullptr, /*with_stdout=*/true);
    bus_->log().expect_log("capture of xconnect-1<->xconnect-2 started by");
    ASSERT_NO_FATAL_FAILURE(cross(1, random_frame(kLeftMac, kRightMac, 123, random_)));
    ASSERT_NO_THROW(pipeline->expect_log("02:00:00:00:ca:01 > 02:00:00:00:ca:02"));
    ASSERT_NO_FATAL_FAILURE(cross(2, random_frame(kRightMac, kLeftMac, 321, random_)));
    ASSERT_NO_THROW(pipeline->expect_log("02:00:00:00:ca:02 > 02:00:00:00:ca:01"));
    EXPECT_EQ(pipeline->wait_exit(), 0) << pipeline->log_text();
}

// polkit: a rules file grants org.xconnect.capture to the member's group.
TEST_F(CaptureTest, PolkitGuardsCaptureAndGetPermissionsNamesIt) {
    start_polkit();
    ASSERT_NO_FATAL_FAILURE(add_pair());
    const Outcome refused = ctl("capture xconnect-1 -c 1", outsider_.get());
    EXPECT_EQ(refused.status, 4) << refused.output;
    EXPECT_TRUE(bus_->log().logged("D-Bus: Capture xconnect-1<->xconnect-2 by"));

    const fs::path member_file = fs::temp_directory_path() / ("xct-capture-" + unique_suffix());
    struct Remove {
        fs::path file;
        ~Remove() { fs::remove(file); }
    } remove{member_file};
    open_sockets();
    auto capture = start_capture("xconnect-1 -c 1 -w " + member_file.string() + " " + kTestFrames,
                                 member_.get());
    ASSERT_NO_FATAL_FAILURE(cross(1, random_frame(kLeftMac, kRightMac, 64, random_)));
    EXPECT_EQ(capture->wait_exit(), 0) << capture->log_text();
    EXPECT_EQ(read_back(member_file).size(), 1u);

    const Outcome permissions = ctl("--json permissions", member_.get());
    EXPECT_NE(permissions.output.find("\"org.xconnect.capture\": \"yes\""), std::string::npos)
        << permissions.output;
    const Outcome theirs = ctl("--json permissions", outsider_.get());
    EXPECT_NE(theirs.output.find("\"org.xconnect.capture\": \"auth\""), std::string::npos)
        << theirs.output;
}

// busctl, as any client: the reply carries a file descriptor; busctl closes
// it at once, and the daemon ends that capture (its reader went away).
TEST_F(CaptureTest, BusctlGetsAFileDescriptor) {
    ASSERT_NO_FATAL_FAILURE(add_pair());
    const std::string reply = busctl(
        "call org.xconnect /org/xconnect/pair/xconnect_2d1 org.xconnect.Pair Capture a{sv} 1 "
        "count t 1");
    EXPECT_EQ(reply.rfind("h ", 0), 0u) << reply;
    ASSERT_NO_THROW(bus_->log().expect_log("capture of xconnect-1<->xconnect-2 ended"));
}

}  // namespace
}  // namespace xconnect
