#include <pwd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "common/log.hpp"
#include "contract/version.hpp"
#include "daemon.hpp"
#include "loader/capabilities.hpp"
#include "loader/pinned_state.hpp"
#include "options.hpp"

namespace {

// "xconnect (uid 996)".
std::string this_user() {
    const uid_t uid = ::geteuid();
    const passwd* entry = ::getpwuid(uid);
    return (entry ? std::string(entry->pw_name) + " " : std::string()) + "(uid " +
           std::to_string(uid) + ")";
}

// Says who runs and with which capabilities, and refuses to start without
// one the dataplane needs, naming it.
void check_capabilities() {
    const auto capabilities = xconnect::CapabilitySet::effective();
    xconnect::log::info("xconnectd ", xconnect::version, ": running as user ", this_user(),
                        " with ", capabilities.text());
    if (const auto missing =
            xconnect::missing_capability(capabilities, xconnect::dataplane_capabilities())) {
        throw std::runtime_error(*missing);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace xconnect;
    const CommandLine command_line = parse_command_line({argv + 1, argv + argc});
    if (command_line.print_and_exit) {
        std::fputs(command_line.print_and_exit->c_str(), stdout);
        return 0;
    }
    if (command_line.usage_error) {
        std::fprintf(stderr, "xconnectd: %s\n\n%s", command_line.usage_error->c_str(),
                     usage_text().c_str());
        return 2;
    }
    if (command_line.options.verbose) {
        log::set_max_level(log::Level::debug);
    }
    // A log reader that went away (the journal, a test) must not take the
    // dataplane's keeper with it.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        check_capabilities();
        if (command_line.flush) {
            const unsigned detached =
                command_line.all_namespaces
                    ? flush_all_namespaces()
                    : flush_state_directory(command_line.options.state_dir.value_or(
                          PinnedState::default_directory()));
            log::info("xconnectd --flush: detached ", detached,
                      detached == 1 ? " program" : " programs", " and removed every pin");
            return 0;
        }
        boost::asio::io_context io(1);
        Daemon daemon(io, command_line.options);
        io.run();
        return 0;
    } catch (const std::exception& error) {
        log::error("xconnectd: ", error.what());
        return 1;
    }
}
