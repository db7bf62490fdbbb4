#pragma once

// The objects served on the bus, on the adaptors sdbus-c++-xml2cpp generates
// from dbus/*.xml. Reads come from the engine; changes go through
// PairControl after polkit said yes.

#include <sdbus-c++/sdbus-c++.h>

#include <memory>

#include "engine/engine.hpp"
#include "long_name_filter.hpp"
#include "xconnect_manager_adaptor.h"
#include "xconnect_pair_adaptor.h"

namespace xconnect {

class Engine;
class PairControl;
class PolkitAuthorizer;

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::xconnect::Manager_adaptor, sdbus::ObjectManager_adaptor,
                                      sdbus::Properties_adaptor> {
  public:
    ManagerObject(sdbus::IConnection& connection, const Engine& engine, PairControl& control,
                  PolkitAuthorizer& authorizer);
    ~ManagerObject();

  private:
    void AddPair(sdbus::Result<sdbus::ObjectPath>&& result, std::string left,
                 std::string right) override;
    void RemovePair(sdbus::Result<>&& result, std::string ifname) override;
    sdbus::ObjectPath GetPair(const std::string& ifname) override;
    std::vector<sdbus::Struct<std::string, std::string, std::string, sdbus::ObjectPath>> ListPairs()
        override;
    void Reload(sdbus::Result<>&& result) override;
    std::string Version() override;
    std::string ConfigFile() override;

    const Engine& engine_;
    PairControl& control_;
    PolkitAuthorizer& authorizer_;
    // On the connection, for every object's Properties calls.
    std::unique_ptr<LongNameFilter> long_name_filter_;
};

class PairObject final
    : public sdbus::AdaptorInterfaces<org::xconnect::Pair_adaptor, sdbus::ManagedObject_adaptor,
                                      sdbus::Properties_adaptor> {
  public:
    PairObject(sdbus::IConnection& connection, const PairSpec& spec, const Engine& engine,
               PairControl& control, PolkitAuthorizer& authorizer);
    ~PairObject();

    const std::string& left() const { return spec_.left; }

    // The contract's names of the signalled properties a change touched.
    static std::vector<std::string> signalled_properties(unsigned changed_fields);

  private:
    void Remove(sdbus::Result<>&& result) override;
    std::string Left() override;
    std::string Right() override;
    uint32_t LeftIfindex() override;
    uint32_t RightIfindex() override;
    std::string State() override;
    std::string Mode() override;
    std::string Error() override;
    std::string LeftOperState() override;
    std::string RightOperState() override;
    uint64_t LeftToRightPackets() override;
    uint64_t LeftToRightBytes() override;
    uint64_t RightToLeftPackets() override;
    uint64_t RightToLeftBytes() override;

    PairStatus status() const;
    PairCounters counters() const;

    const PairSpec spec_;
    const Engine& engine_;
    PairControl& control_;
    PolkitAuthorizer& authorizer_;
    // Expires with the object: a call on it may be answered with a method
    // return only while it exists (sd-bus checks the reply against the
    // signature in its vtable).
    std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace xconnect
