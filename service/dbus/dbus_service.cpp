#include "dbus_service.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include "bus_loop.hpp"
#include "common/log.hpp"
#include "dbus_objects.hpp"
#include "polkit_authorizer.hpp"

namespace xconnect {

namespace {
constexpr const char* pair_interface = "org.xconnect.Pair";
}

std::unique_ptr<DbusService> DbusService::start(boost::asio::io_context& io, Engine& engine,
                                                PairControl& control) {
    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& error) {
        log::warning("D-Bus: no system bus (", error.getMessage(), "); running file-driven only");
        return nullptr;
    }
    std::unique_ptr<DbusService> service(new DbusService(engine, control, std::move(connection)));
    // Objects first, then the name: whoever sees the name finds every object.
    try {
        service->connection_->requestName(bus_name);
    } catch (const sdbus::Error& error) {
        throw std::runtime_error(std::string("cannot own ") + bus_name +
                                 " on the system bus: " + error.getMessage());
    }
    // Only now: requestName() waited for its reply synchronously and may have
    // read calls (the activating one among them) into sd-bus's queue.
    service->loop_ = std::make_unique<BusLoop>(io, *service->connection_);
    log::info("D-Bus: serving ", bus_name, " on the system bus");
    return service;
}

DbusService::DbusService(Engine& engine, PairControl& control,
                         std::unique_ptr<sdbus::IConnection> connection)
    : engine_(engine),
      connection_(std::move(connection)),
      authorizer_(std::make_unique<PolkitAuthorizer>(*connection_)),
      manager_(std::make_unique<ManagerObject>(*connection_, engine_, control, *authorizer_)),
      control_(control) {
    for (const PairStatus& pair : engine_.pairs()) {
        pairs_.emplace(
            pair.spec.left,
            std::make_unique<PairObject>(*connection_, pair.spec, engine_, control_, *authorizer_));
    }
    engine_.add_observer(*this);
}

DbusService::~DbusService() {
    engine_.remove_observer(*this);
    loop_.reset();  // gives the fd back to sd-bus before the connection closes it
    pairs_.clear();
    manager_.reset();
    authorizer_.reset();
    try {
        connection_->releaseName(bus_name);
    } catch (const sdbus::Error&) {
        // not owned (yet): nothing to release
    }
}

void DbusService::wake_loop() {
    if (loop_) {
        wake_loop();
    }
}

void DbusService::pair_added(const PairStatus& pair) {
    auto object =
        std::make_unique<PairObject>(*connection_, pair.spec, engine_, control_, *authorizer_);
    // The whole object, as GetManagedObjects lists it (standard interfaces
    // too), so that a client's view of it stays whole.
    object->emitInterfacesAddedSignal();
    pairs_[pair.spec.left] = std::move(object);
    wake_loop();
}

void DbusService::pair_removed(const PairStatus& pair) {
    auto found = pairs_.find(pair.spec.left);
    if (found == pairs_.end()) {
        return;
    }
    found->second->emitInterfacesRemovedSignal();
    pairs_.erase(found);
    wake_loop();
}

void DbusService::pair_changed(const PairStatus& pair, PairFields changed) {
    auto found = pairs_.find(pair.spec.left);
    const auto properties = PairObject::signalled_properties(changed);
    if (found == pairs_.end() || properties.empty()) {
        return;
    }
    found->second->emitPropertiesChangedSignal(pair_interface, properties);
    wake_loop();
}

}  // namespace xconnect
