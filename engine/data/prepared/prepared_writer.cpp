#include "engine/data/prepared/prepared_writer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>

#include <torch/torch.h>
#include <zlib.h>

#include "engine/config/experiment_config.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_store.h"
#include "engine/data/image_transforms.h"
#include "engine/data/prepared/prepared_manifest.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

struct PlannedSet {
    PrepareSource source;
    SourceFingerprint fingerprint;
    PreparedSetEntry entry;  // as the manifest lists it; shards = those on disk
};

// One image decoded and resized: uint8 [height, width, channels].
struct PreparedPixels {
    std::vector<uint8_t> pixels;
    uint32_t height = 0, width = 0, source_height = 0, source_width = 0;
};

// Decodes image i of `store`, resizes its shorter side to `size` (image_transforms.h: float bicubic,
// antialiased when shrinking, on [0, 1]) and rounds it to 8 bits.
PreparedPixels prepare_decoded_image(const ImageStore& store, int64_t index, int64_t size) {
    const DecodedImage decoded = store.load(index);
    const torch::Tensor resized = resize_shorter_side(image_to_tensor(decoded), size);
    const torch::Tensor hwc =
        resized.mul(255.0f).round_().clamp_(0.0f, 255.0f).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
    PreparedPixels out;
    out.height = static_cast<uint32_t>(hwc.size(0));
    out.width = static_cast<uint32_t>(hwc.size(1));
    out.source_height = static_cast<uint32_t>(decoded.height);
    out.source_width = static_cast<uint32_t>(decoded.width);
    out.pixels.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
    return out;
}

std::string prepare_describe_sources(const std::vector<PlannedSet>& sets) {
    std::string out;
    for (const PlannedSet& s : sets) out += (out.empty() ? "" : "; ") + s.entry.description;
    return out;
}

// A file being written: removed unless `keep()` was called.
class PreparePartialFile {
public:
    explicit PreparePartialFile(std::string path) : path_(std::move(path)) {
        file_ = std::fopen(path_.c_str(), "wb");
        if (!file_) throw PrepareWriteError(path_ + ": cannot create (" + std::strerror(errno) + ")");
    }
    ~PreparePartialFile() {
        if (file_) std::fclose(file_);
        if (!kept_) std::remove(path_.c_str());
    }
    PreparePartialFile(const PreparePartialFile&) = delete;
    PreparePartialFile& operator=(const PreparePartialFile&) = delete;

    void write(const void* data, size_t bytes) {
        if (bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes)
            throw PrepareWriteError(path_ + ": cannot write (" + std::strerror(errno) + ")");
    }
    // Flushes, syncs and closes the file, then renames it to `final_path`.
    void commit(const std::string& final_path) {
        std::FILE* f = file_;
        file_ = nullptr;
        const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
        const int saved = errno;
        if (std::fclose(f) != 0 || !flushed)
            throw PrepareWriteError(path_ + ": cannot write (" + std::strerror(flushed ? errno : saved) + ")");
        std::error_code ec;
        fs::rename(path_, final_path, ec);
        if (ec) throw PrepareWriteError(final_path + ": cannot rename into place (" + ec.message() + ")");
        kept_ = true;
    }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
    bool kept_ = false;
};

void prepare_append_le32(std::vector<char>& out, uint32_t v) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
}

class PreparedFolderWriter {
public:
    PreparedFolderWriter(std::string dir, const PrepareOptions& options, PreparedManifest manifest,
                         std::vector<PlannedSet> sets)
        : dir_(std::move(dir)),
          options_(options),
          manifest_(std::move(manifest)),
          sets_(std::move(sets)),
          pool_(std::max(1, options.workers)) {}

    // Writes every shard not on disk; returns the images written.
    int64_t write_missing(int64_t& done, int64_t total) {
        done_ = &done;
        total_ = total;
        int64_t written = 0;
        for (size_t s = 0; s < sets_.size(); ++s) {
            PlannedSet& set = sets_[s];
            const int64_t n = set.entry.images, per = manifest_.images_per_shard;
            const fs::path folder = fs::path(dir_) / set.entry.folder;
            for (int64_t k = 0; k * per < n; ++k) {
                const std::string name = prepared_shard_name(k);
                if (std::any_of(set.entry.shards.begin(), set.entry.shards.end(),
                                [&](const PreparedShardEntry& e) { return e.file == name; }))
                    continue;
                check_cancel();
                const int64_t first = k * per, count = std::min(per, n - first);
                const int64_t bytes = write_shard(set, folder, name, first, count);
                written += count;
                set.entry.shards.push_back({name, count, bytes});
                std::sort(set.entry.shards.begin(), set.entry.shards.end(),
                          [](const PreparedShardEntry& a, const PreparedShardEntry& b) { return a.file < b.file; });
                sync_manifest();
            }
        }
        return written;
    }

    void sync_manifest() {
        manifest_.sets.clear();
        for (const PlannedSet& s : sets_) manifest_.sets.push_back(s.entry);
        write_prepared_manifest(dir_, manifest_);
    }
    void mark_complete() {
        manifest_.complete = true;
        sync_manifest();
    }
    const std::vector<PlannedSet>& sets() const { return sets_; }

private:
    // job(j) for j in [0, n) on the pool's threads only (not this one: a thread that has run
    // LibTorch ops with intra-op threads, as the data set's loading did, keeps an OpenMP team that
    // made each resize here several times slower), returning when all have returned.
    void run_on_pool(int64_t n, const std::function<void(int64_t)>& job) {
        std::atomic<int64_t> next{0};
        std::mutex mutex;
        std::condition_variable finished;
        int running = pool_.threads();
        for (int k = 0; k < pool_.threads(); ++k)
            pool_.submit([&] {
                for (int64_t j = next++; j < n; j = next++) job(j);
                std::lock_guard<std::mutex> lock(mutex);
                if (--running == 0) finished.notify_all();
            });
        std::unique_lock<std::mutex> lock(mutex);
        finished.wait(lock, [&] { return running == 0; });
    }

    void check_cancel() const {
        if (options_.cancel && options_.cancel->cancelled()) throw Cancelled();
    }

    // Shard `name` of `set`: images [first, first + count). Returns its .u8's bytes.
    int64_t write_shard(const PlannedSet& set, const fs::path& folder, const std::string& name, int64_t first,
                        int64_t count) {
        const std::string u8 = (folder / (name + ".u8")).string(), idx = (folder / (name + ".idx")).string();
        std::error_code ec;
        fs::remove(idx, ec);  // a stale index must not vouch for the .u8 written now
        PreparePartialFile pixels(u8 + ".partial");
        std::vector<PreparedRecord> records;
        records.reserve(static_cast<size_t>(count));
        const int64_t chunk = std::max<int64_t>(8, 4 * static_cast<int64_t>(pool_.threads()));
        const ImageStore& store = *set.source.store;
        const int64_t size = manifest_.transform.resize_size;
        uint64_t offset = 0;
        for (int64_t begin = first; begin < first + count; begin += chunk) {
            const int64_t n = std::min(chunk, first + count - begin);
            std::vector<std::optional<PreparedPixels>> images(static_cast<size_t>(n));
            std::vector<std::string> errors(static_cast<size_t>(n));
            run_on_pool(n, [&](int64_t j) {
                if (options_.cancel && options_.cancel->cancelled()) return;
                try {
                    images[static_cast<size_t>(j)] = prepare_decoded_image(store, begin + j, size);
                } catch (const std::exception& e) {
                    errors[static_cast<size_t>(j)] = e.what();
                }
            });
            for (int64_t j = 0; j < n; ++j) {
                check_cancel();
                if (!errors[static_cast<size_t>(j)].empty()) throw DataError(errors[static_cast<size_t>(j)]);
                const PreparedPixels& im = *images[static_cast<size_t>(j)];
                pixels.write(im.pixels.data(), im.pixels.size());
                PreparedRecord r;
                r.offset = offset;
                r.height = im.height;
                r.width = im.width;
                r.source_height = im.source_height;
                r.source_width = im.source_width;
                r.crc32 = static_cast<uint32_t>(
                    crc32_z(crc32_z(0L, Z_NULL, 0), im.pixels.data(), static_cast<z_size_t>(im.pixels.size())));
                records.push_back(r);
                offset += im.pixels.size();
                images[static_cast<size_t>(j)].reset();
                ++*done_;
                if (options_.progress) options_.progress({*done_, total_, set.entry.description});
            }
        }
        check_cancel();
        pixels.commit(u8);
        std::vector<char> index(kPreparedIndexMagic, kPreparedIndexMagic + sizeof kPreparedIndexMagic);
        prepare_append_le32(index, static_cast<uint32_t>(count));
        prepare_append_le32(index, static_cast<uint32_t>(set.entry.channels));
        const auto* raw = reinterpret_cast<const char*>(records.data());
        index.insert(index.end(), raw, raw + records.size() * sizeof(PreparedRecord));
        PreparePartialFile index_file(idx + ".partial");
        index_file.write(index.data(), index.size());
        index_file.commit(idx);
        return static_cast<int64_t>(offset);
    }

    std::string dir_;
    const PrepareOptions& options_;
    PreparedManifest manifest_;
    std::vector<PlannedSet> sets_;
    DecodePool pool_;
    int64_t* done_ = nullptr;
    int64_t total_ = 0;
};

// The shards of `entry` already on disk and whole (index against .u8 size); the others are removed.
std::vector<PreparedShardEntry> prepare_shards_on_disk(const fs::path& folder, const PreparedSetEntry& entry,
                                                       int64_t images_per_shard) {
    std::vector<PreparedShardEntry> out;
    for (int64_t k = 0; k * images_per_shard < entry.images; ++k) {
        const std::string name = prepared_shard_name(k);
        const std::string u8 = (folder / (name + ".u8")).string(), idx = (folder / (name + ".idx")).string();
        std::error_code ec;
        if (!fs::exists(idx, ec)) continue;
        try {
            const int64_t count = std::min(images_per_shard, entry.images - k * images_per_shard);
            read_shard_index(idx, u8, entry.channels, count);
            out.push_back({name, count, static_cast<int64_t>(fs::file_size(u8))});
        } catch (const DataError&) {
            fs::remove(idx, ec);  // written again
        }
    }
    return out;
}

void prepare_verify(const std::string& dir, const std::vector<PlannedSet>& sets, const PrepareOptions& options,
                    int64_t total) {
    int64_t done = 0;
    for (const PlannedSet& set : sets) {
        auto images = PreparedImages::open(dir, *set.source.store, options.transform);
        for (int64_t i = 0; i < images->size(); ++i) {
            if (options.cancel && options.cancel->cancelled()) throw Cancelled();
            images->image(i);
            ++done;
            if (options.progress && (done % 256 == 0 || done == total))
                options.progress({done, total, "verifying " + set.entry.description});
        }
    }
}

}  // namespace

PrepareSummary prepare_images(const std::string& dir, const std::vector<PrepareSource>& sources,
                              const PrepareOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    if (options.transform.resize_size <= 0)
        throw ConfigError("data.resize_size", "must be positive, not " + std::to_string(options.transform.resize_size));
    if (options.images_per_shard <= 0) throw std::invalid_argument("prepare_images: images_per_shard must be positive");

    std::vector<PlannedSet> sets;
    for (const PrepareSource& source : sources) {
        if (!source.store || source.store->size() == 0) continue;
        SourceFingerprint fingerprint = source_fingerprint(*source.store);
        if (std::any_of(sets.begin(), sets.end(), [&](const PlannedSet& s) { return s.fingerprint == fingerprint; }))
            continue;
        PreparedSetEntry entry;
        entry.folder = prepared_set_folder(fingerprint);
        entry.description = source.description;
        entry.channels = source.store->channels();
        entry.images = source.store->size();
        entry.source = fingerprint;
        sets.push_back({source, std::move(fingerprint), std::move(entry)});
    }

    PreparedManifest manifest;
    manifest.transform = options.transform;
    manifest.images_per_shard = options.images_per_shard;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw ConfigError("data.prepared", dir + " is a file, not a folder");
    if (std::optional<PreparedManifest> existing = read_prepared_manifest(dir)) {
        if (existing->transform.resize_size != options.transform.resize_size)
            throw ConfigError("data.resize_size", std::to_string(options.transform.resize_size) + ", but " + dir +
                                                      " was prepared at resize size " +
                                                      std::to_string(existing->transform.resize_size) +
                                                      ": prepare into another folder (or remove it)");
        bool same = existing->sets.size() == sets.size();
        for (size_t s = 0; same && s < sets.size(); ++s)
            same =
                existing->sets[s].source == sets[s].fingerprint && existing->sets[s].channels == sets[s].entry.channels;
        if (!same) {
            std::string held;
            for (const PreparedSetEntry& s : existing->sets) held += (held.empty() ? "" : "; ") + s.description;
            throw ConfigError("data.prepared", dir + " was prepared from other data (" + held + "), not from " +
                                                   prepare_describe_sources(sets) +
                                                   ": prepare into another folder (or remove it)");
        }
        manifest.images_per_shard = existing->images_per_shard;
        manifest.complete = existing->complete;
    } else if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
        throw ConfigError("data.prepared", dir + " is not empty and holds no " + kPreparedManifestFile +
                                               ": prepare into a new or empty folder");
    }

    PrepareSummary summary;
    for (const PlannedSet& s : sets) summary.images += s.entry.images;
    int64_t done = 0;
    if (!manifest.complete) {
        fs::create_directories(dir, ec);
        if (ec) throw PrepareWriteError(dir + ": cannot create the folder (" + ec.message() + ")");
        for (PlannedSet& s : sets) {
            const fs::path folder = fs::path(dir) / s.entry.folder;
            fs::create_directories(folder, ec);
            if (ec) throw PrepareWriteError(folder.string() + ": cannot create the folder (" + ec.message() + ")");
            s.entry.shards = prepare_shards_on_disk(folder, s.entry, manifest.images_per_shard);
            for (const PreparedShardEntry& shard : s.entry.shards) done += shard.images;
        }
        PreparedFolderWriter writer(dir, options, manifest, sets);
        writer.sync_manifest();  // complete = false before any shard: an interrupted folder says so
        if (options.progress && !sets.empty()) options.progress({done, summary.images, sets.front().entry.description});
        summary.images_written = writer.write_missing(done, summary.images);
        writer.mark_complete();
    } else if (options.progress) {
        options.progress(
            {summary.images, summary.images, sets.empty() ? std::string() : sets.back().entry.description});
    }
    if (options.verify) prepare_verify(dir, sets, options, summary.images);
    if (const std::optional<PreparedManifest> final_manifest = read_prepared_manifest(dir))
        for (const PreparedSetEntry& s : final_manifest->sets)
            for (const PreparedShardEntry& shard : s.shards) summary.bytes += shard.bytes;
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

}  // namespace lorica
