#pragma once

// Owns one mmap()ed region (a packet ring, an AF_XDP ring or umem) and
// unmaps it exactly once.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace xconnect::bench {

class MappedMemory {
  public:
    // `fd` at `offset`, shared and writable; fd -1: anonymous memory.
    MappedMemory(int fd, size_t size, off_t offset) : size_(size) {
        const int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED | MAP_POPULATE;
        void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, fd, offset);
        data_ = memory == MAP_FAILED ? nullptr : static_cast<uint8_t*>(memory);
    }
    ~MappedMemory() {
        if (data_ != nullptr) {
            munmap(data_, size_);
        }
    }
    MappedMemory(MappedMemory&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(other.size_) {}
    MappedMemory(const MappedMemory&) = delete;
    MappedMemory& operator=(const MappedMemory&) = delete;
    MappedMemory& operator=(MappedMemory&&) = delete;

    // False when mmap() failed (errno says why).
    explicit operator bool() const { return data_ != nullptr; }
    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

  private:
    uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace xconnect::bench
