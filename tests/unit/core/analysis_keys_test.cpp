// Typed analysis keys: every key of the name tables (iterated, so a new key is checked without being
// listed here) reads back from its stored name as the same key; the tables cover the enums without
// gaps or duplicate names; task series parse only from "task<digits>"; names of other tools or newer
// builds read as "unknown", never as a wrong key.
#include <gtest/gtest.h>

#include <set>
#include <span>
#include <string_view>
#include <utility>

#include "engine/vocabulary/analysis_keys.h"

using namespace lorica;

namespace {

// A name table's shape: its keys are the enum's values first, first + 1, ... in declaration order (a
// key declared but left out of the table leaves a gap), and its names are non-empty, distinct, and
// never "task..." (that prefix is the task series').
template <typename Key>
void expect_well_formed(std::span<const std::pair<Key, std::string_view>> table, size_t first) {
    ASSERT_FALSE(table.empty());
    std::set<std::string_view> names;
    for (size_t i = 0; i < table.size(); ++i) {
        const auto& [key, name] = table[i];
        EXPECT_EQ(static_cast<size_t>(key), first + i) << name;
        EXPECT_FALSE(name.empty());
        EXPECT_TRUE(names.insert(name).second) << "duplicate stored name " << name;
        EXPECT_NE(name.substr(0, 4), "task") << name;
    }
}

}  // namespace

TEST(AnalysisKeys, EveryKeyRoundTripsThroughItsStoredName) {
    for (const auto& [key, name] : state_key_names()) {
        EXPECT_EQ(name_of(key), name);
        EXPECT_EQ(parse_state_key(name), key) << name;
    }
    for (const auto& [key, name] : analysis_key_names()) {
        EXPECT_EQ(name_of(key), name);
        EXPECT_EQ(parse_analysis_key(name), key) << name;
    }
    for (const auto& [kind, name] : series_kind_names()) {
        EXPECT_EQ(name_of(SeriesKey::named(kind)), name);
        EXPECT_EQ(parse_series_key(name), SeriesKey::named(kind)) << name;
    }
    for (int t : {0, 7, 1234}) EXPECT_EQ(parse_series_key(name_of(SeriesKey::of_task(t))), SeriesKey::of_task(t));
}

TEST(AnalysisKeys, NameTablesAreGaplessWithDistinctNames) {
    expect_well_formed(state_key_names(), 0);
    expect_well_formed(analysis_key_names(), 0);
    expect_well_formed(series_kind_names(), static_cast<size_t>(SeriesKey::Kind::task) + 1);  // task: "task<i>"
}

TEST(AnalysisKeys, StoredNamesAreTheOnesDatabasesHold) {
    // Databases written by earlier builds hold these strings: they must not change.
    EXPECT_EQ(name_of(StateKey::magnitudes), "magnitudes");
    EXPECT_EQ(name_of(StateKey::lori_a_seed), "lori_a_seed");
    EXPECT_EQ(name_of(AnalysisKey::merge_interpolation), "merge_interpolation");
    EXPECT_EQ(name_of(AnalysisKey::rank_sweep), "rank_sweep");
    EXPECT_EQ(name_of(SeriesKey::of_task(3)), "task3");
    EXPECT_EQ(name_of(SeriesKey::named(SeriesKey::Kind::foundation_forgetting)), "foundation_forgetting");
}

TEST(AnalysisKeys, MalformedOrForeignNamesAreUnknown) {
    for (const char* bad : {"", "task", "task-1", "task+1", "task1x", "task 1", "Task1", "task99999999999",
                            "sd-lora/task0", "interpolation", "ALONE"})
        EXPECT_FALSE(parse_series_key(bad).has_value()) << bad;
    EXPECT_FALSE(parse_state_key("magnitude").has_value());
    EXPECT_FALSE(parse_analysis_key("interpolation").has_value());
}
