#include "engine/data/prepared/prepared_sources.h"

#include <algorithm>

#include "engine/data/image_store.h"
#include "engine/data/raw_dataset.h"

namespace lorica {
namespace {

void add_prepared_split(std::vector<PrepareSource>& out, std::vector<SourceFingerprint>& seen,
                        const std::shared_ptr<const ImageStore>& store, const std::string& description) {
    if (!store || store->size() == 0) return;
    SourceFingerprint fingerprint = source_fingerprint(*store);
    if (std::find(seen.begin(), seen.end(), fingerprint) != seen.end()) return;  // a data set listed twice
    seen.push_back(std::move(fingerprint));
    out.push_back({store, description});
}

void add_prepared_dataset(std::vector<PrepareSource>& out, std::vector<SourceFingerprint>& seen, const RawDataset& raw,
                          const std::string& name, const std::string& root) {
    if (!raw.streamed()) return;
    const std::string where = root.empty() ? "" : " (" + root + ")";
    add_prepared_split(out, seen, raw.train_store, name + " train" + where);
    add_prepared_split(out, seen, raw.test_store, name + " test" + where);
}

}  // namespace

int64_t resolved_resize_size(const ExperimentConfig& config) {
    return config.data.resize_size > 0 ? config.data.resize_size : config.backbone.image_size * 8 / 7;
}

PreparedTransform prepared_transform(const ExperimentConfig& config) {
    PreparedTransform transform;
    transform.resize_size = resolved_resize_size(config);
    return transform;
}

std::vector<PrepareSource> prepared_sources(const ExperimentConfig& config, const RawDataset& raw) {
    std::vector<PrepareSource> out;
    std::vector<SourceFingerprint> seen;
    add_prepared_dataset(out, seen, raw, std::string(name_of(kDatasetNames, config.data.dataset)), config.data.root);
    for (size_t t = 0; t < raw.stream_tasks.size(); ++t) {
        const DatasetTaskConfig* entry = t < config.stream.datasets.size() ? &config.stream.datasets[t] : nullptr;
        add_prepared_dataset(out, seen, raw.stream_tasks[t], raw.stream_tasks[t].name, entry ? entry->root : "");
    }
    if (raw.foundation)
        add_prepared_dataset(out, seen, *raw.foundation, "foundation data", config.foundation.data.root);
    return out;
}

}  // namespace lorica
