#pragma once

// The file-driven daemon: one io_context; the link monitor, the config
// watcher and signals feed the engine, which drives the kernel through the loader.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>

#include "config/config_watcher.hpp"
#include "engine/engine.hpp"
#include "loader/kernel_dataplane.hpp"
#include "netlink/link_monitor.hpp"
#include "options.hpp"
#include "pair_log.hpp"

namespace xconnect {

class Daemon {
  public:
    // Loads the XDP program and applies the config file. Throws SystemError.
    Daemon(boost::asio::io_context& io, DaemonOptions options);
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Re-reads the config file and applies it warm; a bad or missing file
    // changes nothing. Returns whether the file was applied.
    bool reload();

  private:
    void wait_for_signal();
    void stop(int signal);

    boost::asio::io_context& io_;
    DaemonOptions options_;
    KernelDataplane dataplane_;
    Engine engine_;
    PairLog pair_log_;
    boost::asio::signal_set signals_;
    LinkMonitor link_monitor_;
    std::unique_ptr<ConfigWatcher> watcher_;
};

}  // namespace xconnect
