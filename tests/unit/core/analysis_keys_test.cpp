// Typed analysis keys: every key's stored name reads back as the same key; task series parse only
// from "task<digits>"; names of other tools or newer builds read as "unknown", never as a wrong key.
#include <gtest/gtest.h>

#include "engine/vocabulary/analysis_keys.h"

using namespace lorica;

TEST(AnalysisKeys, EveryKeyRoundTripsThroughItsStoredName) {
    for (StateKey k : {StateKey::magnitudes, StateKey::direction_residual, StateKey::ranks, StateKey::trainable_params,
                       StateKey::lori_a_seed})
        EXPECT_EQ(parse_state_key(name_of(k)), k) << name_of(k);
    for (AnalysisKey k : {AnalysisKey::merge_interpolation, AnalysisKey::lori_merge, AnalysisKey::lori_overlap_a,
                          AnalysisKey::lori_overlap_mask, AnalysisKey::rank_sweep})
        EXPECT_EQ(parse_analysis_key(name_of(k)), k) << name_of(k);
    for (SeriesKey::Kind kind : {SeriesKey::Kind::alone, SeriesKey::Kind::cat, SeriesKey::Kind::linear,
                                 SeriesKey::Kind::foundation_forgetting, SeriesKey::Kind::downstream_forgetting})
        EXPECT_EQ(parse_series_key(name_of(SeriesKey::named(kind))), SeriesKey::named(kind))
            << name_of(SeriesKey::named(kind));
    for (int t : {0, 7, 1234}) EXPECT_EQ(parse_series_key(name_of(SeriesKey::of_task(t))), SeriesKey::of_task(t));
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
