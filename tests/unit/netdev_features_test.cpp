// The netdev family's parsers on messages built here: device messages
// (dump replies and notifications) into events, nlctrl's family reply into
// ids, and xdp-features into words for log lines.

#include "netlink/netdev_features.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

namespace xconnect::netlink {
namespace {

constexpr uint16_t family = 20;  // what nlctrl assigned to netdev on the test machine

using Kind = NetdevEvent::Kind;

// Builds messages one after another in one buffer, as the kernel fills a datagram.
class Datagram {
  public:
    Datagram() : buffer_(8192, 0) {}

    nlmsghdr* add(uint16_t type, uint8_t command) {
        auto* message = mnl_nlmsg_put_header(buffer_.data() + length_);
        message->nlmsg_type = type;
        auto* header = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(message, GENL_HDRLEN));
        header->cmd = command;
        header->version = netdev_genl::family_version;
        last_ = message;
        return message;
    }
    // A device message as netdev_nl_dev_fill() writes it.
    nlmsghdr* add_device(uint8_t command, uint32_t ifindex, uint64_t features) {
        nlmsghdr* message = add(family, command);
        mnl_attr_put_u32(message, netdev_genl::attr_dev_ifindex, ifindex);
        mnl_attr_put_u64(message, netdev_genl::attr_dev_xdp_features, features);
        mnl_attr_put_u64(message, netdev_genl::attr_dev_xdp_rx_metadata_features, 0x7);
        mnl_attr_put_u64(message, netdev_genl::attr_dev_xsk_features, 0);
        return message;
    }
    nlmsghdr* add_control(uint16_t type, int error) {
        auto* message = mnl_nlmsg_put_header(buffer_.data() + length_);
        message->nlmsg_type = type;
        if (type == NLMSG_ERROR) {
            auto* payload =
                static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(message, sizeof(nlmsgerr)));
            payload->error = error;
        } else {
            auto* payload = static_cast<int*>(mnl_nlmsg_put_extra_header(message, sizeof(int)));
            *payload = error;
        }
        last_ = message;
        return message;
    }
    void done() { length_ += NLMSG_ALIGN(last_->nlmsg_len); }
    size_t size() const { return length_; }
    const char* data() const { return buffer_.data(); }

  private:
    std::vector<char> buffer_;
    size_t length_ = 0;
    nlmsghdr* last_ = nullptr;
};

ParsedNetdevDatagram parse(const Datagram& datagram) {
    return parse_netdev_datagram(datagram.data(), datagram.size(), family);
}

TEST(NetdevDatagramTest, DumpRepliesArePresentDevicesUntilDone) {
    Datagram datagram;
    datagram.add_device(netdev_genl::cmd_dev_get, 2, 0x23);
    datagram.done();
    datagram.add_device(netdev_genl::cmd_dev_get, 3, 0x07);
    datagram.done();
    datagram.add_control(NLMSG_DONE, 0);
    datagram.done();
    datagram.add_device(netdev_genl::cmd_dev_get, 4, 0x07);  // after the end: not read
    datagram.done();

    const ParsedNetdevDatagram parsed = parse(datagram);
    EXPECT_TRUE(parsed.done);
    EXPECT_EQ(parsed.error, 0);
    EXPECT_EQ(parsed.malformed, 0u);
    EXPECT_FALSE(parsed.broken);
    EXPECT_EQ(parsed.events,
              (std::vector<NetdevEvent>{{Kind::present, {2, 0x23}}, {Kind::present, {3, 0x07}}}));
}

TEST(NetdevDatagramTest, NotificationsInOrder) {
    Datagram datagram;
    datagram.add_device(netdev_genl::cmd_dev_add_ntf, 2, 0);
    datagram.done();
    datagram.add_device(netdev_genl::cmd_dev_change_ntf, 2, 0x67);
    datagram.done();
    datagram.add_device(netdev_genl::cmd_dev_del_ntf, 2, 0x67);
    datagram.done();

    const ParsedNetdevDatagram parsed = parse(datagram);
    EXPECT_FALSE(parsed.done);
    EXPECT_EQ(parsed.malformed, 0u);
    ASSERT_EQ(parsed.events, (std::vector<NetdevEvent>{{Kind::present, {2, 0}},
                                                       {Kind::changed, {2, 0x67}},
                                                       {Kind::removed, {2, 0x67}}}));
    EXPECT_TRUE(parsed.events[1].device.accepts_native_redirect());
}

TEST(NetdevDatagramTest, ARemovalNeedsOnlyTheIfindex) {
    Datagram datagram;
    nlmsghdr* message = datagram.add(family, netdev_genl::cmd_dev_del_ntf);
    mnl_attr_put_u32(message, netdev_genl::attr_dev_ifindex, 9);
    datagram.done();
    const std::optional<NetdevEvent> event = parse_netdev_message(message, family);
    ASSERT_TRUE(event);
    EXPECT_EQ(*event, (NetdevEvent{Kind::removed, {9, 0}}));
}

TEST(NetdevDatagramTest, DeviceMessagesWithoutValidAttributesAreMalformed) {
    Datagram datagram;
    // No ifindex.
    mnl_attr_put_u64(datagram.add(family, netdev_genl::cmd_dev_change_ntf),
                     netdev_genl::attr_dev_xdp_features, 0x7);
    datagram.done();
    // ifindex 0 (the spec's minimum is 1).
    datagram.add_device(netdev_genl::cmd_dev_change_ntf, 0, 0x7);
    datagram.done();
    // No xdp-features on a change.
    mnl_attr_put_u32(datagram.add(family, netdev_genl::cmd_dev_change_ntf),
                     netdev_genl::attr_dev_ifindex, 5);
    datagram.done();
    // An ifindex of 2 bytes.
    nlmsghdr* message = datagram.add(family, netdev_genl::cmd_dev_get);
    mnl_attr_put_u16(message, netdev_genl::attr_dev_ifindex, 5);
    mnl_attr_put_u64(message, netdev_genl::attr_dev_xdp_features, 0x7);
    datagram.done();
    // xdp-features of 2 bytes, also on a removal.
    message = datagram.add(family, netdev_genl::cmd_dev_del_ntf);
    mnl_attr_put_u32(message, netdev_genl::attr_dev_ifindex, 5);
    mnl_attr_put_u16(message, netdev_genl::attr_dev_xdp_features, 0x7);
    datagram.done();
    // A generic netlink header cut short.
    datagram.add(family, netdev_genl::cmd_dev_change_ntf)->nlmsg_len = NLMSG_LENGTH(2);
    datagram.done();
    // ... and one good message after them all.
    datagram.add_device(netdev_genl::cmd_dev_change_ntf, 6, 0x7);
    datagram.done();

    const ParsedNetdevDatagram parsed = parse(datagram);
    EXPECT_EQ(parsed.malformed, 6u);
    EXPECT_FALSE(parsed.broken);
    EXPECT_EQ(parsed.events, (std::vector<NetdevEvent>{{Kind::changed, {6, 0x7}}}));
}

TEST(NetdevDatagramTest, FourByteFeaturesAreTakenAsNetlinksVariableWidthUint) {
    Datagram datagram;
    nlmsghdr* message = datagram.add(family, netdev_genl::cmd_dev_change_ntf);
    mnl_attr_put_u32(message, netdev_genl::attr_dev_ifindex, 5);
    mnl_attr_put_u32(message, netdev_genl::attr_dev_xdp_features, 0x7);
    datagram.done();
    EXPECT_EQ(parse(datagram).events, (std::vector<NetdevEvent>{{Kind::changed, {5, 0x7}}}));
}

TEST(NetdevDatagramTest, OtherFamiliesAndCommandsAreSkippedNotMalformed) {
    Datagram datagram;
    datagram.add_device(netdev_genl::cmd_dev_change_ntf, 2, 0x7)->nlmsg_type = family + 1;
    datagram.done();
    datagram.add(family, 6);  // NETDEV_CMD_PAGE_POOL_ADD_NTF
    datagram.done();
    datagram.add_control(NLMSG_NOOP, 0);
    datagram.done();
    datagram.add_device(netdev_genl::cmd_dev_change_ntf, 3, 0x7);
    datagram.done();

    const ParsedNetdevDatagram parsed = parse(datagram);
    EXPECT_EQ(parsed.malformed, 0u);
    EXPECT_EQ(parsed.events, (std::vector<NetdevEvent>{{Kind::changed, {3, 0x7}}}));
}

TEST(NetdevDatagramTest, ErrorsAndInterruptedDumps) {
    Datagram error;
    error.add_device(netdev_genl::cmd_dev_get, 2, 0x7);
    error.done();
    error.add_control(NLMSG_ERROR, -EPERM);
    error.done();
    ParsedNetdevDatagram parsed = parse(error);
    EXPECT_EQ(parsed.error, EPERM);
    EXPECT_EQ(parsed.events.size(), 1u);

    Datagram failed_dump;
    failed_dump.add_control(NLMSG_DONE, -EMSGSIZE);
    failed_dump.done();
    parsed = parse(failed_dump);
    EXPECT_TRUE(parsed.done);
    EXPECT_EQ(parsed.error, EMSGSIZE);

    Datagram beyond_errno;
    beyond_errno.add_control(NLMSG_ERROR, -5000);
    beyond_errno.done();
    EXPECT_EQ(parse(beyond_errno).error, EBADMSG);

    Datagram interrupted;
    interrupted.add_device(netdev_genl::cmd_dev_get, 2, 0x7)->nlmsg_flags |= NLM_F_DUMP_INTR;
    interrupted.done();
    parsed = parse(interrupted);
    EXPECT_TRUE(parsed.interrupted);
    EXPECT_EQ(parsed.events.size(), 1u);
}

// Every prefix of a valid datagram, and every length a message can claim:
// no read outside the bytes given (the sanitized build checks), and no event
// that the whole datagram does not have.
TEST(NetdevDatagramTest, TruncatedDatagramsAndLyingLengths) {
    Datagram datagram;
    datagram.add_device(netdev_genl::cmd_dev_change_ntf, 2, 0x67);
    datagram.done();
    datagram.add_device(netdev_genl::cmd_dev_del_ntf, 3, 0x07);
    datagram.done();
    const std::vector<NetdevEvent> whole = parse(datagram).events;
    ASSERT_EQ(whole.size(), 2u);

    for (size_t length = 0; length <= datagram.size(); ++length) {
        std::vector<char> prefix(datagram.data(), datagram.data() + length);  // exactly that long
        const ParsedNetdevDatagram parsed = parse_netdev_datagram(prefix.data(), length, family);
        ASSERT_LE(parsed.events.size(), whole.size()) << length;
        for (size_t i = 0; i < parsed.events.size(); ++i) {
            EXPECT_EQ(parsed.events[i], whole[i]) << length;
        }
    }
    std::vector<char> copy(datagram.data(), datagram.data() + datagram.size());
    auto* first = reinterpret_cast<nlmsghdr*>(copy.data());
    const uint32_t real_length = first->nlmsg_len;
    for (uint32_t claimed :
         {0u, 1u, 15u, 16u, 19u, 20u, real_length - 1, real_length + 1,
          static_cast<uint32_t>(copy.size()) + 1, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
        first->nlmsg_len = claimed;
        const ParsedNetdevDatagram parsed = parse_netdev_datagram(copy.data(), copy.size(), family);
        EXPECT_LE(parsed.events.size(), whole.size()) << claimed;
    }
    first->nlmsg_len = static_cast<uint32_t>(copy.size()) + 1;
    EXPECT_TRUE(parse_netdev_datagram(copy.data(), copy.size(), family).broken);
}

// An attribute claiming more than its message holds ends the attribute walk.
TEST(NetdevDatagramTest, AnAttributeLongerThanItsMessage) {
    Datagram datagram;
    nlmsghdr* message = datagram.add_device(netdev_genl::cmd_dev_change_ntf, 2, 0x7);
    auto* ifindex =
        reinterpret_cast<nlattr*>(reinterpret_cast<char*>(message) + NLMSG_LENGTH(GENL_HDRLEN));
    ifindex->nla_len = 0xffff;
    datagram.done();
    const ParsedNetdevDatagram parsed = parse(datagram);
    EXPECT_TRUE(parsed.events.empty());
    EXPECT_EQ(parsed.malformed, 1u);
}

TEST(NetdevDatagramTest, RandomBytesDoNotCrash) {
    std::mt19937 random(4711);
    for (int round = 0; round < 20000; ++round) {
        std::vector<char> bytes(random() % 256);
        for (char& byte : bytes) {
            byte = static_cast<char>(random());
        }
        // Some plausible headers, so that the walk gets past the first message.
        if (bytes.size() >= sizeof(nlmsghdr) + GENL_HDRLEN && round % 2 == 0) {
            auto* message = reinterpret_cast<nlmsghdr*>(bytes.data());
            message->nlmsg_len = static_cast<uint32_t>(random() % (bytes.size() + 1));
            message->nlmsg_type = family;
            bytes[sizeof(nlmsghdr)] = static_cast<char>(1 + random() % 4);
        }
        const ParsedNetdevDatagram parsed =
            parse_netdev_datagram(bytes.data(), bytes.size(), family);
        for (const NetdevEvent& event : parsed.events) {
            EXPECT_NE(event.device.ifindex, 0u);
        }
        parse_family_reply(bytes.data(), bytes.size(), "mgmt");
    }
}

TEST(XdpFeaturesTextTest, SpecNamesInBitOrder) {
    EXPECT_EQ(xdp_features_text(0), "none");
    EXPECT_EQ(xdp_features_text(xdp_feature::basic | xdp_feature::redirect | xdp_feature::rx_sg),
              "basic, redirect, rx-sg");
    EXPECT_EQ(xdp_features_text(0x67), "basic, redirect, ndo-xmit, rx-sg, ndo-xmit-sg");
    EXPECT_EQ(xdp_features_text(0x07), "basic, redirect, ndo-xmit");
    EXPECT_EQ(xdp_features_text(0x7f),
              "basic, redirect, ndo-xmit, xsk-zerocopy, hw-offload, rx-sg, ndo-xmit-sg");
    EXPECT_EQ(xdp_features_text(0x181), "basic, 0x180");
    EXPECT_EQ(xdp_features_text(uint64_t{1} << 63), "0x8000000000000000");
}

TEST(XdpFeaturesTest, NdoXmitMeansNativeRedirectsAreDelivered) {
    EXPECT_FALSE((DeviceFeatures{2, 0x23}.accepts_native_redirect()));
    EXPECT_TRUE((DeviceFeatures{2, 0x67}.accepts_native_redirect()));
    EXPECT_TRUE((DeviceFeatures{3, 0x07}.accepts_native_redirect()));
}

// CTRL_CMD_NEWFAMILY as nlctrl answers it (ctrl_fill_info), groups nested
// in an array of nests.
class FamilyDatagram : public Datagram {
  public:
    nlmsghdr* add_family(uint16_t id, std::vector<std::pair<const char*, uint32_t>> groups) {
        nlmsghdr* message = add(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
        mnl_attr_put_strz(message, CTRL_ATTR_FAMILY_NAME, "netdev");
        mnl_attr_put_u16(message, CTRL_ATTR_FAMILY_ID, id);
        mnl_attr_put_u32(message, CTRL_ATTR_VERSION, 1);
        nlattr* array = mnl_attr_nest_start(message, CTRL_ATTR_MCAST_GROUPS);
        uint16_t index = 1;
        for (const auto& [name, group_id] : groups) {
            nlattr* entry = mnl_attr_nest_start(message, index++);
            mnl_attr_put_u32(message, CTRL_ATTR_MCAST_GRP_ID, group_id);
            mnl_attr_put_strz(message, CTRL_ATTR_MCAST_GRP_NAME, name);
            mnl_attr_nest_end(message, entry);
        }
        mnl_attr_nest_end(message, array);
        return message;
    }
};

TEST(FamilyReplyTest, IdAndTheNamedGroup) {
    FamilyDatagram datagram;
    datagram.add_family(20, {{"mgmt", 4}, {"page-pool", 5}});
    datagram.done();
    FamilyReply reply = parse_family_reply(datagram.data(), datagram.size(), "mgmt");
    EXPECT_EQ(reply.error, 0);
    EXPECT_EQ(reply.family, (GenericFamily{20, 4}));
    reply = parse_family_reply(datagram.data(), datagram.size(), "page-pool");
    EXPECT_EQ(reply.family, (GenericFamily{20, 5}));
    reply = parse_family_reply(datagram.data(), datagram.size(), "mgm");
    EXPECT_FALSE(reply.family);
    EXPECT_EQ(reply.error, EPROTO);
}

TEST(FamilyReplyTest, NoSuchFamilyIsENOENT) {
    Datagram datagram;
    datagram.add_control(NLMSG_ERROR, -ENOENT);
    datagram.done();
    const FamilyReply reply = parse_family_reply(datagram.data(), datagram.size(), "mgmt");
    EXPECT_FALSE(reply.family);
    EXPECT_EQ(reply.error, ENOENT);
}

TEST(FamilyReplyTest, MalformedRepliesAreRefused) {
    // A family id of 4 bytes.
    FamilyDatagram wide_id;
    nlmsghdr* message = wide_id.add(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
    mnl_attr_put_u32(message, CTRL_ATTR_FAMILY_ID, 20);
    wide_id.done();
    EXPECT_EQ(parse_family_reply(wide_id.data(), wide_id.size(), "mgmt").error, EPROTO);

    // A group without its id, and an unterminated name that would match
    // only if read past its attribute.
    FamilyDatagram groups;
    message = groups.add(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY);
    mnl_attr_put_u16(message, CTRL_ATTR_FAMILY_ID, 20);
    nlattr* array = mnl_attr_nest_start(message, CTRL_ATTR_MCAST_GROUPS);
    nlattr* entry = mnl_attr_nest_start(message, 1);
    mnl_attr_put_strz(message, CTRL_ATTR_MCAST_GRP_NAME, "mgmt");
    mnl_attr_nest_end(message, entry);
    entry = mnl_attr_nest_start(message, 2);
    mnl_attr_put_u32(message, CTRL_ATTR_MCAST_GRP_ID, 9);
    mnl_attr_put(message, CTRL_ATTR_MCAST_GRP_NAME, 3, "mgm");
    mnl_attr_nest_end(message, entry);
    mnl_attr_nest_end(message, array);
    groups.done();
    EXPECT_EQ(parse_family_reply(groups.data(), groups.size(), "mgmt").error, EPROTO);
    EXPECT_EQ(parse_family_reply(groups.data(), groups.size(), "mgm").family,
              (GenericFamily{20, 9}));

    // A length beyond the datagram.
    FamilyDatagram cut;
    cut.add_family(20, {{"mgmt", 4}});
    cut.done();
    EXPECT_EQ(parse_family_reply(cut.data(), cut.size() - 8, "mgmt").error, EBADMSG);
}

}  // namespace
}  // namespace xconnect::netlink
