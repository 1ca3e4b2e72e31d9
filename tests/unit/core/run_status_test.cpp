// RunStatus (engine/vocabulary/run_status.h): the one table of names is the text the store keeps in
// runs.status, so it must not change (existing databases), and parsing is its exact inverse.

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "engine/vocabulary/run_status.h"

namespace lorica {
namespace {

TEST(RunStatus, StoredNamesAreTheDatabaseText) {
    EXPECT_STREQ(to_string(RunStatus::running), "running");
    EXPECT_STREQ(to_string(RunStatus::finished), "finished");
    EXPECT_STREQ(to_string(RunStatus::failed), "failed");
    EXPECT_STREQ(to_string(RunStatus::cancelled), "cancelled");
    EXPECT_STREQ(to_string(RunStatus::interrupted), "interrupted");
}

TEST(RunStatus, ParsingInvertsTheTableAndNamesTheAllowedValues) {
    for (const auto& [status, name] : kRunStatusNames) EXPECT_EQ(run_status_from_string(name), status);
    try {
        run_status_from_string("done");
        FAIL() << "'done' parsed";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("allowed: running, finished, failed, cancelled, interrupted"),
                  std::string::npos)
            << e.what();
    }
}

TEST(RunStatus, ResumableAreTheRunsThatStoppedEarly) {
    EXPECT_FALSE(is_resumable(RunStatus::running));
    EXPECT_FALSE(is_resumable(RunStatus::finished));
    EXPECT_TRUE(is_resumable(RunStatus::failed));
    EXPECT_TRUE(is_resumable(RunStatus::cancelled));
    EXPECT_TRUE(is_resumable(RunStatus::interrupted));
}

}  // namespace
}  // namespace lorica
