#pragma once

// What tests run as another user, copied out of the checkout and the build
// tree: those may live under /root (mode 0700), where no other user may read
// or execute anything.

#include <filesystem>
#include <vector>

namespace xconnect::test {

class UserReadableCopy {
  public:
    // Copies each file, mode kept, into a new directory that everyone may enter.
    explicit UserReadableCopy(const std::vector<std::filesystem::path>& files);
    ~UserReadableCopy();
    UserReadableCopy(const UserReadableCopy&) = delete;
    UserReadableCopy& operator=(const UserReadableCopy&) = delete;

    // The copy of the file named `filename`.
    std::filesystem::path operator[](const std::filesystem::path& filename) const;

  private:
    std::filesystem::path directory_;
};

}  // namespace xconnect::test
