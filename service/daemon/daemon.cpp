#include "daemon.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/post.hpp>
#include <csignal>

#include "common/error.hpp"
#include "common/log.hpp"
#include "contract/version.hpp"

namespace xconnect {

namespace {

// Long enough for an editor's truncate-then-write to land as one change.
constexpr std::chrono::milliseconds config_settle_time{150};

// How long a stop waits for capture readers to take the end of their streams.
constexpr std::chrono::seconds capture_flush_limit{2};

// The warm tap (loader/warm_tap.hpp), or null where it cannot be made: then
// the first pair's attach waits for the dispatcher, as without one.
std::unique_ptr<WarmTap> warm_dispatcher(const KernelDataplane& dataplane) {
    std::unique_ptr<WarmTap> tap;
    try {
        tap = std::make_unique<WarmTap>(dataplane.program_fd());
    } catch (const SystemError& error) {
        log::warning("warm tap: ", error.what(),
                     "; the first pair's attach and the last one's detach wait for the kernel's "
                     "XDP dispatcher (an RCU grace period)");
        return nullptr;
    }
    log::info("warm tap: ", tap->interface_name(), " (ifindex ", tap->ifindex(),
              ") holds XDP program id ", dataplane.program_id(),
              " in the kernel's XDP dispatcher: no pair's attach waits for its rebuild");
    return tap;
}

}  // namespace

Daemon::Daemon(boost::asio::io_context& io, DaemonOptions options)
    : io_(io),
      options_(std::move(options)),
      dataplane_(
          options_.state_dir.value_or(PinnedState::default_directory()),
          options_.keep_dataplane ? KernelDataplane::OnExit::keep : KernelDataplane::OnExit::detach,
          options_.count_ring_drops),
      // Before the link monitor's first dump, which then lists it, and
      // before the first apply: the grace period is paid here, once.
      warm_tap_(options_.warm_tap ? warm_dispatcher(dataplane_) : nullptr),
      engine_(dataplane_, EngineOptions{.default_mode = options_.xdp_mode}),
      store_(options_.config_file),
      control_(engine_, store_),
      capture_ring_(io, dataplane_.capture_maps()),
      captures_(io, engine_, capture_ring_),
      signals_(io, SIGINT, SIGTERM, SIGHUP),
      capture_flush_(io),
      link_monitor_(io, engine_, options_.netlink_receive_buffer) {
    engine_.add_observer(pair_log_);
    control_.set_observer(this);
    log::info("xconnectd ", version, ": XDP program id ", dataplane_.program_id(), ", pinned in ",
              dataplane_.state_directory().value_or("nowhere").string(), ", xdp-mode ",
              to_string(options_.xdp_mode), ", config ", options_.config_file.string());
    // Before the first apply, so that auto mode decides with what the kernel says.
    follow_xdp_features();
    if (DropMonitor* monitor = dataplane_.drop_monitor()) {
        drop_watch_ = std::make_unique<DropWatch>(io_, *monitor, engine_);
    }
    watcher_ = std::make_unique<ConfigWatcher>(io_, options_.config_file, config_settle_time,
                                               [this] { control_.config_file_changed(); });
    control_.try_reload(ReloadCause::start);
    if (!options_.no_bus) {
        dbus_ = DbusService::start(io_, engine_, control_, captures_, [this] { bus_lost(); });
        if (!dbus_) {
            watch_for_bus();
        }
    }
    wait_for_signal();
    sd_notifyf(0, "READY=1\nSTATUS=%s", control_.summary().text().c_str());
}

Daemon::~Daemon() {
    control_.set_observer(nullptr);
    engine_.remove_observer(pair_log_);
}

void Daemon::follow_xdp_features() {
    try {
        NetdevFeaturesObserver& observer = *this;
        netdev_monitor_ =
            std::make_unique<NetdevFeaturesMonitor>(io_, observer, options_.netlink_receive_buffer);
    } catch (const SystemError& error) {
        log::warning("xdp-features: ", error.what(),
                     "; auto mode decides without them (generic for veth and tap)");
        return;
    }
    if (!netdev_monitor_->available()) {
        log::info(
            "xdp-features: the kernel has no netdev netlink family (Linux < 6.3); auto mode "
            "uses generic for pairs with a veth or tap");
        netdev_monitor_.reset();
    }
}

void Daemon::xdp_features_snapshot(std::vector<netlink::DeviceFeatures> devices) {
    std::vector<std::pair<uint32_t, XdpFeatures>> features;
    features.reserve(devices.size());
    for (const netlink::DeviceFeatures& device : devices) {
        features.emplace_back(device.ifindex, device.xdp_features);
    }
    engine_.set_xdp_features(features);
}

void Daemon::xdp_features_changed(netlink::DeviceFeatures device) {
    engine_.xdp_features_changed(device.ifindex, device.xdp_features);
}

void Daemon::device_removed(uint32_t ifindex) {
    engine_.xdp_features_removed(ifindex);
}

void Daemon::status_changed(const StatusSummary& summary) {
    sd_notifyf(0, "STATUS=%s", summary.text().c_str());
}

void Daemon::bus_lost() {
    log::warning("D-Bus: lost the system bus; every pair keeps forwarding; serving ", bus_name,
                 " again once the bus is back");
    // Called from the service's own loop: destroy it from a later handler.
    boost::asio::post(io_, [this] {
        dbus_.reset();
        watch_for_bus();
    });
}

void Daemon::watch_for_bus() {
    const auto socket = BusWatcher::system_bus_socket();
    if (!socket) {
        log::warning("D-Bus: the system bus address names no socket file to watch; not serving ",
                     bus_name, " until restarted");
        return;
    }
    BusWatcher::forget_bus_guid();
    log::debug("D-Bus: waiting for ", socket->string(), " to come back");
    try {
        bus_watcher_ = std::make_unique<BusWatcher>(io_, *socket, [this] { return try_bus(); });
    } catch (const std::exception& error) {
        log::warning("D-Bus: ", error.what(), "; not serving ", bus_name, " until restarted");
    }
}

bool Daemon::try_bus() {
    try {
        dbus_ = DbusService::start(
            io_, engine_, control_, captures_, [this] { bus_lost(); },
            /*quiet=*/true);
    } catch (const std::exception& error) {
        log::error("D-Bus: ", error.what());
        return false;
    }
    if (!dbus_) {
        log::debug("D-Bus: the system bus is not back yet");
        return false;
    }
    // Called from the watcher's own handler.
    boost::asio::post(io_, [this] { bus_watcher_.reset(); });
    return true;
}

void Daemon::wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
        if (error) {
            return;
        }
        if (signal == SIGHUP) {
            log::info("SIGHUP: reloading ", options_.config_file.string());
            sd_notify(0, "RELOADING=1");
            control_.try_reload(ReloadCause::sighup);
            sd_notify(0, "READY=1");
            wait_for_signal();
            return;
        }
        stop(signal);
    });
}

void Daemon::stop(int signal) {
    sd_notify(0, "STOPPING=1");
    // Captures end first, each stream closed with its statistics; a reader
    // that does not take them holds up the exit only so long.
    capture_flush_.expires_after(capture_flush_limit);
    capture_flush_.async_wait([this, signal](const boost::system::error_code& error) {
        if (!error) {
            log::warning("capture: a reader did not take the end of its stream within ",
                         capture_flush_limit.count(), " s; closing it as it is");
            finish_stop(signal);
        }
    });
    captures_.end_all("xconnectd stopping", [this, signal] {
        capture_flush_.cancel();
        boost::asio::post(io_, [this, signal] { finish_stop(signal); });
    });
}

void Daemon::finish_stop(int signal) {
    if (std::exchange(exiting_, true)) {
        return;
    }
    if (options_.keep_dataplane) {
        // The engine forgets its pairs; the kernel keeps them (pinned).
        log::info("xconnectd: ", strsignal(signal),
                  ": exiting; every pair keeps forwarding for the next xconnectd "
                  "(--keep-dataplane)");
    } else {
        log::info("xconnectd: ", strsignal(signal), ": detaching every pair and exiting");
        engine_.shutdown();
    }
    io_.stop();
}

}  // namespace xconnect
