#include "engine/data/idx_file.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <zlib.h>

namespace lorica {
namespace {

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

}  // namespace

IdxArray read_idx_file(const std::string& path, int expected_dims) {
    if (!std::filesystem::exists(path)) throw DataError("data file not found: " + path);
    std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
    if (!file) throw DataError("cannot open data file " + path);

    auto corrupt = [&](const char* what) {
        int code = 0;
        const char* msg = gzerror(file.get(), &code);
        return DataError("corrupt data file " + path + ": " + (msg ? msg : "gzip error") + " while reading " + what);
    };
    auto read_exact = [&](void* dst, size_t bytes, const char* what) {
        int got = gzread(file.get(), dst, static_cast<unsigned>(bytes));
        if (got < 0) throw corrupt(what);
        if (static_cast<size_t>(got) != bytes)
            throw DataError("truncated data file " + path + ": expected " + std::to_string(bytes) + " bytes of " +
                            what + ", got " + std::to_string(got));
    };
    auto read_u32 = [&](const char* what) {
        unsigned char b[4];
        read_exact(b, 4, what);
        return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
    };

    const uint32_t magic = read_u32("the header");
    const uint32_t expected_magic = 0x00000800u | static_cast<uint32_t>(expected_dims);
    if (magic != expected_magic)
        throw DataError("bad magic number in " + path + ": " + hex32(magic) + " (expected " + hex32(expected_magic) +
                        ", an unsigned-byte IDX file with " + std::to_string(expected_dims) + " dimensions)");
    IdxArray out;
    uint64_t count = 1;
    for (int d = 0; d < expected_dims; ++d) {
        uint32_t size = read_u32("the dimension sizes");
        if (size == 0 || size > (1u << 28))
            throw DataError("implausible dimension size " + std::to_string(size) + " in " + path);
        out.dims.push_back(size);
        count *= size;
    }
    if (count > (uint64_t(1) << 34)) throw DataError("IDX file " + path + " declares too many elements");
    // The body is read in chunks that double with what has arrived (64 KiB, 64 KiB, 128 KiB, ... at
    // most 1 GiB): a header that declares more elements than the file holds fails as truncated after
    // allocating at most twice what the file has, instead of first allocating the declared size (up
    // to 16 GiB for a 24-byte file; found by bench/fuzz_idx.cpp), and gzread's unsigned count never
    // overflows.
    for (uint64_t done = 0; done < count;) {
        const uint64_t n = std::min({count - done, std::max(uint64_t(1) << 16, done), uint64_t(1) << 30});
        out.data.resize(done + n);
        const int got = gzread(file.get(), out.data.data() + done, static_cast<unsigned>(n));
        if (got < 0) throw corrupt("the elements");
        if (static_cast<uint64_t>(got) != n)
            throw DataError("truncated data file " + path + ": expected " + std::to_string(count) +
                            " bytes of the elements, got " + std::to_string(done + static_cast<uint64_t>(got)));
        done += n;
    }
    unsigned char extra;
    int more = gzread(file.get(), &extra, 1);
    if (more < 0) throw DataError("corrupt data file " + path + ": gzip error after the elements");
    if (more > 0)
        throw DataError("data file " + path + " has trailing bytes after its " + std::to_string(count) + " elements");
    return out;
}

}  // namespace lorica
