#pragma once

// The daemon: one io_context; the link monitor, the xdp-features monitor, the
// config watcher, the D-Bus service and signals feed the engine, which drives
// the kernel through the loader.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "capture/capture_hub.hpp"
#include "config/config_store.hpp"
#include "config/config_watcher.hpp"
#include "control/pair_control.hpp"
#include "dbus/bus_watcher.hpp"
#include "dbus/dbus_service.hpp"
#include "drop_watch.hpp"
#include "engine/engine.hpp"
#include "loader/capture_ring.hpp"
#include "loader/kernel_dataplane.hpp"
#include "loader/warm_tap.hpp"
#include "netlink/link_monitor.hpp"
#include "netlink/netdev_features.hpp"
#include "options.hpp"
#include "pair_log.hpp"

namespace xconnect {

class Daemon final : private ControlObserver, private NetdevFeaturesObserver {
  public:
    // Loads the XDP program, applies the config file and (unless --no-bus)
    // serves D-Bus; tells systemd it is ready. Throws on what it cannot do.
    Daemon(boost::asio::io_context& io, DaemonOptions options);
    ~Daemon() override;
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

  private:
    // Tells systemd (STATUS=) what control reports.
    void status_changed(const StatusSummary& summary) override;
    void wait_for_signal();
    // The bus comes and goes (dbus-daemon restarted): pairs keep forwarding,
    // and the service is published again once the bus is back.
    void bus_lost();
    void watch_for_bus();
    bool try_bus();
    // Ends the captures, then finish_stop().
    void stop(int signal);
    void finish_stop(int signal);
    // What the netdev family reports of each device, handed to the engine.
    void xdp_features_snapshot(std::vector<netlink::DeviceFeatures> devices) override;
    void xdp_features_changed(netlink::DeviceFeatures device) override;
    void device_removed(uint32_t ifindex) override;
    void follow_xdp_features();

    boost::asio::io_context& io_;
    DaemonOptions options_;
    KernelDataplane dataplane_;
    std::unique_ptr<WarmTap> warm_tap_;  // null: --no-warm-tap, or it could not be made
    Engine engine_;
    ConfigStore store_;
    PairControl control_;
    CaptureRing capture_ring_;
    CaptureHub captures_;
    std::unique_ptr<DropWatch> drop_watch_;  // null without drop accounting
    PairLog pair_log_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer capture_flush_;
    bool exiting_ = false;
    LinkMonitor link_monitor_;
    std::unique_ptr<NetdevFeaturesMonitor> netdev_monitor_;  // null if it could not start
    std::unique_ptr<ConfigWatcher> watcher_;
    std::unique_ptr<DbusService> dbus_;
    std::unique_ptr<BusWatcher> bus_watcher_;
};

}  // namespace xconnect
