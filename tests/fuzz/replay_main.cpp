// The fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput once on each
// file given, or on every regular file in each directory given (as systemd's
// fuzz-main.c), so the normal ctest run replays every corpus as a regression
// test. A failed check aborts; an empty corpus fails too, since a test with
// nothing to run could not fail.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE|DIRECTORY...\n", argv[0]);
        return 2;
    }
    std::vector<std::filesystem::path> inputs;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path argument = argv[i];
        if (std::filesystem::is_directory(argument)) {
            std::vector<std::filesystem::path> files;
            for (const auto& entry : std::filesystem::directory_iterator(argument)) {
                if (entry.is_regular_file()) {
                    files.push_back(entry.path());
                }
            }
            std::sort(files.begin(), files.end());
            inputs.insert(inputs.end(), files.begin(), files.end());
        } else {
            inputs.push_back(argument);
        }
    }
    if (inputs.empty()) {
        std::fprintf(stderr, "%s: no input files\n", argv[0]);
        return 1;
    }
    for (const auto& input : inputs) {
        std::ifstream stream(input, std::ios::binary);
        if (!stream) {
            std::fprintf(stderr, "%s: cannot read %s\n", argv[0], input.c_str());
            return 1;
        }
        const std::string bytes((std::istreambuf_iterator<char>(stream)),
                                std::istreambuf_iterator<char>());
        // A copy of its own, as libFuzzer hands each input: reads past the end are caught.
        std::vector<uint8_t> data(bytes.begin(), bytes.end());
        std::fprintf(stderr, "replaying %s (%zu bytes)\n", input.c_str(), data.size());
        LLVMFuzzerTestOneInput(data.data(), data.size());
    }
    std::printf("%s: %zu inputs replayed, no failure\n", argv[0], inputs.size());
    return 0;
}
