#include "capture_filter.hpp"

#include <pcap/pcap.h>

#include <string_view>

#include "common/quote.hpp"
#include "contract/errors.hpp"

namespace xconnect {

struct CaptureFilter::Program {
    bpf_program code{};
    ~Program() { pcap_freecode(&code); }
};

namespace {

struct PcapClose {
    void operator()(pcap_t* pcap) const noexcept { pcap_close(pcap); }
};

}  // namespace

CaptureFilter::CaptureFilter(const std::string& expression, uint32_t snaplen) {
    if (expression.empty()) {
        return;
    }
    const std::unique_ptr<pcap_t, PcapClose> dead(
        pcap_open_dead(DLT_EN10MB, static_cast<int>(snaplen)));
    if (!dead) {
        throw ContractError(ErrorKind::failed, "pcap_open_dead failed");
    }
    auto program = std::make_unique<Program>();
    if (pcap_compile(dead.get(), &program->code, expression.c_str(), /*optimize=*/1,
                     PCAP_NETMASK_UNKNOWN) != 0) {
        // libpcap's message repeats words of the expression, bytes that are not
        // UTF-8 included (each escaped into 4): bounded as input is, to the
        // first 160 of its up to 256 bytes.
        const std::string_view message = pcap_geterr(dead.get());
        throw ContractError(ErrorKind::invalid_args, "filter " + quote(expression) + ": " +
                                                         valid_utf8(message.substr(0, 160)));
    }
    program_ = std::move(program);
}

CaptureFilter::~CaptureFilter() = default;
CaptureFilter::CaptureFilter(CaptureFilter&&) noexcept = default;
CaptureFilter& CaptureFilter::operator=(CaptureFilter&&) noexcept = default;

bool CaptureFilter::matches(std::span<const uint8_t> bytes, uint32_t length) const {
    if (!program_) {
        return true;
    }
    pcap_pkthdr header{};
    header.caplen = static_cast<bpf_u_int32>(bytes.size());
    header.len = length;
    return pcap_offline_filter(&program_->code, &header, bytes.data()) != 0;
}

}  // namespace xconnect
