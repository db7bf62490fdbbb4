#pragma once

// The D-Bus front end: org.xconnect on the system bus, as
// docs/dbus-api.md specifies. The manager object at /org/xconnect (with
// ObjectManager) and one object per pair, kept in step with the engine through
// its observer interface; changes go through PairControl, authorised by
// polkit. It never touches the kernel.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "contract/bus.hpp"
#include "engine/engine.hpp"
#include "message_snapshot.hpp"

namespace sdbus {
class IConnection;
}

namespace xconnect {

class CaptureHub;
class PairControl;
class BusLoop;
class PolkitAuthorizer;
class ManagerObject;
class PairObject;

class DbusService final : public EngineObserver {
  public:
    // Connects to the system bus, publishes the objects and takes the name.
    // Returns nullptr when no system bus is reachable (saying why, unless
    // `quiet`). Throws std::runtime_error if the name cannot be had. `lost`
    // runs when the bus goes away later; destroy the service from another
    // handler then.
    static std::unique_ptr<DbusService> start(boost::asio::io_context& io, Engine& engine,
                                              PairControl& control, CaptureHub& captures,
                                              std::function<void()> lost, bool quiet = false);
    ~DbusService() override;

    void pair_added(const PairStatus& pair) override;
    void pair_removed(const PairStatus& pair) override;
    void pair_changed(const PairStatus& pair, PairFields changed) override;

  private:
    DbusService(Engine& engine, PairControl& control, CaptureHub& captures,
                std::unique_ptr<sdbus::IConnection> connection);
    // Every signal goes out through here: emitted outside a bus callback (a
    // link or file change), it sits in sd-bus's queue until the loop runs.
    template <typename Emission>
    void emit(Emission emission);
    // Unregisters a removed pair's object once the message being handled is
    // done: sd-bus checks a reply against the signature in the object's
    // vtable, which goes with the object (Pair.Remove answers after it).
    void retire(std::unique_ptr<PairObject> object);

    Engine& engine_;
    std::unique_ptr<sdbus::IConnection> connection_;
    // Declared before the objects that use them, so destroyed after them.
    MessageSequence messages_;  // advanced after each message: see PairObject::bulk_read()
    std::unique_ptr<PolkitAuthorizer> authorizer_;
    std::unique_ptr<ManagerObject> manager_;
    PairControl& control_;
    CaptureHub& captures_;
    std::map<std::string, std::unique_ptr<PairObject>> pairs_;  // by left name
    std::vector<std::unique_ptr<PairObject>> retired_;          // removed, still registered
    std::unique_ptr<BusLoop> loop_;
};

}  // namespace xconnect
