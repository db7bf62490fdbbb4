#pragma once

// One object per pair, on the adaptor generated from
// dbus/org.xconnect.Pair.xml. Reads come from the engine; Remove goes through
// PairControl after polkit said yes, Capture through the CaptureHub.

#include <sdbus-c++/sdbus-c++.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "message_snapshot.hpp"
#include "xconnect_pair_adaptor.h"

struct sd_bus;

namespace xconnect {

class CaptureHub;
class PairControl;
class PolkitAuthorizer;

class PairObject final
    : public sdbus::AdaptorInterfaces<org::xconnect::Pair_adaptor, sdbus::ManagedObject_adaptor,
                                      sdbus::Properties_adaptor> {
  public:
    // `messages` numbers the messages being dispatched (see MessageSnapshot).
    PairObject(sdbus::IConnection& connection, const PairSpec& spec, const Engine& engine,
               PairControl& control, CaptureHub& captures, PolkitAuthorizer& authorizer,
               const MessageSequence& messages);
    ~PairObject();

    const std::string& left() const { return spec_.left; }

    // The contract's names of the signalled properties a change touched.
    static std::vector<std::string> signalled_properties(unsigned changed_fields);

  private:
    void Remove(sdbus::Result<>&& result) override;
    void Capture(sdbus::Result<sdbus::UnixFd>&& result,
                 std::map<std::string, sdbus::Variant> options) override;
    std::string Left() override;
    std::string Right() override;
    uint32_t LeftIfindex() override;
    uint32_t RightIfindex() override;
    std::string State() override;
    std::string Mode() override;
    std::string LeftMode() override;
    std::string RightMode() override;
    std::string ModeReason() override;
    std::string Error() override;
    std::string Warning() override;
    std::string LeftOperState() override;
    std::string RightOperState() override;
    uint64_t LeftToRightPackets() override;
    uint64_t LeftToRightBytes() override;
    uint64_t RightToLeftPackets() override;
    uint64_t RightToLeftBytes() override;
    uint64_t LeftToRightDropped() override;
    uint64_t RightToLeftDropped() override;
    std::string DropReason() override;

    // Read once per bulk read (Properties.Get/GetAll, GetManagedObjects):
    // every getter of that message answers from the same snapshot.
    const PairStatus& status();
    const PairCounters& counters();
    // The number of the message being answered, if it is a bulk read; a
    // signal's getters (emitted outside such a call) always read afresh.
    std::optional<uint64_t> bulk_read() const;

    const PairSpec spec_;
    const Engine& engine_;
    PairControl& control_;
    CaptureHub& captures_;
    PolkitAuthorizer& authorizer_;
    const MessageSequence& messages_;
    sd_bus* const bus_;
    MessageSnapshot<PairStatus> status_snapshot_;
    MessageSnapshot<PairCounters> counters_snapshot_;
    // Expires with the object: a call on it may be answered with a method
    // return only while it exists (sd-bus checks the reply against the
    // signature in its vtable).
    std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace xconnect
