// parse_link_datagram(): the link monitor's parser, on datagrams built here
// (tests/fuzz/netlink holds real ones captured from the kernel).

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "netlink/links.hpp"

namespace xconnect::netlink {
namespace {

// Builds messages one after another in one buffer, as the kernel fills a datagram.
class Datagram {
  public:
    Datagram() : buffer_(8192, 0) {}

    nlmsghdr* add(uint16_t type, int ifindex) {
        auto* message = mnl_nlmsg_put_header(buffer_.data() + length_);
        message->nlmsg_type = type;
        auto* header =
            static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifinfomsg)));
        header->ifi_family = AF_UNSPEC;
        header->ifi_index = ifindex;
        last_ = message;
        return message;
    }
    // A control message with room for an nlmsgerr (an error or an ACK).
    nlmsghdr* add_control(uint16_t type) {
        auto* message = mnl_nlmsg_put_header(buffer_.data() + length_);
        message->nlmsg_type = type;
        mnl_nlmsg_put_extra_header(message, sizeof(nlmsgerr));
        last_ = message;
        return message;
    }
    void done() { length_ += last_->nlmsg_len; }
    size_t size() const { return length_; }
    const char* data() const { return buffer_.data(); }
    char* at(size_t offset) { return buffer_.data() + offset; }

  private:
    std::vector<char> buffer_;
    size_t length_ = 0;
    nlmsghdr* last_ = nullptr;
};

TEST(LinkDatagramTest, NewAndDeletedLinksInOrder) {
    Datagram datagram;
    nlmsghdr* message = datagram.add(RTM_NEWLINK, 7);
    mnl_attr_put_strz(message, IFLA_IFNAME, "veth0");
    mnl_attr_put_u8(message, IFLA_OPERSTATE, IF_OPER_UP);
    nlattr* xdp = mnl_attr_nest_start(message, IFLA_XDP);
    mnl_attr_put_u32(message, IFLA_XDP_PROG_ID, 42);
    mnl_attr_nest_end(message, xdp);
    nlattr* info = mnl_attr_nest_start(message, IFLA_LINKINFO);
    mnl_attr_put_strz(message, IFLA_INFO_KIND, "veth");
    mnl_attr_nest_end(message, info);
    datagram.done();
    datagram.add(RTM_DELLINK, 9);
    datagram.done();

    const ParsedDatagram parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, 0);
    ASSERT_EQ(parsed.events.size(), 2u);
    EXPECT_EQ(parsed.events[0].kind, LinkEvent::Kind::changed);
    EXPECT_EQ(parsed.events[0].link, (LinkInfo{.ifindex = 7,
                                               .name = "veth0",
                                               .kind = "veth",
                                               .oper_state = OperState::up,
                                               .xdp_program_id = 42}));
    EXPECT_EQ(parsed.events[1].kind, LinkEvent::Kind::removed);
    EXPECT_EQ(parsed.events[1].link.ifindex, 9u);
}

TEST(LinkDatagramTest, ALengthBeyondTheDatagramIsMalformedNotFollowed) {
    Datagram datagram;
    datagram.add(RTM_DELLINK, 3);
    datagram.done();
    nlmsghdr* second = datagram.add(RTM_DELLINK, 4);
    datagram.done();
    // 2^31 and more: libmnl 1.0.4's signed comparison let this through.
    for (uint32_t length : {0x80000000u, 0xfffffff0u, 1u << 16, 15u}) {
        second->nlmsg_len = length;
        const ParsedDatagram parsed = parse_link_datagram(datagram.data(), datagram.size());
        EXPECT_EQ(parsed.error, EBADMSG) << length;
        ASSERT_EQ(parsed.events.size(), 1u) << "what came before is kept";
        EXPECT_EQ(parsed.events[0].link.ifindex, 3u);
    }
}

TEST(LinkDatagramTest, ControlMessages) {
    Datagram datagram;
    datagram.add(RTM_DELLINK, 3);
    datagram.done();
    nlmsghdr* done = datagram.add_control(NLMSG_DONE);
    datagram.done();
    datagram.add(RTM_DELLINK, 4);
    datagram.done();
    ParsedDatagram parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, 0);
    EXPECT_EQ(parsed.events.size(), 1u) << "NLMSG_DONE ends the datagram";

    done->nlmsg_type = NLMSG_ERROR;
    auto* error = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(done));
    error->error = -ENODEV;
    parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, ENODEV);
    EXPECT_EQ(parsed.events.size(), 1u);
    error->error = 0;  // an ACK: the end, no error
    parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, 0);
    EXPECT_EQ(parsed.events.size(), 1u);
    done->nlmsg_len = NLMSG_LENGTH(sizeof(int));  // too short for an nlmsgerr
    parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, EBADMSG);
    done->nlmsg_len = NLMSG_LENGTH(sizeof(nlmsgerr));

    done->nlmsg_type = NLMSG_NOOP;
    parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, 0);
    EXPECT_EQ(parsed.events.size(), 2u) << "NLMSG_NOOP is skipped";
}

TEST(LinkDatagramTest, UnterminatedStringsAreReadWithinTheirAttribute) {
    Datagram datagram;
    nlmsghdr* message = datagram.add(RTM_NEWLINK, 5);
    mnl_attr_put_strz(message, IFLA_IFNAME, "tap0");
    nlattr* info = mnl_attr_nest_start(message, IFLA_LINKINFO);
    mnl_attr_put(message, IFLA_INFO_KIND, 3, "tun");  // no NUL
    mnl_attr_nest_end(message, info);
    const size_t end = message->nlmsg_len;
    datagram.done();
    std::memset(datagram.at(end), 'x', 64);  // what follows the message is not NUL either

    const ParsedDatagram parsed = parse_link_datagram(datagram.data(), datagram.size());
    ASSERT_EQ(parsed.events.size(), 1u);
    EXPECT_EQ(parsed.events[0].link.kind, "tun");
}

TEST(LinkDatagramTest, OtherFamiliesAndNamelessLinksAreSkipped) {
    Datagram datagram;
    nlmsghdr* bridge = datagram.add(RTM_NEWLINK, 5);
    static_cast<ifinfomsg*>(mnl_nlmsg_get_payload(bridge))->ifi_family = AF_BRIDGE;
    mnl_attr_put_strz(bridge, IFLA_IFNAME, "port0");
    datagram.done();
    datagram.add(RTM_NEWLINK, 6);  // no IFLA_IFNAME
    datagram.done();
    const ParsedDatagram parsed = parse_link_datagram(datagram.data(), datagram.size());
    EXPECT_EQ(parsed.error, 0);
    EXPECT_TRUE(parsed.events.empty());
}

}  // namespace
}  // namespace xconnect::netlink
