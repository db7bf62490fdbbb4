#include <boost/asio/io_context.hpp>
#include <csignal>
#include <cstdio>
#include <exception>

#include "common/log.hpp"
#include "daemon.hpp"
#include "loader/pinned_state.hpp"
#include "options.hpp"

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
