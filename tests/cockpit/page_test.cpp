// The Cockpit page end to end: a real browser (headless Chromium), a real
// cockpit-ws and cockpit-bridge, the D-Bus tests' private bus activating the
// built xconnectd, real polkitd. Each test drives one page load; any console
// error or uncaught exception in it fails the test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "bus_fixture.hpp"
#include "cockpit_session.hpp"

namespace xconnect {
namespace {

using namespace test;

// Selectors of the page (cockpit/src): one row per pair, one cell per column.
std::string row(const std::string& left) {
    return "tr.xc-pair[data-left=" + js_string(left) + "]";
}
std::string cell(const std::string& left, const std::string& column) {
    return row(left) + " td[data-col=" + column + "]";
}
std::string query(const std::string& selector) {
    return "document.querySelector(" + js_string(selector) + ")";
}
std::string text_of(const std::string& selector) {
    return query(selector) + "?.textContent";
}
std::string state_is(const std::string& left, const std::string& state) {
    return text_of(cell(left, "state") + " .xc-state") + " === " + js_string(state);
}

class PageTest : public BusTest {
  protected:
    void SetUp() override {
        BusTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        start_polkit();
        page_ = std::make_unique<PageInstall>(XCONNECT_COCKPIT_STAGE);
    }
    void TearDown() override {
        expect_no_page_errors();
        if (HasFailure() && ws_) {
            std::cerr << "cockpit-ws and its bridge:\n" << ws_->log().log_text();
        }
        browser_.reset();
        ws_.reset();
        page_.reset();
        BusTest::TearDown();
    }

    // Everything the page logged as an error, in every test.
    void expect_no_page_errors() {
        if (!browser_) {
            return;
        }
        try {
            EXPECT_EQ(browser_->errors(), nlohmann::json::array());
        } catch (const std::exception& error) {
            ADD_FAILURE() << "no answer about the page's errors: " << error.what();
        }
    }

    // Opens the page alone, with cockpit-ws and its bridge running as `user`
    // (nullptr: root, as with administrative access on).
    void open(const TestUser* user = nullptr, const std::string& bus_address = "") {
        ws_ = std::make_unique<CockpitWs>(
            *page_, bus_address.empty() ? bus_->address() : bus_address, user);
        browser_ = std::make_unique<Browser>(ws_->page_url());
        // Past "connecting": the page's first call is answered, or refused.
        ASSERT_NO_THROW(browser_->wait(query("#xc-status") + "?.dataset.state !== 'connecting'"));
    }
    void wait(const std::string& expression) { ASSERT_NO_THROW(browser_->wait(expression)); }
    // A packet cell's number, once the first counter reply is in.
    uint64_t packets(const std::string& left, const std::string& column) {
        wait(text_of(cell(left, column)) + " !== ''");
        return std::stoull(browser_->eval(text_of(cell(left, column))).get<std::string>());
    }
    std::string list_pairs() { return busctl(std::string("call ") + manager + "ListPairs"); }
    // Into XCONNECT_SCREENSHOT_DIR (the README's pictures), when it is set.
    void screenshot(const std::string& name) {
        if (const char* directory = std::getenv("XCONNECT_SCREENSHOT_DIR")) {
            ASSERT_NO_THROW(browser_->screenshot(fs::path(directory) / name));
        }
    }

    std::unique_ptr<PageInstall> page_;
    std::unique_ptr<CockpitWs> ws_;
    std::unique_ptr<Browser> browser_;
};

// The walk through the page, in one page load: the daemon is not
// running when the page opens (the page's first call activates it).
TEST_F(PageTest, PairsComeChangeAndGoLiveAndTheViewSurvivesARestart) {
    ASSERT_EQ(bus_->owner_pid("org.xconnect"), 0);
    open();
    wait(query("#xc-status[data-state=running]") + " !== null");
    wait(query("#xc-empty") + " !== null");

    // Added with busctl, for interfaces that do not exist yet: pending.
    busctl(std::string("call ") + manager + "AddPair ss xconnect-4 xconnect-5");
    wait(state_is("xconnect-4", "pending"));
    // Its veths appear: active.
    peers_.push_back(std::make_unique<Netns>("ns4"));
    add_veth("xconnect-4", *peers_.back(), "xc-4", "169.254.1.40/24");
    peers_.push_back(std::make_unique<Netns>("ns5"));
    add_veth("xconnect-5", *peers_.back(), "xc-5", "169.254.1.50/24");
    wait(state_is("xconnect-4", "active"));
    wait(text_of(cell("xconnect-4", "left-oper")) + ".includes('up')");

    // A ping through it: the counters the page reads rise.
    const uint64_t left_before = packets("xconnect-4", "l2r-packets");
    const uint64_t right_before = packets("xconnect-4", "r2l-packets");
    EXPECT_TRUE(reachable(4, "169.254.1.50"));
    wait("Number(" + text_of(cell("xconnect-4", "l2r-packets")) + ") > " +
         std::to_string(left_before));
    wait("Number(" + text_of(cell("xconnect-4", "r2l-packets")) + ") > " +
         std::to_string(right_before));

    // A side goes down: still active, but shown as not forwarding; what is
    // sent towards it is counted as dropped, the reason the count's title.
    sh(host_->ip() + "link set xconnect-5 down");
    wait(text_of(cell("xconnect-4", "state")) + ".includes('not forwarding')");
    EXPECT_TRUE(unreachable(4, "169.254.1.50"));
    if (fs::exists("/sys/kernel/btf/vmlinux")) {
        wait("Number(" + text_of(cell("xconnect-4", "dropped")) + ") > 0");
        wait(query(cell("xconnect-4", "dropped")) +
             "?.title === 'left to right: xconnect-5 is down'");
    } else {
        std::cout << "  no BTF here: drop accounting cannot load, its column is not checked "
                     "(tests/README.md)\n";
    }
    sh(host_->ip() + "link set xconnect-5 up");
    wait("!" + text_of(cell("xconnect-4", "state")) + ".includes('not forwarding')");

    // Two MTUs that differ: the page shows the daemon's Warning while the
    // pair stays active, and why each side got its mode on the mode cell.
    sh(host_->ip() + "link set xconnect-5 mtu 1400");
    wait(text_of(cell("xconnect-4", "state")) +
         ".includes('frames above 1400 bytes are dropped: xconnect-5 MTU 1400 < xconnect-4 MTU "
         "1500')");
    EXPECT_EQ(browser_->eval(state_is("xconnect-4", "active")), true);
    EXPECT_EQ(browser_->eval(query(cell("xconnect-4", "mode")) +
                             ".title.startsWith('xconnect-4: generic: ')"),
              true)
        << browser_->eval(query(cell("xconnect-4", "mode")) + ".title").dump();
    sh(host_->ip() + "link set xconnect-5 mtu 1500");
    wait("!" + text_of(cell("xconnect-4", "state")) + ".includes('frames above')");

    // Added in the page: the picker offers the daemon's interfaces, and
    // the bus has the pair.
    wait(query("#xc-add:not([disabled])") + " !== null");
    ASSERT_NO_THROW(browser_->click("#xc-add"));
    wait(query("#xc-ifaces option[value='xconnect-3']") + " !== null");
    EXPECT_EQ(browser_->eval(query("#xc-ifaces option[value='xc-1']") + " === null"), true)
        << "a name from another namespace";
    ASSERT_NO_THROW(browser_->type("#xc-left", "xconnect-3"));
    ASSERT_NO_THROW(browser_->type("#xc-right", "xconnect-later"));
    screenshot("cockpit-add.png");
    ASSERT_NO_THROW(browser_->click("#xc-add-confirm"));
    wait(state_is("xconnect-3", "pending"));
    EXPECT_NE(list_pairs().find("\"xconnect-3\" \"xconnect-later\" \"pending\""), std::string::npos)
        << list_pairs();

    // A refusal in the page's words: the interface is in a pair already.
    ASSERT_NO_THROW(browser_->click("#xc-add"));
    ASSERT_NO_THROW(browser_->type("#xc-left", "xconnect-4"));
    ASSERT_NO_THROW(browser_->type("#xc-right", "xconnect-1"));
    ASSERT_NO_THROW(browser_->click("#xc-add-confirm"));
    wait(text_of("#xc-add-error") + "?.includes('xconnect-4')");
    ASSERT_NO_THROW(browser_->click("#xc-add-cancel"));

    // Removed in the page: gone from the page and from the bus.
    ASSERT_NO_THROW(browser_->click(row("xconnect-3") + " button.xc-remove"));
    ASSERT_NO_THROW(browser_->click("#xc-remove-confirm"));
    wait(query(row("xconnect-3")) + " === null");
    EXPECT_EQ(list_pairs().find("xconnect-3"), std::string::npos) << list_pairs();

    // An edit of the file, by rename as editors do: live.
    std::string config = read_file(config_);
    ASSERT_NE(config.find("links:"), std::string::npos) << config;
    replace_by_rename(config_, config + "  xconnect-1: xconnect-2\n");
    wait(state_is("xconnect-1", "active"));
    screenshot("cockpit-pairs.png");

    // Reload in the page, of a file that does not parse: the daemon's
    // refusal, in words, and every pair as it was.
    config = read_file(config_);
    replace_by_rename(config_, "links: [\n");
    ASSERT_NO_THROW(browser_->click("#xc-reload"));
    wait(query("#xc-alert[data-error-name='org.xconnect.Error.InvalidConfig']") + " !== null");
    EXPECT_NE(browser_->eval(text_of("#xc-alert")).get<std::string>().find("not applied"),
              std::string::npos);
    EXPECT_EQ(browser_->eval(query("#xc-table") + ".dataset.rows"), "2");
    replace_by_rename(config_, config);
    ASSERT_NO_THROW(browser_->click("#xc-alert-close"));
    wait(query("#xc-alert") + " === null");

    // The daemon restarts (it keeps forwarding meanwhile): the page sees it
    // go, its next read starts the next one, and the view recovers by
    // itself: the rows are back, and a pair added now shows up live.
    const std::string owner = browser_->eval(query("#xc-status") + ".dataset.owner");
    ASSERT_EQ(owner.rfind(":", 0), 0u) << owner;
    bus_->stop_xconnectd();
    wait(query("#xc-status") + ".dataset.owner.startsWith(':') && " + query("#xc-status") +
         ".dataset.owner !== " + js_string(owner));
    wait(query("#xc-status[data-state=running]") + " !== null");
    EXPECT_NE(bus_->owner_pid("org.xconnect"), 0) << "the page's call started xconnectd";
    wait(state_is("xconnect-4", "active"));
    wait(state_is("xconnect-1", "active"));
    busctl(std::string("call ") + manager + "AddPair ss xconnect-6 xconnect-7");
    wait(state_is("xconnect-6", "pending"));
    EXPECT_EQ(browser_->eval(query("#xc-table") + ".dataset.rows"), "3");
    EXPECT_EQ(browser_->eval(query("#xc-perm-note") + " === null"), true)
        << "root may do everything";
}

// In the group the rules file grants: the page offers adding and removing,
// and both work, decided by polkit for the bridge's user.
TEST_F(PageTest, AMemberOfThePolkitGrantedGroupAddsAndRemoves) {
    open(member_.get());
    wait(query("#xc-status[data-state=running]") + " !== null");
    wait(query("#xc-add:not([disabled])") + " !== null");  // once GetPermissions said yes
    EXPECT_EQ(browser_->eval(query("#xc-perm-note") + " === null"), true);
    ASSERT_NO_THROW(browser_->click("#xc-add"));
    ASSERT_NO_THROW(browser_->type("#xc-left", "xconnect-1"));
    ASSERT_NO_THROW(browser_->type("#xc-right", "xconnect-2"));
    ASSERT_NO_THROW(browser_->click("#xc-add-confirm"));
    wait(state_is("xconnect-1", "active"));
    EXPECT_NE(list_pairs().find("\"xconnect-1\" \"xconnect-2\" \"active\""), std::string::npos)
        << list_pairs();
    ASSERT_NO_THROW(browser_->click(row("xconnect-1") + " button.xc-remove"));
    ASSERT_NO_THROW(browser_->click("#xc-remove-confirm"));
    wait(query(row("xconnect-1")) + " === null");
    EXPECT_EQ(list_pairs(), "a(ssso) 0\n");
}

// Outside it: the page says why, and offers no change that cannot succeed.
TEST_F(PageTest, SomeoneOutsideTheGroupSeesWhyAndNoControlsThatWouldFail) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    open(outsider_.get());
    wait(state_is("xconnect-1", "active"));
    wait(query("#xc-perm-note") + " !== null");
    EXPECT_NE(browser_->eval(text_of("#xc-perm-note"))
                  .get<std::string>()
                  .find("administrative access, or membership of a group granted by polkit"),
              std::string::npos);
    EXPECT_EQ(browser_->eval("document.querySelectorAll('#xc-add:not([disabled]), "
                             ".xc-remove:not([disabled]), #xc-reload:not([disabled])').length"),
              0);
    screenshot("cockpit-not-allowed.png");
}

// Nothing on the bus can become org.xconnect: the page says it is not installed.
TEST_F(PageTest, ABusWithoutTheServiceIsShownAsNotInstalled) {
    const fs::path directory = config_dir_ / "empty-bus";
    fs::create_directories(directory);
    std::ofstream(directory / "bus.conf")
        << "<busconfig><type>system</type><listen>unix:path=" << (directory / "socket").string()
        << "</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
           "<allow own=\"*\"/><allow send_destination=\"*\"/><allow "
           "receive_sender=\"*\"/></policy></busconfig>\n";
    ChildProcess empty_bus("/usr/bin/dbus-daemon",
                           {"--config-file=" + (directory / "bus.conf").string(), "--nofork",
                            "--nopidfile", "--print-address"},
                           nullptr, /*with_stdout=*/true);
    ASSERT_NO_THROW(empty_bus.expect_log("unix:path="));
    open(nullptr, "unix:path=" + (directory / "socket").string());
    wait(query("#xc-status[data-state=not-installed]") + " !== null");
    EXPECT_EQ(browser_->eval(query("#xc-retry") + ".hidden"), false);
    // Before this bus goes: what the page logged while it was there.
    expect_no_page_errors();
    browser_.reset();
    ws_.reset();
}

// A pair the kernel refuses (someone else's XDP program is on an
// interface): failed, with the daemon's reason.
TEST_F(PageTest, AFailedPairShowsWhy) {
    ASSERT_NO_THROW(attach_foreign_xdp_program("xconnect-2"));
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    open();
    wait(state_is("xconnect-1", "failed"));
    EXPECT_NE(browser_->eval(text_of(cell("xconnect-1", "state") + " .xc-error"))
                  .get<std::string>()
                  .find("is already attached by someone else"),
              std::string::npos);
}

// Counters do not signal, so the page reads them: only while it is seen.
TEST_F(PageTest, CountersAreReadOnlyWhileThePageIsVisible) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    open();
    // Calls sent, counted before each is: one on its way when the page is
    // hidden is counted already.
    const std::string requests = "Number(" + query("#xc-table") + ".dataset.counterRequests)";
    const std::string refreshes = "Number(" + query("#xc-table") + ".dataset.counterRefreshes)";
    // What a browser does for a background tab: document.hidden, then the event.
    auto set_hidden = [&](bool hidden) {
        return "Object.defineProperty(document, 'hidden', {configurable: true, get: () => " +
               std::string(hidden ? "true" : "false") +
               "}); document.dispatchEvent(new Event('visibilitychange')); ";
    };
    wait(refreshes + " >= 1");
    const int hidden_at = browser_->eval(set_hidden(true) + requests).get<int>();
    // Three poll intervals (2 s each) with no call.
    browser_->eval("new Promise(done => setTimeout(() => done(true), 6000))");
    EXPECT_EQ(browser_->eval(requests).get<int>(), hidden_at);
    // Shown again: read at once, and answered.
    const int refreshed = browser_->eval(set_hidden(false) + refreshes).get<int>();
    wait(requests + " > " + std::to_string(hidden_at) + " && " + refreshes + " > " +
         std::to_string(refreshed));
}

// The shell lists the page in its menu, and shows it in its frame.
TEST_F(PageTest, CockpitsMenuHasCrossConnects) {
    busctl(std::string("call ") + manager + "AddPair ss xconnect-1 xconnect-2");
    busctl(std::string("call ") + manager + "AddPair ss xconnect-3 xconnect-later");
    ws_ = std::make_unique<CockpitWs>(*page_, bus_->address(), nullptr);
    browser_ = std::make_unique<Browser>(ws_->shell_url());
    wait(
        "[...document.querySelectorAll('nav a')].some(a => a.textContent.trim() === "
        "'Cross-connects')");
    const std::string frame =
        "document.querySelector('iframe[name=\"cockpit1:localhost/xconnect\"]')";
    wait(frame +
         "?.contentDocument?.querySelectorAll('tr.xc-pair td[data-col=l2r-packets]')[1]"
         "?.textContent === '0'");
    screenshot("cockpit-shell.png");
}

// 1 000 pairs: every row there, and a counter refresh of all of them
// costs the page little (measured in the browser; the figures go to the log).
TEST_F(PageTest, AThousandPairsStayResponsive) {
    std::string config = "links:\n";
    for (int n = 0; n < 1000; ++n) {
        const std::string number = std::to_string(10000 + n).substr(1);
        config += "  xcp" + number + "a: xcp" + number + "b\n";
    }
    replace_by_rename(config_, config);
    busctl(std::string("call ") + manager + "Reload");
    open();
    ASSERT_NO_THROW(
        browser_->wait(query("#xc-table") + ".dataset.rows === '1000'", std::chrono::seconds(60)));
    wait("Number(" + query("#xc-table") + ".dataset.counterRefreshes) >= 3");
    const double refresh_ms =
        std::stod(browser_->eval(query("#xc-table") + ".dataset.lastRefreshMs").get<std::string>());
    // Live change of one pair among 1000.
    busctl(std::string("call ") + manager + "RemovePair s xcp0500a");
    wait(query(row("xcp0500a")) + " === null");
    const double longest_task =
        browser_->eval("Math.max(0, ...(window.__xcLongTasks || []))").get<double>();
    std::cout << "1000 pairs: counter refresh applied in " << refresh_ms << " ms, longest task "
              << longest_task << " ms\n";
    // Responsive means no frame held for long: generous for a loaded CI host.
    EXPECT_LT(refresh_ms, 200.0);
    EXPECT_LT(longest_task, 1000.0);
}

}  // namespace
}  // namespace xconnect
