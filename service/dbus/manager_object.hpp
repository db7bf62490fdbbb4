#pragma once

// The manager object at /org/xconnect (with ObjectManager), on the adaptor
// sdbus-c++-xml2cpp generates from dbus/org.xconnect.Manager.xml. Reads come
// from the engine; changes go through PairControl after polkit said yes.

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "long_name_filter.hpp"
#include "xconnect_manager_adaptor.h"

namespace xconnect {

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
    void GetPermissions(sdbus::Result<std::map<std::string, std::string>>&& result) override;
    std::vector<sdbus::Struct<std::string, uint32_t, std::string, std::string>> ListInterfaces()
        override;
    std::vector<sdbus::Struct<sdbus::ObjectPath, uint64_t, uint64_t, uint64_t, uint64_t>>
    GetAllCounters() override;
    std::map<sdbus::ObjectPath, std::map<std::string, uint64_t>> GetAllStatistics() override;
    std::string Version() override;
    std::string ConfigFile() override;

    const Engine& engine_;
    PairControl& control_;
    PolkitAuthorizer& authorizer_;
    // On the connection, for every object's Properties calls.
    std::unique_ptr<LongNameFilter> long_name_filter_;
};

}  // namespace xconnect
