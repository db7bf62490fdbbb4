#include "loader/capabilities.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace xconnect {
namespace {

constexpr uint64_t bit(int capability) {
    return uint64_t{1} << capability;
}

constexpr int last = CAP_CHECKPOINT_RESTORE;
constexpr uint64_t every = (uint64_t{1} << (last + 1)) - 1;

TEST(Capabilities, TextNamesWhatTheProcessHas) {
    EXPECT_EQ(CapabilitySet(bit(CAP_NET_ADMIN) | bit(CAP_BPF), last).text(),
              "CAP_NET_ADMIN CAP_BPF");
    EXPECT_EQ(CapabilitySet(0, last).text(), "no capability");
    EXPECT_EQ(CapabilitySet(every, last).text(), "every capability");
    EXPECT_EQ(CapabilitySet(every & ~bit(CAP_SYS_RESOURCE), last).text(),
              "every capability but CAP_SYS_RESOURCE");
    EXPECT_EQ(capability_name(41), "capability 41");
}

TEST(Capabilities, TheUnitsTwoAreEnough) {
    EXPECT_EQ(missing_capability(CapabilitySet(bit(CAP_NET_ADMIN) | bit(CAP_BPF), last),
                                 dataplane_capabilities()),
              std::nullopt);
    // Before CAP_BPF (Linux 5.8) CAP_SYS_ADMIN allowed bpf(2), and still does.
    EXPECT_EQ(missing_capability(CapabilitySet(bit(CAP_NET_ADMIN) | bit(CAP_SYS_ADMIN), last),
                                 dataplane_capabilities()),
              std::nullopt);
}

TEST(Capabilities, AMissingOneIsNamedWithWhatNeedsIt) {
    const auto without_net_admin =
        missing_capability(CapabilitySet(bit(CAP_BPF), last), dataplane_capabilities());
    ASSERT_TRUE(without_net_admin);
    EXPECT_TRUE(without_net_admin->starts_with("missing capability CAP_NET_ADMIN, needed to"))
        << *without_net_admin;
    EXPECT_NE(without_net_admin->find("DEVMAP"), std::string::npos) << *without_net_admin;
    EXPECT_NE(without_net_admin->find("this process has CAP_BPF "), std::string::npos)
        << *without_net_admin;

    const auto without_bpf =
        missing_capability(CapabilitySet(bit(CAP_NET_ADMIN), last), dataplane_capabilities());
    ASSERT_TRUE(without_bpf);
    EXPECT_TRUE(without_bpf->starts_with("missing capability CAP_BPF, needed to")) << *without_bpf;
}

}  // namespace
}  // namespace xconnect
