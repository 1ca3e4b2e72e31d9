#include "engine/data/prepared/prepared_manifest.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/data/data_error.h"
#include "engine/data/prepared/prepared_writer.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

nlohmann::json manifest_json(const PreparedManifest& m) {
    nlohmann::json sets = nlohmann::json::array();
    for (const PreparedSetEntry& set : m.sets) {
        nlohmann::json shards = nlohmann::json::array();
        for (const PreparedShardEntry& s : set.shards)
            shards.push_back({{"file", s.file}, {"images", s.images}, {"bytes", s.bytes}});
        sets.push_back(
            {{"folder", set.folder},
             {"description", set.description},
             {"channels", set.channels},
             {"images", set.images},
             {"source", {{"kind", set.source.kind}, {"images", set.source.images}, {"digest", set.source.digest}}},
             {"shards", std::move(shards)}});
    }
    return {{"format", kPreparedFormatName},
            {"version", kPreparedFormatVersion},
            {"complete", m.complete},
            {"transform", {{"resize_size", m.transform.resize_size}, {"resample", kPreparedResample}}},
            {"images_per_shard", m.images_per_shard},
            {"sets", std::move(sets)}};
}

PreparedManifest manifest_of(const nlohmann::json& j) {
    PreparedManifest m;
    m.complete = j.at("complete").get<bool>();
    m.transform.resize_size = j.at("transform").at("resize_size").get<int64_t>();
    m.images_per_shard = j.at("images_per_shard").get<int64_t>();
    if (m.images_per_shard <= 0) throw std::invalid_argument("images_per_shard must be positive");
    for (const auto& s : j.at("sets")) {
        PreparedSetEntry set;
        set.folder = s.at("folder").get<std::string>();
        set.description = s.at("description").get<std::string>();
        set.channels = s.at("channels").get<int>();
        set.images = s.at("images").get<int64_t>();
        const auto& source = s.at("source");
        set.source = {source.at("kind").get<std::string>(), source.at("images").get<int64_t>(),
                      source.at("digest").get<std::string>()};
        if (set.folder.empty() || set.folder.find('/') != std::string::npos ||
            set.folder.find("..") != std::string::npos)
            throw std::invalid_argument("a set folder must be a plain name, not '" + set.folder + "'");
        for (const auto& sh : s.at("shards")) {
            PreparedShardEntry shard{sh.at("file").get<std::string>(), sh.at("images").get<int64_t>(),
                                     sh.at("bytes").get<int64_t>()};
            if (shard.file.find('/') != std::string::npos || shard.file.find("..") != std::string::npos)
                throw std::invalid_argument("a shard must be a plain name, not '" + shard.file + "'");
            set.shards.push_back(std::move(shard));
        }
        m.sets.push_back(std::move(set));
    }
    return m;
}

uint32_t read_le32(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

std::optional<PreparedManifest> read_prepared_manifest(const std::string& dir) {
    const fs::path path = fs::path(dir) / kPreparedManifestFile;
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    std::ifstream in(path);
    if (!in) throw ConfigError("data.prepared", path.string() + ": cannot open");
    try {
        const nlohmann::json j = nlohmann::json::parse(in);
        if (!j.is_object() || j.value("format", "") != kPreparedFormatName)
            throw ConfigError("data.prepared", path.string() + " is not a manifest of a prepared data set");
        if (j.value("version", 0) != kPreparedFormatVersion)
            throw ConfigError("data.prepared", path.string() + " has format version " +
                                                   std::to_string(j.value("version", 0)) + ", this Lorica reads " +
                                                   std::to_string(kPreparedFormatVersion) +
                                                   ": prepare the data again into a new folder");
        return manifest_of(j);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError("data.prepared", path.string() + ": malformed manifest (" + e.what() + ")");
    } catch (const std::invalid_argument& e) {
        throw ConfigError("data.prepared", path.string() + ": malformed manifest (" + e.what() + ")");
    }
}

void write_prepared_manifest(const std::string& dir, const PreparedManifest& manifest) {
    const fs::path path = fs::path(dir) / kPreparedManifestFile;
    const std::string partial = path.string() + ".partial";
    const std::string text = manifest_json(manifest).dump(1) + "\n";
    std::FILE* f = std::fopen(partial.c_str(), "wb");
    if (!f) throw PrepareWriteError(partial + ": cannot create (" + std::strerror(errno) + ")");
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const int saved = errno;
    if (std::fclose(f) != 0 || !written) {
        std::remove(partial.c_str());
        throw PrepareWriteError(partial + ": cannot write (" + std::strerror(written ? errno : saved) + ")");
    }
    std::error_code ec;
    fs::rename(partial, path, ec);
    if (ec) throw PrepareWriteError(path.string() + ": cannot replace (" + ec.message() + ")");
}

std::string prepared_shard_name(int64_t shard) {
    char name[32];
    std::snprintf(name, sizeof name, "shard-%05lld", static_cast<long long>(shard));
    return name;
}

std::string prepared_set_folder(const SourceFingerprint& source) { return "set-" + source.digest; }

std::vector<PreparedRecord> read_shard_index(const std::string& idx_path, const std::string& u8_path, int channels,
                                             int64_t images) {
    std::error_code ec;
    const auto u8_bytes = fs::file_size(u8_path, ec);
    if (ec) throw DataError(u8_path + ": missing shard (" + ec.message() + ")");
    std::ifstream in(idx_path, std::ios::binary);
    if (!in) throw DataError(idx_path + ": missing shard index");
    unsigned char header[16];
    if (!in.read(reinterpret_cast<char*>(header), sizeof header))
        throw DataError(idx_path + ": truncated shard index (no header)");
    if (std::memcmp(header, kPreparedIndexMagic, sizeof kPreparedIndexMagic) != 0)
        throw DataError(idx_path + ": not a shard index (bad magic)");
    const int64_t count = read_le32(header + 8);
    const int64_t stored_channels = read_le32(header + 12);
    if (stored_channels != channels)
        throw DataError(idx_path + ": holds " + std::to_string(stored_channels) + "-channel images, the set " +
                        std::to_string(channels));
    if (images >= 0 && count != images)
        throw DataError(idx_path + ": holds " + std::to_string(count) + " images, the manifest says " +
                        std::to_string(images));
    std::vector<PreparedRecord> records(static_cast<size_t>(count));
    static_assert(std::endian::native == std::endian::little, "prepared shards are little-endian");
    if (count > 0 &&
        !in.read(reinterpret_cast<char*>(records.data()), static_cast<std::streamsize>(count * sizeof(PreparedRecord))))
        throw DataError(idx_path + ": truncated shard index (" + std::to_string(count) + " records expected)");
    if (in.peek() != std::char_traits<char>::eof()) throw DataError(idx_path + ": longer than its records");
    uint64_t offset = 0;
    for (int64_t k = 0; k < count; ++k) {
        const PreparedRecord& r = records[static_cast<size_t>(k)];
        const uint64_t bytes = static_cast<uint64_t>(r.height) * r.width * static_cast<uint64_t>(channels);
        if (r.offset != offset || r.height == 0 || r.width == 0)
            throw DataError(idx_path + ": malformed record of image " + std::to_string(k));
        offset += bytes;
    }
    if (offset != u8_bytes)
        throw DataError(u8_path + ": " + std::to_string(u8_bytes) + " bytes, its index " + idx_path + " says " +
                        std::to_string(offset) + (u8_bytes < offset ? " (truncated)" : ""));
    return records;
}

}  // namespace lorica
