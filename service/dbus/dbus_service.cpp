#include "dbus_service.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include "bus_loop.hpp"
#include "common/log.hpp"
#include "manager_object.hpp"
#include "pair_object.hpp"
#include "polkit_authorizer.hpp"

namespace xconnect {

std::unique_ptr<DbusService> DbusService::start(boost::asio::io_context& io, Engine& engine,
                                                PairControl& control, CaptureHub& captures,
                                                std::function<void()> lost, bool quiet) {
    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& error) {
        log::emit(quiet ? log::Level::debug : log::Level::warning, "D-Bus: no system bus (",
                  error.getMessage(), ")", quiet ? "" : "; running file-driven until it appears");
        return nullptr;
    }
    std::unique_ptr<DbusService> service(
        new DbusService(engine, control, captures, std::move(connection)));
    // Objects first, then the name: whoever sees the name finds every object.
    try {
        service->connection_->requestName(bus_name);
    } catch (const sdbus::Error& error) {
        throw std::runtime_error(std::string("cannot own ") + bus_name +
                                 " on the system bus: " + error.getMessage());
    }
    // Only now: requestName() waited for its reply synchronously and may have
    // read calls (the activating one among them) into sd-bus's queue.
    service->loop_ = std::make_unique<BusLoop>(
        io, *service->connection_,
        [raw = service.get()] {
            raw->retired_.clear();
            raw->messages_.advance();
        },
        std::move(lost));
    log::info("D-Bus: serving ", bus_name, " on the system bus");
    return service;
}

DbusService::DbusService(Engine& engine, PairControl& control, CaptureHub& captures,
                         std::unique_ptr<sdbus::IConnection> connection)
    : engine_(engine),
      connection_(std::move(connection)),
      authorizer_(std::make_unique<PolkitAuthorizer>(*connection_)),
      manager_(std::make_unique<ManagerObject>(*connection_, engine_, control, *authorizer_)),
      control_(control),
      captures_(captures) {
    for (const PairStatus& pair : engine_.pairs()) {
        pairs_.emplace(pair.spec.left,
                       std::make_unique<PairObject>(*connection_, pair.spec, engine_, control_,
                                                    captures_, *authorizer_, messages_));
    }
    engine_.add_observer(*this);
}

DbusService::~DbusService() {
    engine_.remove_observer(*this);
    loop_.reset();  // gives the fd back to sd-bus before the connection closes it
    pairs_.clear();
    retired_.clear();
    manager_.reset();
    authorizer_.reset();
    try {
        connection_->releaseName(bus_name);
    } catch (const sdbus::Error&) {
        // not owned (yet): nothing to release
    }
}

template <typename Emission>
void DbusService::emit(Emission emission) {
    emission();
    if (loop_) {
        loop_->wake();
    }
}

void DbusService::retire(std::unique_ptr<PairObject> object) {
    retired_.push_back(std::move(object));  // until the message being handled is done
}

void DbusService::pair_added(const PairStatus& pair) {
    // A pair removed and added again within one change (a new mode) gets a
    // new object at the same path: the old one must be gone first.
    std::erase_if(retired_, [&](const auto& object) { return object->left() == pair.spec.left; });
    auto object = std::make_unique<PairObject>(*connection_, pair.spec, engine_, control_,
                                               captures_, *authorizer_, messages_);
    // The whole object, as GetManagedObjects lists it (standard interfaces
    // too), so that a client's view of it stays whole.
    emit([&] { object->emitInterfacesAddedSignal(); });
    pairs_[pair.spec.left] = std::move(object);
}

void DbusService::pair_removed(const PairStatus& pair) {
    auto found = pairs_.find(pair.spec.left);
    if (found == pairs_.end()) {
        return;
    }
    emit([&] { found->second->emitInterfacesRemovedSignal(); });
    retire(std::move(found->second));
    pairs_.erase(found);
}

void DbusService::pair_changed(const PairStatus& pair, PairFields changed) {
    auto found = pairs_.find(pair.spec.left);
    const auto properties = PairObject::signalled_properties(changed);
    if (found == pairs_.end() || properties.empty()) {
        return;
    }
    emit([&] { found->second->emitPropertiesChangedSignal(pair_interface, properties); });
}

}  // namespace xconnect
