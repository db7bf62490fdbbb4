#pragma once

// Owns one skeleton that `bpftool gen skeleton` generated (T = xconnect_bpf,
// bench_bpf, ...): its programs, maps and links go when it goes. Unique
// owner, so movable, not copyable; a moved-from one holds nothing.

#include <cerrno>
#include <string>
#include <utility>

#include "common/error.hpp"

namespace xconnect {

template <typename T>
class BpfSkeleton {
  public:
    // Opened, not loaded: read-only data can still be set, then load().
    // `context` says what for, in the SystemError thrown on failure.
    static BpfSkeleton open(const std::string& context) {
        T* skeleton = T::open();
        if (skeleton == nullptr) {
            throw_errno(context, "skeleton open");
        }
        return BpfSkeleton(skeleton);
    }
    static BpfSkeleton open_and_load(const std::string& context) {
        T* skeleton = T::open_and_load();
        if (skeleton == nullptr) {
            throw_errno(context, "skeleton open_and_load");
        }
        return BpfSkeleton(skeleton);
    }

    ~BpfSkeleton() {
        if (skeleton_ != nullptr) {
            T::destroy(skeleton_);
        }
    }
    BpfSkeleton(BpfSkeleton&& other) noexcept
        : skeleton_(std::exchange(other.skeleton_, nullptr)) {}
    BpfSkeleton& operator=(BpfSkeleton&& other) noexcept {
        BpfSkeleton(std::move(other)).swap(*this);
        return *this;
    }
    BpfSkeleton(const BpfSkeleton&) = delete;
    BpfSkeleton& operator=(const BpfSkeleton&) = delete;

    // Loads what open() opened. Throws SystemError.
    void load(const std::string& context) {
        if (const int rc = T::load(skeleton_); rc != 0) {
            throw SystemError(context, "skeleton load", rc < 0 ? -rc : errno);
        }
    }

    T* get() const noexcept { return skeleton_; }
    T* operator->() const noexcept { return skeleton_; }
    T& operator*() const noexcept { return *skeleton_; }

  private:
    explicit BpfSkeleton(T* skeleton) noexcept : skeleton_(skeleton) {}
    void swap(BpfSkeleton& other) noexcept { std::swap(skeleton_, other.skeleton_); }

    T* skeleton_;
};

}  // namespace xconnect
