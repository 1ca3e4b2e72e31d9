// Contextual forgetting (engine/eval/contextual_forgetting.h): the similarities on a tiny WordNet
// (hand-computed), a missing WordNet as a Warning without points, the scatter, top classes, densities
// and means of a hand-made run, and the store round trip of lost_since_start and class_similarity
// points with their export (the numbers `show --analysis contextual-forgetting` prints).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "engine/eval/contextual_forgetting.h"
#include "engine/eval/synset_tables.h"
#include "engine/store/results_export.h"
#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "tests/support/old_schema_database.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_wordnet.h"

namespace lorica {
namespace {

using namespace lorica::testing;

struct Collect final : EventListener {
    std::vector<Event> events;
    void on_event(const Event& e) override { events.push_back(e); }
    std::vector<std::string> warnings() const {
        std::vector<std::string> out;
        for (const auto& e : events)
            if (const auto* w = std::get_if<Warning>(&e)) out.push_back(w->message);
        return out;
    }
};

TEST(ClassSimilaritiesTest, MaxWuPalmerOverTheTasksClassesAndDomainWord) {
    TempDir dir("wordnet");
    write_tiny_wordnet(dir.path);
    const WordNet wn = WordNet::open(dir.path);
    const std::vector<ClassSynsetKey> foundation = {
        {0, "Dog", "dog"}, {1, "Shoe", "n00001007"}, {2, "Unicorn", "unicorn"}};
    const std::vector<SimilarityTask> tasks = {
        {{{3, "Cat", "cat"}}, "identity"},            // identity: no domain word
        {{{4, "Thing", "abstraction"}}, "artifact"},  // the domain word raises Shoe
        {{{5, "Griffin", "griffin"}}, ""},            // no synset at all: no points for the task
    };
    const ClassSimilarities s = class_similarities(wn, foundation, tasks);
    ASSERT_EQ(s.points.size(), 4u);  // tasks 0 and 1 × Dog, Shoe
    auto sim = [&](int task, int class_id) {
        for (const auto& p : s.points)
            if (p.series == SeriesKey::of_task(task) && p.x == class_id) return p.y;
        ADD_FAILURE() << "no point for task " << task << " class " << class_id;
        return -1.0;
    };
    EXPECT_DOUBLE_EQ(sim(0, 0), 0.75);  // dog–cat: lcs animal
    EXPECT_DOUBLE_EQ(sim(0, 1), 0.5);   // shoe–cat: lcs object
    // task 1: dog–abstraction 2·1/(4+2) = 1/3, dog–artifact 2·2/(4+3) = 4/7 (lcs object): the domain word wins
    EXPECT_DOUBLE_EQ(sim(1, 0), 4.0 / 7.0);
    EXPECT_DOUBLE_EQ(sim(1, 1), 2.0 * 3 / (4 + 3));  // shoe–artifact: lcs artifact (depth 3), 1 edge
    for (const auto& p : s.points) EXPECT_EQ(p.analysis, AnalysisKey::class_similarity);
    ASSERT_EQ(s.unresolved.size(), 2u);
    EXPECT_NE(s.unresolved[0].find("foundation class 2 'Unicorn'"), std::string::npos) << s.unresolved[0];
    EXPECT_NE(s.unresolved[1].find("task 2 class 5 'Griffin'"), std::string::npos) << s.unresolved[1];
}

TEST(ClassSimilaritiesTest, MissingWordNetIsAWarningAndNoPoints) {
    ExperimentConfig config;  // the embedded default: Fashion-MNIST, foundation trained by Lorica
    StreamDescribed stream;
    stream.foundation.task = kFoundationTask;
    stream.foundation.classes = {5, 7};
    stream.tasks = {TaskInfo{0, "t0", {0, 9}, "rot90"}};
    Collect events;
    const auto points = class_similarity_points(config, stream, {}, events, "/nonexistent/wordnet");
    EXPECT_TRUE(points.empty());
    ASSERT_EQ(events.warnings().size(), 1u);
    EXPECT_NE(events.warnings()[0].find("/nonexistent/wordnet"), std::string::npos) << events.warnings()[0];
    EXPECT_NE(events.warnings()[0].find("wordnet-base"), std::string::npos) << events.warnings()[0];
}

TEST(ClassSimilaritiesTest, FashionMnistRunOnTheInstalledWordNet) {
    try {
        WordNet::shared("/usr/share/wordnet");
    } catch (const WordNetError&) {
        GTEST_SKIP() << "no WordNet at /usr/share/wordnet (Debian package wordnet-base)";
    }
    ExperimentConfig config;
    StreamDescribed stream;
    stream.foundation.classes = {5, 9};  // Sandal, Ankle boot
    stream.tasks = {TaskInfo{0, "t0", {7, 0}, "rot90"},
                    TaskInfo{1, "t1", {8, 3}, "invert"}};  // Sneaker, T-shirt; Bag, Dress
    Collect events;
    const auto points = class_similarity_points(config, stream, {}, events, "/usr/share/wordnet");
    EXPECT_TRUE(events.warnings().empty());
    ASSERT_EQ(points.size(), 4u);
    const WordNet& wn = *WordNet::shared("/usr/share/wordnet");
    const auto key = [&](int label) { return *wn.by_imagenet_id(fashion_mnist_wnids()[label]); };
    // task 0: sandal against sneaker and T-shirt: the best is the shoe, a sibling under shoe.n.01
    EXPECT_DOUBLE_EQ(points[0].y, std::max(wn.wu_palmer(key(5), key(7)), wn.wu_palmer(key(5), key(0))));
    EXPECT_GT(wn.wu_palmer(key(5), key(7)), wn.wu_palmer(key(5), key(0)));
    EXPECT_EQ(points[1].x, 9.0);
    EXPECT_EQ(points[2].series, SeriesKey::of_task(1));
}

TEST(ClassSimilaritiesTest, WeightsFoundationAndDataSetStreamKeys) {
    ExperimentConfig config;
    config.foundation.source = FoundationSource::weights;
    config.stream.type = StreamType::datasets;
    config.stream.datasets.resize(2);
    config.stream.datasets[0].domain = "car";
    StreamDescribed stream;
    stream.foundation.classes = {0, 1, 2, 1500};
    stream.tasks = {TaskInfo{0, "cars", {0, 1}, "identity"}, TaskInfo{1, "flowers", {2}, "identity"}};
    const RunClassNames names{{"x", "y", "z"}, {"n01440764", "n09999999", "goldfish"}};
    const auto foundation = foundation_synset_keys(config, stream, names);
    ASSERT_EQ(foundation.size(), 4u);
    EXPECT_EQ(foundation[0].key, "n01440764");            // foundation.data's folder name, a wnid
    EXPECT_EQ(foundation[1].key, "n09999999");            // a wnid, taken as it is (WordNet says whether it exists)
    EXPECT_EQ(foundation[2].key, imagenet1k_wnids()[2]);  // not a wnid: output 2 of ImageNet-1k
    EXPECT_EQ(foundation[2].name, "goldfish");
    EXPECT_EQ(foundation[3].key, "");  // beyond ImageNet-1k and unnamed: no synset, reported
    const auto tasks = task_synset_keys(config, stream, names);
    ASSERT_EQ(tasks.size(), 2u);
    EXPECT_TRUE(tasks[0].classes.empty());  // the data sets' class names unknown: the domain word only
    EXPECT_EQ(tasks[0].domain, "car");
    EXPECT_EQ(tasks[1].domain, "");

    // With the data sets' class names: each task's classes by their own labels, an image folder's
    // numbered CUB folder looked up without its number, and the domain word beside them.
    RunClassNames with_tasks = names;
    with_tasks.tasks = {{"Acura RL Sedan 2012", "AM General Hummer SUV 2000"}, {"a", "b", "002.Laysan_Albatross"}};
    const auto named = task_synset_keys(config, stream, with_tasks);
    ASSERT_EQ(named[0].classes.size(), 2u);
    EXPECT_EQ(named[0].classes[0].name, "Acura RL Sedan 2012");
    EXPECT_EQ(named[0].domain, "car");
    ASSERT_EQ(named[1].classes.size(), 1u);
    EXPECT_EQ(named[1].classes[0].class_id, 2);
    EXPECT_EQ(named[1].classes[0].key, "Laysan_Albatross");
}

// Five foundation classes, two tasks; similarities and lost counts chosen by hand.
struct HandMadeRun {
    std::vector<AnalysisPoint> points;
    std::vector<ClassEvalRow> rows;
    HandMadeRun() {
        const double sim0[5] = {0.10, 0.30, 0.32, 0.80, 1.00};
        for (int c = 0; c < 5; ++c) {
            points.push_back({AnalysisKey::class_similarity, SeriesKey::of_task(0), double(c), sim0[c]});
            points.push_back({AnalysisKey::class_similarity, SeriesKey::of_task(1), double(c), 0.5});
        }
        points.push_back({AnalysisKey::rank_sweep, SeriesKey::of_task(0), 0.0, 0.99});  // other analyses: ignored
        for (int c = 0; c < 5; ++c) rows.push_back({-1, kFoundationTask, c, 90, 100});  // pre-stream: not recorded
        const int64_t lost0[5] = {0, 2, 4, 10, 4};
        for (int c = 0; c < 5; ++c) {
            ClassEvalRow r{0, kFoundationTask, c, 80, c == 4 ? 300 : 100, 1};
            r.lost_since_start = lost0[c];
            rows.push_back(r);
        }
        for (int c = 0; c < 5; ++c) {
            ClassEvalRow r{1, kFoundationTask, c, 80, 100, 1};
            r.lost_since_start = c == 2 ? -1 : 3;  // class 2 not recorded after task 1
            rows.push_back(r);
        }
        rows.push_back({0, 0, 1, 7, 9});  // a stream task's rows: ignored
    }
};

TEST(ContextualForgettingTest, ScatterTopClassesDensitiesAndMeansByHand) {
    const HandMadeRun run;
    const ContextualForgetting cf =
        contextual_forgetting(run.points, run.rows, {"a", "b", "c", "d", "e"}, /*bins=*/4, /*top_k=*/3);
    EXPECT_EQ(cf.bins, 4);
    ASSERT_EQ(cf.tasks.size(), 2u);
    EXPECT_TRUE(cf.without_similarity.empty());
    const auto& t0 = cf.tasks[0];
    EXPECT_EQ(t0.task, 0);
    ASSERT_EQ(t0.classes.size(), 5u);
    EXPECT_EQ(t0.classes[3].class_name, "d");
    EXPECT_DOUBLE_EQ(t0.classes[3].similarity, 0.80);
    EXPECT_EQ(t0.classes[3].lost, 10);
    EXPECT_EQ(t0.lost_total, 20);
    EXPECT_EQ(t0.samples_total, 700);
    // top 3 by lost: d (10), then c and e tie at 4: e first (higher similarity)
    ASSERT_EQ(t0.top.size(), 3u);
    EXPECT_EQ(t0.top[0].class_id, 3);
    EXPECT_EQ(t0.top[1].class_id, 4);
    EXPECT_EQ(t0.top[2].class_id, 2);
    // bins of width 0.25: [0, .25) a; [.25, .5) b, c; [.5, .75) -; [.75, 1] d, e (1.0 in the last bin)
    const double w = 0.25;
    EXPECT_DOUBLE_EQ(t0.lost_density[0], 0.0);
    EXPECT_DOUBLE_EQ(t0.lost_density[1], 6.0 / (20 * w));
    EXPECT_DOUBLE_EQ(t0.lost_density[2], 0.0);
    EXPECT_DOUBLE_EQ(t0.lost_density[3], 14.0 / (20 * w));
    EXPECT_DOUBLE_EQ(t0.class_density[0], 100.0 / (700 * w));
    EXPECT_DOUBLE_EQ(t0.class_density[1], 200.0 / (700 * w));
    EXPECT_DOUBLE_EQ(t0.class_density[3], 400.0 / (700 * w));
    for (const auto* d : {&t0.lost_density, &t0.class_density})  // each integrates to 1
        EXPECT_NEAR(std::accumulate(d->begin(), d->end(), 0.0) * w, 1.0, 1e-12);
    EXPECT_DOUBLE_EQ(t0.lost_mean, (2 * 0.30 + 4 * 0.32 + 10 * 0.80 + 4 * 1.00) / 20);
    EXPECT_DOUBLE_EQ(t0.class_mean, (100 * 0.10 + 100 * 0.30 + 100 * 0.32 + 100 * 0.80 + 300 * 1.00) / 700);
    EXPECT_GT(t0.lost_mean, t0.class_mean);  // the lost samples sit closer to the task
    const auto& t1 = cf.tasks[1];
    EXPECT_EQ(t1.classes.size(), 4u);  // class 2 not recorded: left out
    EXPECT_EQ(t1.lost_total, 12);
    EXPECT_DOUBLE_EQ(t1.lost_density[2], 1.0 / w);  // everything at 0.5
    EXPECT_DOUBLE_EQ(t1.lost_mean, 0.5);
}

TEST(ContextualForgettingTest, NothingLostGivesZeroDensityAndNoMean) {
    std::vector<AnalysisPoint> points = {{AnalysisKey::class_similarity, SeriesKey::of_task(0), 3.0, 0.4}};
    ClassEvalRow r{0, kFoundationTask, 3, 50, 50, 0};
    r.lost_since_start = 0;
    const ContextualForgetting cf = contextual_forgetting(points, {r, {0, kFoundationTask, 8, 1, 2, 0}});
    ASSERT_EQ(cf.tasks.size(), 1u);
    EXPECT_TRUE(std::isnan(cf.tasks[0].lost_mean));
    for (double d : cf.tasks[0].lost_density) EXPECT_EQ(d, 0.0);
    EXPECT_DOUBLE_EQ(cf.tasks[0].class_mean, 0.4);
    EXPECT_EQ(cf.without_similarity, (std::vector<int>{8}));  // reported, not dropped silently
    EXPECT_NE(format_contextual_forgetting(cf).find("without a WordNet synset (left out): 8"), std::string::npos);
    EXPECT_TRUE(contextual_forgetting({}, {r}).empty());
}

TEST(ContextualForgettingStoreTest, LostSinceStartAndSimilaritiesRoundTripAndExport) {
    TempDir dir("contextual");
    RunStore store = RunStore::open(dir.file("runs.db"));
    const int64_t exp = store.insert_experiment(ExperimentStarted{"cf", "{}", "h", {0}, {}});
    RunStarted started;
    started.method = "sd-lora";
    started.config_json = R"({"data": {"dataset": "fashion-mnist"}})";
    started.num_tasks = 2;
    const int64_t id = store.insert_run(exp, started);
    const HandMadeRun run;
    EvaluationDone e;
    e.class_rows = run.rows;
    store.insert_evaluation(id, e);
    store.insert_analysis_points(id, run.points);

    std::vector<ClassEvalRow> back;
    for (const auto& r : store.class_eval_rows(id)) back.push_back(r.row);
    ASSERT_EQ(back.size(), run.rows.size());
    for (size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back[i].lost_since_start, run.rows[i].lost_since_start) << i;
        EXPECT_EQ(back[i].newly_wrong, run.rows[i].newly_wrong) << i;
    }
    EXPECT_EQ(store.analysis_points(id, AnalysisKey::class_similarity).size(), 10u);

    const ResultsExport exported = export_results(store, {id});
    const CsvTable& classes = exported.table("foundation_classes");
    EXPECT_EQ(classes.header.back(), "lost_since_start");
    EXPECT_EQ(classes.rows[0].back(), "");    // pre-stream: not recorded
    EXPECT_EQ(classes.rows[8].back(), "10");  // after task 0, class 3
    const ContextualForgetting cf =
        contextual_forgetting(run.points, run.rows, dataset_class_names(DatasetId::fashion_mnist));
    const CsvTable& scatter = exported.table("contextual_forgetting");
    ASSERT_EQ(scatter.rows.size(), 9u);  // 5 + 4 classes
    EXPECT_EQ(scatter.rows[3],
              (std::vector<std::string>{std::to_string(id), "0", "3", "Dress", "0.80000000000000004", "10", "100"}));
    const CsvTable& density = exported.table("contextual_forgetting_density");
    ASSERT_EQ(density.rows.size(), 40u);                                      // 2 tasks × 20 bins
    EXPECT_EQ(std::stod(density.rows[16][4]), cf.tasks[0].lost_density[16]);  // [0.80, 0.85): class 3
    const CsvTable& summary = exported.table("contextual_forgetting_summary");
    ASSERT_EQ(summary.rows.size(), 2u);
    EXPECT_EQ(std::stod(summary.rows[0][4]), cf.tasks[0].lost_mean);
    EXPECT_EQ(std::stod(summary.rows[0][5]), cf.tasks[0].class_mean);
    const auto& json_task = exported.document["runs"][0]["contextual_forgetting"][0];
    EXPECT_EQ(json_task["lost"], 20);
    EXPECT_EQ(json_task["classes"].size(), 5u);
    EXPECT_DOUBLE_EQ(json_task["lost_mean_similarity"].get<double>(), cf.tasks[0].lost_mean);
}

TEST(ContextualForgettingStoreTest, VersionSixDatabaseReadsLostSinceStartAsNotRecorded) {
    TempDir dir("contextual");
    const std::string path = dir.file("v6.db");
    const int64_t id = write_database_of_version(path, 6, [](Database& db) {
        const int64_t run = insert_old_finished_run(db, {"2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z",
                                                         "2025-01-01T00:01:00.000Z", 0, "0.9", "2.5", 1, 10});
        db.exec(
            "INSERT INTO class_eval_rows(run_id, after_task, eval_task, class_id, correct, total, newly_wrong) "
            "VALUES(" +
            std::to_string(run) + ", 0, -1, 3, 40, 50, 6)");
        return run;
    });
    RunStore store = RunStore::open(path);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    const auto rows = store.class_eval_rows(id);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].row.newly_wrong, 6);
    EXPECT_EQ(rows[0].row.lost_since_start, -1);
}

}  // namespace
}  // namespace lorica
