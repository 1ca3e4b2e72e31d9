#include "engine/vocabulary/analysis_keys.h"

#include <array>
#include <charconv>
#include <utility>

namespace lorica {
namespace {

constexpr std::array<std::pair<StateKey, std::string_view>, 8> kStateNames{{
    {StateKey::magnitudes, "magnitudes"},
    {StateKey::direction_residual, "direction_residual"},
    {StateKey::ranks, "ranks"},
    {StateKey::trainable_params, "trainable_params"},
    {StateKey::lori_a_seed, "lori_a_seed"},
    {StateKey::inference_gflops, "inference_gflops"},
    {StateKey::stored_params, "stored_params"},
    {StateKey::stored_features, "stored_features"},
}};

constexpr std::array<std::pair<AnalysisKey, std::string_view>, 9> kAnalysisNames{{
    {AnalysisKey::merge_interpolation, "merge_interpolation"},
    {AnalysisKey::lori_merge, "lori_merge"},
    {AnalysisKey::lori_overlap_a, "lori_overlap_a"},
    {AnalysisKey::lori_overlap_mask, "lori_overlap_mask"},
    {AnalysisKey::rank_sweep, "rank_sweep"},
    {AnalysisKey::class_similarity, "class_similarity"},
    {AnalysisKey::low_loss_region, "low_loss_region"},
    {AnalysisKey::low_loss_ratio, "low_loss_ratio"},
    {AnalysisKey::low_loss_continual, "low_loss_continual"},
}};

constexpr std::array<std::pair<SeriesKey::Kind, std::string_view>, 6> kSeriesNames{{
    {SeriesKey::Kind::alone, "alone"},
    {SeriesKey::Kind::cat, "cat"},
    {SeriesKey::Kind::linear, "linear"},
    {SeriesKey::Kind::foundation_forgetting, "foundation_forgetting"},
    {SeriesKey::Kind::downstream_forgetting, "downstream_forgetting"},
    {SeriesKey::Kind::from_start, "from_start"},
}};

template <class Key, size_t N>
std::string_view lookup_name(const std::array<std::pair<Key, std::string_view>, N>& table, Key key) {
    for (const auto& [k, name] : table)
        if (k == key) return name;
    return "?";
}

template <class Key, size_t N>
std::optional<Key> lookup_key(const std::array<std::pair<Key, std::string_view>, N>& table, std::string_view name) {
    for (const auto& [k, n] : table)
        if (n == name) return k;
    return std::nullopt;
}

}  // namespace

std::span<const std::pair<StateKey, std::string_view>> state_key_names() { return kStateNames; }
std::span<const std::pair<AnalysisKey, std::string_view>> analysis_key_names() { return kAnalysisNames; }
std::span<const std::pair<SeriesKey::Kind, std::string_view>> series_kind_names() { return kSeriesNames; }

std::string_view name_of(StateKey key) { return lookup_name(kStateNames, key); }
std::string_view name_of(AnalysisKey key) { return lookup_name(kAnalysisNames, key); }

std::string name_of(const SeriesKey& key) {
    if (key.is_task()) return "task" + std::to_string(key.task);
    return std::string(lookup_name(kSeriesNames, key.kind));
}

std::optional<StateKey> parse_state_key(std::string_view name) { return lookup_key(kStateNames, name); }
std::optional<AnalysisKey> parse_analysis_key(std::string_view name) { return lookup_key(kAnalysisNames, name); }

std::optional<SeriesKey> parse_series_key(std::string_view name) {
    constexpr std::string_view prefix = "task";
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
        const std::string_view digits = name.substr(prefix.size());
        if (digits.front() < '0' || digits.front() > '9') return std::nullopt;
        int task = -1;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), task);
        if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
        return SeriesKey::of_task(task);
    }
    if (auto kind = lookup_key(kSeriesNames, name)) return SeriesKey::named(*kind);
    return std::nullopt;
}

}  // namespace lorica
