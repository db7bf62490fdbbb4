#include "user_readable.hpp"

#include "netns.hpp"

namespace xconnect::test {

namespace fs = std::filesystem;

UserReadableCopy::UserReadableCopy(const std::vector<fs::path>& files)
    : directory_(fs::temp_directory_path() / ("xconnect-shared-" + unique_suffix())) {
    fs::create_directories(directory_);
    fs::permissions(directory_, fs::perms(0755));
    for (const fs::path& file : files) {
        const fs::path copy = directory_ / file.filename();
        fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
        fs::permissions(copy, fs::perms::group_read | fs::perms::others_read,
                        fs::perm_options::add);
    }
}

UserReadableCopy::~UserReadableCopy() {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
}

fs::path UserReadableCopy::operator[](const fs::path& filename) const {
    return directory_ / filename;
}

}  // namespace xconnect::test
