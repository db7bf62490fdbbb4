#include "config_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "config_file.hpp"

namespace xconnect {

namespace {

void write_all(int fd, const std::string& text, const std::string& context) {
    for (size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno(context, "write");
        }
        done += static_cast<size_t>(n);
    }
}

// Removes the temp file unless it was renamed into place.
struct TempFile {
    std::string path;
    bool committed = false;
    ~TempFile() {
        if (!committed) {
            ::unlink(path.c_str());
        }
    }
};

}  // namespace

std::vector<PairSpec> ConfigStore::load() const {
    return load_config(file_);
}

void ConfigStore::save(const std::vector<PairSpec>& pairs) {
    const std::string text =
        "# Written by xconnectd; edits are picked up and applied.\n" + render_config(pairs);
    const std::string context = "save " + file_.string();
    const std::filesystem::path directory = file_.parent_path();
    std::error_code error;
    if (std::filesystem::create_directories(directory, error); error) {
        throw SystemError(context, "mkdir " + directory.string(), error.value());
    }

    TempFile temp{(directory / ("." + file_.filename().string() + ".XXXXXX")).string()};
    UniqueFd fd(mkostemp(temp.path.data(), O_CLOEXEC));
    if (!fd) {
        temp.committed = true;  // nothing was created
        throw_errno(context, "mkostemp");
    }
    write_all(fd.get(), text, context);
    if (fchmod(fd.get(), 0644) != 0) {
        throw_errno(context, "fchmod");
    }
    if (fsync(fd.get()) != 0) {
        throw_errno(context, "fsync");
    }
    fd.reset();
    if (::rename(temp.path.c_str(), file_.c_str()) != 0) {
        throw_errno(context, "rename");
    }
    temp.committed = true;
    last_written_ = text;
    // The rename itself is durable once the directory is.
    UniqueFd directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!directory_fd || fsync(directory_fd.get()) != 0) {
        throw_errno(context, "fsync " + directory.string());
    }
}

bool ConfigStore::holds_own_write() const {
    if (!last_written_) {
        return false;
    }
    std::ifstream stream(file_);
    std::ostringstream text;
    text << stream.rdbuf();
    return stream.is_open() && text.str() == *last_written_;
}

}  // namespace xconnect
