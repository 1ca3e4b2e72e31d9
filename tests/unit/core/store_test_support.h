#pragma once
// Shared by the results-store tests (store_test.cpp, store_listener_test.cpp): a temp directory per
// test, error capture, a dead pid, field-by-field comparisons of stored rows, and a complete event
// stream (`Script`) whose every value the readers must return.

#include <gtest/gtest.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "engine/store/run_records.h"
#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"
#include "engine/vocabulary/events.h"

namespace lorica::store_testing {

namespace fs = std::filesystem;

using lorica::testing::error_of;  // tests/support/error_of.h
using lorica::testing::TempDir;   // tests/support/temp_dir.h

// A pid that belonged to a process that has ended (a forked child that exited and was reaped).
inline int64_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return static_cast<int64_t>(child);
}

// Same value, NaN included (NaN is stored as NULL and read back as NaN).
inline void expect_same_double(double expected, double actual) {
    if (std::isnan(expected))
        EXPECT_TRUE(std::isnan(actual)) << actual;
    else
        EXPECT_EQ(expected, actual);
}

inline void expect_eq(const TaskInfo& a, const TaskInfo& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.classes, b.classes);
    EXPECT_EQ(a.domain, b.domain);
    EXPECT_EQ(a.train_samples, b.train_samples);
    EXPECT_EQ(a.test_samples, b.test_samples);
}

inline void expect_eq(const StepMetrics& a, const StepMetrics& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.epoch, b.epoch);
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.step_in_task, b.step_in_task);
    expect_same_double(a.loss, b.loss);
    expect_same_double(a.lr, b.lr);
    expect_same_double(a.step_ms, b.step_ms);
}

inline void expect_eq(const EvalRow& a, const EvalRow& b) {
    EXPECT_EQ(a.after_task, b.after_task);
    EXPECT_EQ(a.eval_task, b.eval_task);
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.phase, b.phase);
    EXPECT_EQ(a.head_mode, b.head_mode);
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(a.total, b.total);
}

inline void expect_eq(const ClassEvalRow& a, const ClassEvalRow& b) {
    EXPECT_EQ(a.after_task, b.after_task);
    EXPECT_EQ(a.eval_task, b.eval_task);
    EXPECT_EQ(a.class_id, b.class_id);
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(a.total, b.total);
}

inline void expect_eq(const MethodState& a, const MethodState& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.key, b.key);
    ASSERT_EQ(a.values.size(), b.values.size()) << name_of(a.key);
    for (std::size_t i = 0; i < a.values.size(); ++i) expect_same_double(a.values[i], b.values[i]);
}

inline void expect_eq(const AnalysisPoint& a, const AnalysisPoint& b) {
    EXPECT_EQ(name_of(a.analysis), name_of(b.analysis));
    EXPECT_EQ(name_of(a.series), name_of(b.series));
    expect_same_double(a.x, b.x);
    expect_same_double(a.y, b.y);
}

template <typename T, typename U, typename Get>
inline void expect_all_eq(const std::vector<T>& expected, const std::vector<U>& actual, Get get) {
    ASSERT_EQ(expected.size(), actual.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expect_eq(expected[i], get(actual[i]));
}

const auto identity = [](const auto& x) -> const auto& { return x; };

inline bool is_iso8601_utc(const std::string& s) {
    // "2025-01-31T12:34:56.789Z"
    return s.size() == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
           s[19] == '.' && s[23] == 'Z';
}

// ---- a complete event stream ------------------------------------------------------------------------

struct Script {
    ExperimentStarted experiment{
        "sd-lora-cifar", R"({"method":"sd-lora","seeds":[1993,1994]})", "abc123", {1993, 1994}};
    RunStarted run{0, 1993, "sd-lora", R"({"method":"sd-lora","seeds":[1993]})", "def456", "cpu", "2.11.0", 2, 6};
    StreamDescribed stream{{TaskInfo{0, "t0: identity {3, 7}", {3, 7}, "identity", 1200, 200},
                            TaskInfo{1, "t1: rot180 {1, 2}", {1, 2}, "rot180", 1100, 210}},
                           TaskInfo{kFoundationTask, "foundation", {0, 4, 5, 6, 8, 9}, "identity", 6000, 1000}};
    TaskStarted start0{0, 3, 36864};
    TaskStarted start1{1, 3, 36874};
    std::vector<StepMetrics> steps{
        {0, 0, 1, 1, 2.302585092994046, 1e-3, 12.5},
        {0, 0, 2, 2, std::numeric_limits<double>::quiet_NaN(), 9.5e-4, 11.25},
        {0, 1, 3, 3, 1.75, 9e-4, 10.0},
        {1, 0, 4, 1, 2.1, 1e-3, 10.5},
        {1, 0, 5, 2, 1.9, 9e-4, 10.75},
        {1, 0, 6, 3, 1.0 / 3.0, 8e-4, 10.125},
    };
    EvaluationDone eval0{{EvalRow{0, 0, 3, EvalPhase::end_of_task, HeadMode::class_il, 180, 200},
                          EvalRow{0, 0, 3, EvalPhase::end_of_task, HeadMode::task_il, 190, 200},
                          EvalRow{0, kFoundationTask, 3, EvalPhase::end_of_task, HeadMode::task_il, 930, 1000},
                          EvalRow{0, 1, 3, EvalPhase::before_task, HeadMode::class_il, 0, 210}},
                         {ClassEvalRow{0, kFoundationTask, 0, 95, 100}, ClassEvalRow{0, kFoundationTask, 4, 88, 100}}};
    EvaluationDone eval1{{EvalRow{1, 0, 6, EvalPhase::end_of_task, HeadMode::class_il, 150, 200},
                          EvalRow{1, 1, 6, EvalPhase::end_of_task, HeadMode::class_il, 200, 210},
                          EvalRow{0, 0, 4, EvalPhase::in_task, HeadMode::class_il, 170, 200},
                          EvalRow{1, 0, 6, EvalPhase::before_handover, HeadMode::class_il, 151, 200},
                          EvalRow{1, 0, 6, EvalPhase::after_handover, HeadMode::class_il, 149, 200},
                          EvalRow{-1, 1, 0, EvalPhase::random_init, HeadMode::class_il, 21, 210}},
                         {ClassEvalRow{1, kFoundationTask, 0, 90, 100}}};
    std::vector<MethodState> states{
        {0, 3, StateKey::magnitudes, {0.8}},
        {0, 3, StateKey::ranks, {}},
        {1, 6, StateKey::magnitudes, {0.81, 1.25}},
        {1, 6, StateKey::magnitudes, {0.5, std::numeric_limits<double>::quiet_NaN(), 0.25}},  // same key/step again
        {1, 6, StateKey::direction_residual, {9e-4}},
    };
    AnalysisDone analysis{{{AnalysisKey::merge_interpolation, SeriesKey::of_task(0), 0.0, 0.9},
                           {AnalysisKey::merge_interpolation, SeriesKey::of_task(0), 0.1, 0.85},
                           {AnalysisKey::merge_interpolation, SeriesKey::of_task(1), 0.0, 0.5},
                           {AnalysisKey::lori_merge, SeriesKey::named(SeriesKey::Kind::cat), 3.0, 1e-3}}};
    ArtifactWritten artifact{"adapter_export", "/tmp/run1/adapter", R"({"rank":10})"};
    RunFinished finished{RunStatus::finished, "", 12.75};

    std::vector<Event> events() const {
        std::vector<Event> ev;
        ev.emplace_back(experiment);
        ev.emplace_back(run);
        ev.emplace_back(stream);
        ev.emplace_back(FoundationProgress{0, 0, 0.0, true, "/cache/foundation.safetensors"});
        ev.emplace_back(start0);
        for (int i = 0; i < 3; ++i) ev.emplace_back(steps[i]);
        ev.emplace_back(EpochFinished{0, 0, 2.0});
        ev.emplace_back(eval0);
        ev.emplace_back(states[0]);
        ev.emplace_back(states[1]);
        ev.emplace_back(TaskFinished{0, 1.5});
        ev.emplace_back(start1);
        for (int i = 3; i < 6; ++i) ev.emplace_back(steps[i]);
        ev.emplace_back(eval1);
        ev.emplace_back(states[2]);
        ev.emplace_back(states[3]);
        ev.emplace_back(states[4]);
        ev.emplace_back(analysis);
        ev.emplace_back(artifact);
        ev.emplace_back(Warning{"a warning from the test (expected in the log)"});
        ev.emplace_back(TaskFinished{1, 2.25});
        ev.emplace_back(finished);
        ev.emplace_back(ExperimentFinished{RunStatus::finished});
        return ev;
    }
};

}  // namespace lorica::store_testing
