#include "engine/data/prepared/prepared_images.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <zlib.h>

#include "engine/config/experiment_config.h"
#include "engine/data/data_error.h"
#include "engine/data/image_store.h"
#include "engine/data/prepared/prepared_manifest.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

// 64-bit FNV-1a.
struct PreparedFnv1a {
    uint64_t state = 14695981039346656037ull;
    void add(const void* data, size_t bytes) {
        const auto* p = static_cast<const unsigned char*>(data);
        for (size_t k = 0; k < bytes; ++k) {
            state ^= p[k];
            state *= 1099511628211ull;
        }
    }
    void add_string(const std::string& s) {  // length-prefixed: "ab"+"c" ≠ "a"+"bc"
        const uint64_t n = s.size();
        add(&n, sizeof n);
        add(s.data(), s.size());
    }
};

}  // namespace

SourceFingerprint source_fingerprint(const ImageStore& store) {
    SourceFingerprint out;
    out.kind = store.fingerprint_kind();
    out.images = store.size();
    PreparedFnv1a hash;
    hash.add_string(out.kind);
    hash.add(&out.images, sizeof out.images);
    for (int64_t i = 0; i < out.images; ++i) hash.add_string(store.fingerprint_entry(i));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash.state));
    out.digest = hex;
    return out;
}

struct PreparedImages::Shard {
    std::string path;         // the .u8
    int64_t first_image = 0;  // of the set
    const uint8_t* data = nullptr;
    size_t bytes = 0;
};

PreparedImages::PreparedImages() = default;

PreparedImages::~PreparedImages() {
    for (const Shard& s : shards_)
        if (s.data) ::munmap(const_cast<uint8_t*>(s.data), s.bytes);
}

std::shared_ptr<const PreparedImages> PreparedImages::open(const std::string& dir, const ImageStore& source,
                                                           const PreparedTransform& transform) {
    std::shared_ptr<PreparedImages> out(new PreparedImages());
    out->transform_ = transform;
    out->channels_ = source.channels();
    if (source.size() == 0) return out;

    const std::optional<PreparedManifest> manifest = read_prepared_manifest(dir);
    if (!manifest)
        throw ConfigError("data.prepared", dir + ": no prepared data set here (no " + kPreparedManifestFile +
                                               "); make one with `lorica-cli prepare --out " + dir + "`");
    if (!manifest->complete)
        throw ConfigError("data.prepared", dir + " is not complete (an interrupted prepare): run lorica-cli prepare " +
                                               "with the same config and --out " + dir + " to finish it");
    if (manifest->transform.resize_size != transform.resize_size)
        throw ConfigError("data.resize_size", std::to_string(transform.resize_size) + ", but " + dir +
                                                  " was prepared at resize size " +
                                                  std::to_string(manifest->transform.resize_size) +
                                                  ": prepare the data again at this size into another folder");
    const SourceFingerprint fingerprint = source_fingerprint(source);
    const PreparedSetEntry* set = nullptr;
    for (const PreparedSetEntry& s : manifest->sets)
        if (s.source == fingerprint) set = &s;
    if (!set) {
        std::string held;
        for (const PreparedSetEntry& s : manifest->sets) held += (held.empty() ? "" : "; ") + s.description;
        throw ConfigError("data.prepared", dir + " was prepared from other data: none of its sets (" + held +
                                               ") holds the " + std::to_string(fingerprint.images) +
                                               " images of this data (" + source.describe(0) +
                                               ", ...); prepare this config's data into another folder");
    }
    if (set->channels != out->channels_)
        throw ConfigError("data.prepared", dir + "/" + set->folder + " holds " + std::to_string(set->channels) +
                                               "-channel images, the data set loads " + std::to_string(out->channels_));

    out->records_.reserve(static_cast<size_t>(set->images));
    out->shards_.reserve(set->shards.size());
    const fs::path folder = fs::path(dir) / set->folder;
    for (const PreparedShardEntry& entry : set->shards) {
        const std::string u8 = (folder / (entry.file + ".u8")).string();
        const std::string idx = (folder / (entry.file + ".idx")).string();
        std::vector<PreparedRecord> records = read_shard_index(idx, u8, set->channels, entry.images);
        Shard shard;
        shard.path = u8;
        shard.first_image = out->size();
        shard.bytes = records.empty() ? 0
                                      : records.back().offset + static_cast<uint64_t>(records.back().height) *
                                                                    records.back().width * set->channels;
        if (shard.bytes > 0) {
            const int fd = ::open(u8.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw DataError(u8 + ": cannot open (" + std::strerror(errno) + ")");
            struct stat st {};
            if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != shard.bytes) {
                ::close(fd);
                throw DataError(u8 + ": changed size while it was opened");
            }
            void* mapped = ::mmap(nullptr, shard.bytes, PROT_READ, MAP_SHARED, fd, 0);
            const int saved = errno;
            ::close(fd);  // the mapping keeps the file
            if (mapped == MAP_FAILED) throw DataError(u8 + ": cannot map (" + std::strerror(saved) + ")");
            shard.data = static_cast<const uint8_t*>(mapped);
        }
        const auto shard_index = static_cast<int32_t>(out->shards_.size());
        out->shards_.push_back(std::move(shard));
        for (const PreparedRecord& r : records) {
            out->records_.push_back(r);
            out->shard_of_.push_back(shard_index);
        }
    }
    if (out->size() != set->images || out->size() != source.size())
        throw DataError((folder / kPreparedManifestFile).string() + ": its shards hold " + std::to_string(out->size()) +
                        " images, the set " + std::to_string(source.size()));
    out->checked_ = std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(out->size()));
    return out;
}

PreparedImage PreparedImages::image(int64_t index) const {
    if (index < 0 || index >= size())
        throw std::out_of_range("prepared images: index " + std::to_string(index) + " of " + std::to_string(size()));
    const PreparedRecord& r = records_[static_cast<size_t>(index)];
    const Shard& shard = shards_[static_cast<size_t>(shard_of_[static_cast<size_t>(index)])];
    PreparedImage out;
    out.pixels = shard.data + r.offset;
    out.height = r.height;
    out.width = r.width;
    out.channels = channels_;
    out.source_height = r.source_height;
    out.source_width = r.source_width;
    std::atomic<uint8_t>& checked = checked_[static_cast<size_t>(index)];
    if (checked.load(std::memory_order_acquire) == 0) {
        const uint64_t bytes = static_cast<uint64_t>(r.height) * r.width * static_cast<uint64_t>(channels_);
        uLong crc = crc32_z(0L, Z_NULL, 0);
        crc = crc32_z(crc, out.pixels, static_cast<z_size_t>(bytes));
        if (static_cast<uint32_t>(crc) != r.crc32)
            throw DataError(describe(index) + ": damaged (CRC-32 " + std::to_string(static_cast<uint32_t>(crc)) +
                            ", the index says " + std::to_string(r.crc32) +
                            "): prepare the data again into a new folder");
        checked.store(1, std::memory_order_release);
    }
    return out;
}

std::string PreparedImages::describe(int64_t index) const {
    if (index < 0 || index >= size())
        throw std::out_of_range("prepared images: index " + std::to_string(index) + " of " + std::to_string(size()));
    const Shard& shard = shards_[static_cast<size_t>(shard_of_[static_cast<size_t>(index)])];
    return shard.path + ", image " + std::to_string(index - shard.first_image);
}

}  // namespace lorica
