#pragma once

// The pcapng numbers the writer and the reader share (draft-ietf-opsawg-pcapng):
// block types, the byte-order magic, and the option codes used here.

#include <cstdint>

namespace xconnect::pcapng::format {

inline constexpr uint32_t section_header_type = 0x0A0D0D0A;
inline constexpr uint32_t interface_description_type = 1;
inline constexpr uint32_t interface_statistics_type = 5;
inline constexpr uint32_t enhanced_packet_type = 6;
inline constexpr uint32_t byte_order_magic = 0x1A2B3C4D;

inline constexpr uint16_t opt_endofopt = 0;
inline constexpr uint16_t opt_comment = 1;
inline constexpr uint16_t shb_userappl = 4;
inline constexpr uint16_t if_name = 2;
inline constexpr uint16_t if_tsresol = 9;
inline constexpr uint16_t epb_flags = 2;
inline constexpr uint16_t isb_starttime = 2;
inline constexpr uint16_t isb_endtime = 3;
inline constexpr uint16_t isb_ifrecv = 4;
inline constexpr uint16_t isb_ifdrop = 5;
inline constexpr uint16_t isb_filteraccept = 6;

}  // namespace xconnect::pcapng::format
