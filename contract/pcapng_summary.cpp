// pcapng.hpp's summary_line(): a frame as a line on a terminal.

#include <cstdio>
#include <string>

#include "pcapng.hpp"

namespace xconnect::pcapng {
namespace {

constexpr uint16_t ethertype_8021q = 0x8100;
constexpr uint16_t ethertype_8021ad = 0x88A8;

const char* ethertype_name(uint16_t type) {
    switch (type) {
        case 0x0800:
            return "IPv4";
        case 0x0806:
            return "ARP";
        case 0x8035:
            return "RARP";
        case 0x86DD:
            return "IPv6";
        case 0x8808:
            return "PAUSE";
        case 0x8809:
            return "Slow-Protocols";
        case 0x8847:
            return "MPLS";
        case 0x8848:
            return "MPLS-multicast";
        case 0x8863:
            return "PPPoE-discovery";
        case 0x8864:
            return "PPPoE";
        case 0x888E:
            return "EAPOL";
        case 0x88CC:
            return "LLDP";
        case 0x88E5:
            return "MACsec";
        case 0x88F7:
            return "PTP";
        case 0x8902:
            return "CFM";
        default:
            return nullptr;
    }
}

uint16_t big_endian16(const std::vector<uint8_t>& bytes, size_t at) {
    return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

void append_mac(std::string& line, const uint8_t* mac) {
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                  mac[3], mac[4], mac[5]);
    line += text;
}

// The stream's own text, without control characters a terminal would obey.
void append_printable(std::string& line, const std::string& text) {
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        line += byte < 0x20 || byte == 0x7F ? '?' : c;
    }
}

}  // namespace

std::string summary_line(const Packet& packet, const Interface* interface,
                         int64_t utc_offset_seconds) {
    constexpr int64_t day = 86'400;
    const auto seconds = static_cast<int64_t>(packet.timestamp_ns / 1'000'000'000 % day);
    const int64_t of_day = ((seconds + utc_offset_seconds % day) % day + day) % day;
    char time[64];
    std::snprintf(time, sizeof time, "%02d:%02d:%02d.%09u", static_cast<int>(of_day / 3600),
                  static_cast<int>(of_day / 60 % 60), static_cast<int>(of_day % 60),
                  static_cast<unsigned>(packet.timestamp_ns % 1'000'000'000));
    std::string line = time;
    line += ' ';
    if (interface != nullptr && !interface->name.empty()) {
        append_printable(line, interface->name);
    } else {
        line += "if" + std::to_string(packet.interface_id);
    }
    if (packet.direction == Direction::inbound) {
        line += " in";
    } else if (packet.direction == Direction::outbound) {
        line += " out";
    }
    line += ' ' + std::to_string(packet.original_length);

    const std::vector<uint8_t>& bytes = packet.bytes;
    if (interface != nullptr && interface->link_type != linktype_ethernet) {
        line += " (link type " + std::to_string(interface->link_type) + ", " +
                std::to_string(bytes.size()) + " bytes captured)";
        return line;
    }
    if (bytes.size() < 14) {
        line += " (" + std::to_string(bytes.size()) +
                " bytes captured, too short for an Ethernet header)";
        return line;
    }
    line += ' ';
    append_mac(line, &bytes[6]);
    line += " > ";
    append_mac(line, &bytes[0]);
    size_t at = 12;  // of the ethertype
    uint16_t type = big_endian16(bytes, at);
    while (type == ethertype_8021q || type == ethertype_8021ad) {
        if (bytes.size() < at + 6) {
            line += type == ethertype_8021q ? " 802.1Q" : " 802.1ad";
            line += " (tag cut short)";
            return line;
        }
        line += " vlan " + std::to_string(big_endian16(bytes, at + 2) & 0x0FFF);
        at += 4;
        type = big_endian16(bytes, at);
    }
    if (type <= 1500) {  // not an ethertype: an 802.3 length (LLC follows)
        line += " 802.3 length " + std::to_string(type);
    } else if (const char* name = ethertype_name(type)) {
        line += ' ';
        line += name;
    } else {
        char hex[8];
        std::snprintf(hex, sizeof hex, " 0x%04x", type);
        line += hex;
    }
    return line;
}

}  // namespace xconnect::pcapng
