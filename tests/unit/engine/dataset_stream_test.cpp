// Data-set streams (stream.type = datasets): a stream of whole data sets, each with its own head and
// epochs, on generated image folders with the tiny ViT. End to end (heads sized per task, rows per
// task, per-task epochs counted in steps, class-IL over the union of the label spaces), the seeded
// subset_fraction draw, and a run cancelled after task 1 and resumed giving the rows of the run left
// alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/sample_source.h"
#include "engine/data/stream_data.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/safetensors.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/run_resume.h"
#include "engine/services/training_estimate.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/vocabulary/event_listener.h"
#include "tests/support/class_folders.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;

namespace {

constexpr int kDatasetTrainPerClass = 6;
constexpr int kDatasetTestPerClass = 2;

// Three data sets of 2, 3 and 4 classes (pre-split folders), and a config streaming them.
struct DatasetStreamFixture {
    TempDir dir{"dataset-stream"};
    const std::vector<std::vector<std::string>> classes = {
        {"ant", "bee"}, {"cat", "dog", "eel"}, {"fig", "kiwi", "lime", "plum"}};

    DatasetStreamFixture() {
        for (size_t t = 0; t < classes.size(); ++t)
            write_class_folders(root(t), classes[t], kDatasetTrainPerClass, kDatasetTestPerClass,
                                static_cast<int>(10 * t));
    }
    fs::path root(size_t t) const { return dir.path / ("set" + std::to_string(t)); }

    // Task 0 is named "insects"; the others take their root's folder name. Epochs 1, 3 and train.epochs (2).
    nlohmann::json config(const std::string& cache = "cache") const {
        nlohmann::json datasets = nlohmann::json::array();
        datasets.push_back({{"name", "insects"}, {"root", root(0).string()}, {"epochs", 1}});
        datasets.push_back({{"root", root(1).string()}, {"epochs", 3}});
        datasets.push_back({{"root", root(2).string()}});
        return {{"name", "datasets"},
                {"device", "cpu"},
                {"threads", 1},
                {"cache_dir", (dir.path / cache).string()},
                {"data", {{"normalize_mean", {0.5}}, {"normalize_std", {0.5}}, {"workers", 1}}},
                {"foundation", {{"enabled", false}}},
                {"stream", {{"type", "datasets"}, {"datasets", datasets}}},
                {"backbone", {{"dim", 32}, {"depth", 2}, {"heads", 2}}},
                {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
                {"train", {{"epochs", 2}, {"batch_size", 8}}},
                {"eval", {{"batch_size", 64}, {"random_init", false}}}};
    }
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

TEST(DatasetStream, RunsEachDataSetWithItsOwnHeadEpochsAndRows) {
    DatasetStreamFixture f;
    const ExperimentConfig config = parse_experiment_config(f.config());
    EventRecorder events;
    CancelToken cancel;
    ASSERT_EQ(run_experiment(config, events, cancel), RunStatus::finished);

    std::map<int, int64_t> steps, planned;  // per task: StepMetrics seen, TaskStarted's plan
    std::vector<EvalRow> end_rows;
    const StreamDescribed* described = nullptr;
    std::string checkpoint_dir;
    int64_t run_total = -1;
    const std::vector<Event> all = events.events();
    for (const Event& e : all) {
        if (const auto* s = std::get_if<StepMetrics>(&e)) ++steps[s->task];
        if (const auto* s = std::get_if<TaskStarted>(&e)) planned[s->task] = s->steps;
        if (const auto* d = std::get_if<StreamDescribed>(&e)) described = d;
        if (const auto* r = std::get_if<RunStarted>(&e)) run_total = r->total_steps;
        if (const auto* a = std::get_if<ArtifactWritten>(&e); a && a->kind == kArtifactRunCheckpoint)
            checkpoint_dir = a->path;
        if (const auto* d = std::get_if<EvaluationDone>(&e))
            for (const EvalRow& r : d->rows)
                if (r.phase == EvalPhase::end_of_task) end_rows.push_back(r);
    }
    ASSERT_NE(described, nullptr);
    ASSERT_EQ(described->tasks.size(), 3u);
    EXPECT_EQ(described->tasks[0].name, "t0 insects (2 classes)");
    EXPECT_EQ(described->tasks[1].name, "t1 set1 (3 classes)");
    EXPECT_EQ(described->tasks[2].name, "t2 set2 (4 classes)");
    EXPECT_TRUE(described->foundation.classes.empty());

    // Per-task epochs: ceil(images / 8) steps an epoch, times 1, 3 and 2 epochs.
    const std::vector<int> epochs = {1, 3, 2};
    int64_t total = 0;
    for (int t = 0; t < 3; ++t) {
        const int64_t images = kDatasetTrainPerClass * static_cast<int64_t>(f.classes[t].size());
        EXPECT_EQ(described->tasks[t].train_samples, images);
        EXPECT_EQ(described->tasks[t].test_samples, kDatasetTestPerClass * static_cast<int64_t>(f.classes[t].size()));
        const int64_t expected = ceil_div(images, 8) * epochs[t];
        EXPECT_EQ(steps[t], expected) << "task " << t;
        EXPECT_EQ(planned[t], expected) << "task " << t;
        total += expected;
    }
    EXPECT_EQ(run_total, total) << "RunStarted plans each data set's own images and epochs";

    // Heads: one per data set, sized by its classes.
    ASSERT_FALSE(checkpoint_dir.empty());
    const SafetensorsFile heads = SafetensorsFile::open((fs::path(checkpoint_dir) / "heads.safetensors").string());
    for (int t = 0; t < 3; ++t)
        EXPECT_EQ(heads.tensor("heads." + std::to_string(t) + ".weight").shape,
                  (std::vector<int64_t>{static_cast<int64_t>(f.classes[t].size()), 32}));

    // Rows: after task t, tasks 0..t in both head modes, over each task's own test set. A sample right
    // in class-IL (over the union of the heads) is right in task-IL (its own head) too.
    for (int after = 0; after < 3; ++after)
        for (int j = 0; j <= after; ++j) {
            std::map<HeadMode, EvalRow> by_mode;
            for (const EvalRow& r : end_rows)
                if (r.after_task == after && r.eval_task == j) by_mode[r.head_mode] = r;
            ASSERT_EQ(by_mode.size(), 2u) << "after " << after << " task " << j;
            EXPECT_EQ(by_mode[HeadMode::class_il].total, kDatasetTestPerClass * int64_t(f.classes[j].size()));
            EXPECT_LE(by_mode[HeadMode::class_il].correct, by_mode[HeadMode::task_il].correct);
        }
}

TEST(DatasetStream, SubsetFractionDrawsTheSameSubsetForTheSameSeed) {
    DatasetStreamFixture f;
    nlohmann::json doc = f.config();
    doc["stream"]["datasets"][2]["subset_fraction"] = 0.5;
    const ExperimentConfig config = parse_experiment_config(doc);
    const RawDataset raw = load_raw_dataset(config);
    ASSERT_EQ(raw.stream_tasks.size(), 3u);

    // The training images of task 2 as the model sees them (test transform: no randomness).
    auto task2_images = [&](int64_t seed) {
        const StreamData data = build_stream_data(config, raw, seed);
        const LabeledImages& train = data.tasks[2].train;
        return std::make_pair(train.samples->batch(index_range(0, train.size()), BatchMode::test, 0),
                              train.labels.clone());
    };
    const auto [a, labels_a] = task2_images(0);
    const auto [b, labels_b] = task2_images(0);
    const auto [c, labels_c] = task2_images(1);
    EXPECT_EQ(a.size(0), 12) << "half of 4 classes × 6 images";
    EXPECT_EQ(c.size(0), 12);
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_TRUE(torch::equal(labels_a, labels_b));
    EXPECT_FALSE(torch::equal(a, c)) << "another seed draws another subset";
    // Kept in data-set order: labels never decrease.
    EXPECT_TRUE(torch::all(labels_a.slice(0, 1) >= labels_a.slice(0, 0, -1)).item<bool>());
    const std::vector<int64_t> sizes = task_train_sizes(config, raw, 0);
    EXPECT_EQ(sizes, (std::vector<int64_t>{12, 18, 12}));
}

namespace {

// Forwards to `next` and cancels the run once task `after` has finished (its checkpoint written).
class CancelAfterTask final : public EventListener {
public:
    CancelAfterTask(EventListener& next, CancelToken& cancel, int after)
        : next_(next), cancel_(cancel), after_(after) {}
    void on_event(const Event& event) override {
        next_.on_event(event);
        if (const auto* f = std::get_if<TaskFinished>(&event); f && f->task == after_) cancel_.request_cancel();
    }

private:
    EventListener& next_;
    CancelToken& cancel_;
    int after_;
};

using RowKey = std::tuple<int, int, int64_t, int, int, int64_t, int64_t>;

std::vector<RowKey> eval_rows_of(const RunStore& store, int64_t run) {
    std::vector<RowKey> out;
    for (const auto& r : store.eval_rows(run))
        out.emplace_back(r.row.after_task, r.row.eval_task, r.row.step, static_cast<int>(r.row.phase),
                         static_cast<int>(r.row.head_mode), r.row.correct, r.row.total);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::pair<int64_t, double>> losses_of(const RunStore& store, int64_t run) {
    std::vector<std::pair<int64_t, double>> out;
    for (const auto& s : store.step_metrics(run)) out.emplace_back(s.step, s.loss);
    return out;
}

}  // namespace

TEST(DatasetStream, ResumesAfterACancelledTaskWithTheRowsOfTheRunLeftAlone) {
    DatasetStreamFixture f;
    nlohmann::json doc = f.config();
    doc["stream"]["datasets"][2]["subset_fraction"] = 0.5;  // the subset is drawn again on resume

    // Left alone.
    auto whole_store = std::make_shared<RunStore>(RunStore::open(f.dir.file("whole.db")));
    int64_t whole_run = 0;
    {
        StoreListener listener(whole_store);
        CancelToken cancel;
        ASSERT_EQ(run_experiment(parse_experiment_config(doc), listener, cancel), RunStatus::finished);
        listener.flush();
        whole_run = listener.current_run_id();
    }

    // Cancelled once task 1 is done, then resumed from its checkpoint.
    doc["cache_dir"] = (f.dir.path / "cache-resumed").string();
    auto store = std::make_shared<RunStore>(RunStore::open(f.dir.file("resumed.db")));
    int64_t run = 0;
    {
        StoreListener listener(store);
        CancelToken cancel;
        CancelAfterTask cancelling(listener, cancel, 1);
        ASSERT_EQ(run_experiment(parse_experiment_config(doc), cancelling, cancel), RunStatus::cancelled);
        listener.flush();
        run = listener.current_run_id();
    }
    const ResumePlan plan = plan_resume(*store, run);
    EXPECT_EQ(plan.after_task(), 1);
    {
        StoreListenerOptions options;
        options.resume_run_id = run;
        StoreListener listener(store, options);
        CancelToken cancel;
        ASSERT_EQ(resume_run(plan, *store, nullptr, listener, cancel), RunStatus::finished);
        listener.flush();
    }
    const auto rows = eval_rows_of(*store, run);
    EXPECT_FALSE(rows.empty());
    EXPECT_EQ(rows, eval_rows_of(*whole_store, whole_run));
    EXPECT_EQ(losses_of(*store, run), losses_of(*whole_store, whole_run));
}

TEST(DatasetStream, TheTrainingEstimateCountsEachDataSetsClassesImagesAndEpochs) {
    DatasetStreamFixture f;
    nlohmann::json doc = f.config();
    for (auto& entry : doc["stream"]["datasets"]) entry["train_per_class"] = 4;
    doc["stream"]["datasets"][2]["subset_fraction"] = 0.5;
    const TrainingEstimate estimate = estimate_training(parse_experiment_config(doc), 0);
    // images 2·4, 3·4, 4·4·0.5; steps ceil(images / 8) × epochs 1, 3, 2
    EXPECT_EQ(estimate.steps_per_task, (std::vector<int64_t>{1, 6, 2}));
    EXPECT_EQ(estimate.total_steps, 9);
    // each task's head: dim · classes + classes
    EXPECT_EQ(estimate.head_per_task, (std::vector<int64_t>{66, 99, 132}));
}

TEST(DatasetStream, MixesLoadersAndKeepsATrainedFoundationOnDataSection) {
    DatasetStreamFixture f;
    const fs::path mnist = f.dir.path / "fmnist";
    write_tiny_fashion_mnist(mnist, 10, 4, 2);
    nlohmann::json doc = f.config();
    doc["data"] = {{"root", mnist.string()}, {"train_per_class", 2}, {"test_per_class", 2}};
    doc["foundation"] = {{"classes", 2}, {"train_per_class", 2}, {"epochs", 1}, {"batch_size", 8}};
    doc["stream"]["datasets"] = {{{"name", "clothes"}, {"dataset", "fashion-mnist"}, {"root", mnist.string()}},
                                 {{"root", f.root(0).string()}, {"test_per_class", 1}}};
    EventRecorder events;
    CancelToken cancel;
    ASSERT_EQ(run_experiment(parse_experiment_config(doc), events, cancel), RunStatus::finished);
    const StreamDescribed* described = nullptr;
    std::set<int> foundation_after;
    bool foundation_trained = false;
    const std::vector<Event> all = events.events();
    for (const Event& e : all) {
        if (const auto* d = std::get_if<StreamDescribed>(&e)) described = d;
        if (const auto* p = std::get_if<FoundationProgress>(&e)) foundation_trained |= p->total_steps > 0;
        if (const auto* d = std::get_if<EvaluationDone>(&e))
            for (const EvalRow& r : d->rows)
                if (r.eval_task == kFoundationTask && r.phase == EvalPhase::end_of_task)
                    foundation_after.insert(r.after_task);
    }
    ASSERT_NE(described, nullptr);
    EXPECT_TRUE(foundation_trained);
    EXPECT_EQ(foundation_after, (std::set<int>{-1, 0, 1}));
    EXPECT_EQ(described->foundation.classes.size(), 2u);
    ASSERT_EQ(described->tasks.size(), 2u);
    EXPECT_EQ(described->tasks[0].name, "t0 clothes (10 classes)");  // Fashion-MNIST's head: its 10 labels
    EXPECT_EQ(described->tasks[0].train_samples, 10 * 4);            // every training image
    EXPECT_EQ(described->tasks[1].test_samples, 2);                  // test_per_class 1 of 2 classes
}

TEST(DatasetStream, ADataSetVisitedTwiceOnHalvesKeepsItsHeadAndSplitsItsImages) {
    DatasetStreamFixture f;
    nlohmann::json doc = f.config();
    doc["stream"]["datasets"] = {{{"name", "cars 1"}, {"root", f.root(2).string()}, {"subset_fraction", 0.5}},
                                 {{"root", f.root(1).string()}},
                                 {{"name", "cars 2"}, {"root", f.root(2).string()}, {"subset_fraction", 0.5}}};
    const ExperimentConfig config = parse_experiment_config(doc);
    const RawDataset raw = load_raw_dataset(config);
    const StreamData data = build_stream_data(config, raw, 0);
    ASSERT_EQ(data.tasks.size(), 3u);
    EXPECT_EQ(data.spec.num_heads, 2);
    EXPECT_EQ(data.tasks[2].spec.head, 0) << "the second visit trains the data set's head again";
    EXPECT_EQ(data.tasks[2].spec.label_offset, 0);
    EXPECT_EQ(data.tasks[1].spec.label_offset, 4);
    EXPECT_EQ(data.spec.last_head(2), 1);
    EXPECT_EQ(data.class_names.size(), 7u) << "4 + 3 classes, the revisited data set counted once";

    // The two halves: 12 images each, none in both, all 24 together.
    auto images = [&](int t) {
        const LabeledImages& train = data.tasks[t].train;
        return train.samples->batch(index_range(0, train.size()), BatchMode::test, 0).flatten(1);
    };
    const torch::Tensor first = images(0), second = images(2);
    ASSERT_EQ(first.size(0), 12);
    ASSERT_EQ(second.size(0), 12);
    for (int64_t i = 0; i < first.size(0); ++i)
        for (int64_t j = 0; j < second.size(0); ++j)
            EXPECT_FALSE(torch::equal(first[i], second[j]))
                << "image " << i << " of half 1 is image " << j << " of half 2";

    EventRecorder events;
    CancelToken cancel;
    ASSERT_EQ(run_experiment(config, events, cancel), RunStatus::finished);
    int class_il_rows_after_2 = 0;
    for (const Event& e : events.events())
        if (const auto* d = std::get_if<EvaluationDone>(&e))
            for (const EvalRow& r : d->rows)
                if (r.after_task == 2 && r.phase == EvalPhase::end_of_task && r.head_mode == HeadMode::class_il) {
                    ++class_il_rows_after_2;
                    EXPECT_LE(r.correct, r.total);
                }
    EXPECT_EQ(class_il_rows_after_2, 3);
}
