#pragma once

// A pcap-filter(7) expression compiled by libpcap, run on each captured frame
// in user space (pcap_offline_filter). The XDP program copies every frame of
// a captured pair; the filter decides which are written. (Running it in the
// kernel would mean translating classic BPF into the XDP program at run time;
// the copy it would save is measured in bench/.)

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace xconnect {

class CaptureFilter {
  public:
    // Throws ContractError invalid_args with libpcap's words and the
    // expression quoted bounded. An empty expression matches every frame.
    CaptureFilter(const std::string& expression, uint32_t snaplen);
    ~CaptureFilter();
    CaptureFilter(CaptureFilter&&) noexcept;
    CaptureFilter& operator=(CaptureFilter&&) noexcept;

    // `bytes` as captured of a frame of `length` bytes.
    bool matches(std::span<const uint8_t> bytes, uint32_t length) const;

  private:
    struct Program;
    std::unique_ptr<Program> program_;  // null: matches everything
};

}  // namespace xconnect
