// bench_store_scale: how the results store answers at 10,000 runs and a 1,000,000-step run, against
// `SELECT 1` on the same connection in the same run; and how long merging 100 shards takes.
//
//   bench_store_scale [--runs N] [--long-steps N] [--shards N] [--repeat N] [--keep PATH] [--from DB]
//
// Growth: a template experiment of 11 variants × 3 seeds is written through the store's own writer
// (StoreListener, the events a default-experiment run emits: 5 tasks of 96 steps, random-init,
// before-task, in-task and end-of-task accuracies in both head modes, foundation accuracies and
// per-class counts, method state; 27 finished, 3 failed after task 2, 2 cancelled, 1 interrupted);
// `--from DB` takes every run of a real results database as the template instead. The template's
// experiments are then cloned row for row in SQL (new ids and UUIDs, start times spread over 2025,
// every 50th clone's last run left "running") until the database holds N − 1 runs, and one more run
// gets N_long step points written through RunStore::insert_step_metrics.
//
// Timed (median of --repeat after one warm-up; the database reopened first, as a new process would):
//   SELECT 1 (reference) · newest 50 runs with final accuracy · all runs with final accuracy ·
//   filter by method / status / date · load one run (run, tasks, eval and per-class rows, method
//   state, analysis points; both accuracy matrices and all metrics) · the long run's loss curve
//   downsampled to 2,000 min/max buckets · for comparison the long run's full step read and the old
//   listing (list_runs + one metrics query per finished run).
// Then: --shards shard databases of one run each (one sweep: one experiment UUID) merged into a new
// database, and merged again (everything already present).
// --keep PATH leaves the grown database at PATH (for GUI tests); otherwise a temp directory is removed.

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/eval/accuracy_matrix.h"
#include "engine/eval/metrics.h"
#include "engine/store/run_store.h"
#include "engine/store/shard_merge.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/store_listener.h"
#include "engine/store/sweep_summary.h"
#include "engine/store/uuid.h"

namespace fs = std::filesystem;
using namespace lorica;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Options {
    int64_t runs = 10000;
    int64_t long_steps = 1000000;
    int shards = 100;
    int repeat = 5;
    std::string keep;
    std::string from;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "bench_store_scale: %s\nusage: bench_store_scale [--runs N] [--long-steps N] [--shards N] "
                 "[--repeat N] [--keep PATH] [--from DB]\n",
                 why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value after " + a).c_str());
            return argv[++i];
        };
        if (a == "--runs")
            o.runs = std::stoll(value());
        else if (a == "--long-steps")
            o.long_steps = std::stoll(value());
        else if (a == "--shards")
            o.shards = std::stoi(value());
        else if (a == "--repeat")
            o.repeat = std::stoi(value());
        else if (a == "--keep")
            o.keep = value();
        else if (a == "--from")
            o.from = value();
        else
            usage(("unknown argument " + a).c_str());
    }
    if (o.runs < 2 || o.repeat < 1 || o.shards < 0 || o.long_steps < 1) usage("values must be positive");
    return o;
}

// ---- a default-experiment run as events ------------------------------------------------------------

constexpr int kTasks = 5;
constexpr int kStepsPerTask = 96;
const char* const kMethods[] = {"lora", "sd-lora", "merged-lora", "ft-all", "ft-slice",   "head",
                                "lora", "sd-lora", "inflora",     "lori",   "merged-lora"};

std::string config_json(int variant) {
    // About the size of a real effective config (~1.5 kB).
    std::string c = R"({"name":"scale","method":{"name":")" + std::string(kMethods[variant]) + R"(","rank":)" +
                    std::to_string(4 + variant) + R"(,"scale":1.0,"targets":["q","v"]},)";
    c += R"("data":{"dataset":"fashion-mnist","root":"embedded","test_per_class":500,"normalize_mean":[0.286],)"
         R"("normalize_std":[0.353]},"stream":{"tasks":5,"classes_per_task":2,"foundation_classes":5,)"
         R"("domains":["rot90","invert","rot180","patch_permute","rot270"]},"train":{"epochs":3,"batch_size":128,)"
         R"("optimizer":"adamw","lr":0.0005,"weight_decay":0.0,"warmup":0.05,"schedule":"cosine"},)"
         R"("backbone":{"image_size":28,"patch_size":7,"dim":64,"depth":3,"heads":4,"mlp_ratio":4},)"
         R"("eval":{"class_il":true,"task_il":true,"every_steps":48,"per_class":true},"seeds":[0,1,2],)";
    c += R"("notes":")" + std::string(700, 'x') + R"("})";
    return c;
}

// Emits one run's events. `stop_after`: the last task trained (kTasks − 1 = all); `status` its end.
void emit_run(EventListener& out, int variant, int run_index, int64_t seed, RunStatus status, int stop_after,
              std::mt19937& rng) {
    std::uniform_int_distribution<int> pct(30, 98);
    RunStarted r{run_index,
                 seed,
                 kMethods[variant],
                 config_json(variant),
                 "c0ffee" + std::to_string(variant),
                 "cpu",
                 "2.11.0",
                 kTasks,
                 kTasks * kStepsPerTask,
                 "rank=" + std::to_string(4 + variant),
                 variant,
                 "method.rank",
                 std::to_string(4 + variant)};
    out.on_event(r);
    StreamDescribed stream;
    for (int t = 0; t < kTasks; ++t)
        stream.tasks.push_back(TaskInfo{
            t,
            "t" + std::to_string(t) + ": domain {" + std::to_string(2 * t) + ", " + std::to_string(2 * t + 1) + "}",
            {2 * t, 2 * t + 1},
            "rot90",
            4000,
            1000});
    stream.foundation = TaskInfo{kFoundationTask, "foundation", {0, 1, 2, 3, 4}, "identity", 15000, 2500};
    out.on_event(stream);
    auto row = [&](int after, int task, int64_t step, EvalPhase phase, HeadMode mode) {
        const int64_t total = task == kFoundationTask ? 2500 : 1000;
        return EvalRow{after, task, step, phase, mode, total * pct(rng) / 100, total};
    };
    {
        EvaluationDone init;
        for (int t = 0; t < kTasks; ++t)
            for (HeadMode m : {HeadMode::class_il, HeadMode::task_il})
                init.rows.push_back(row(-1, t, 0, EvalPhase::random_init, m));
        out.on_event(init);
        EvaluationDone found;
        for (HeadMode m : {HeadMode::class_il, HeadMode::task_il})
            found.rows.push_back(row(-1, kFoundationTask, 0, EvalPhase::end_of_task, m));
        for (int c = 0; c < 5; ++c) found.class_rows.push_back(ClassEvalRow{-1, kFoundationTask, c, 400 + c, 500, -1});
        out.on_event(found);
    }
    int64_t step = 0;
    double loss = 2.3;
    for (int t = 0; t <= stop_after; ++t) {
        out.on_event(TaskStarted{t, kStepsPerTask, 36864});
        if (t > 0) out.on_event(EvaluationDone{{row(t - 1, t, step, EvalPhase::before_task, HeadMode::class_il)}, {}});
        for (int s = 0; s < kStepsPerTask; ++s) {
            ++step;
            loss = 0.97 * loss + 0.03 * (0.4 + 0.2 * std::sin(0.1 * static_cast<double>(step)));
            out.on_event(StepMetrics{t, s / 32, step, s + 1, loss, 5e-4 * (1.0 - s / 96.0), 22.0 + (s % 7)});
            if (s == kStepsPerTask / 2) {
                EvaluationDone mid;
                for (int j = 0; j <= t; ++j)
                    for (HeadMode m : {HeadMode::class_il, HeadMode::task_il})
                        mid.rows.push_back(row(t - 1, j, step, EvalPhase::in_task, m));
                out.on_event(mid);
            }
        }
        EvaluationDone end;
        for (int j = 0; j <= t; ++j)
            for (HeadMode m : {HeadMode::class_il, HeadMode::task_il})
                end.rows.push_back(row(t, j, step, EvalPhase::end_of_task, m));
        for (HeadMode m : {HeadMode::class_il, HeadMode::task_il})
            end.rows.push_back(row(t, kFoundationTask, step, EvalPhase::end_of_task, m));
        for (int c = 0; c < 5; ++c)
            end.class_rows.push_back(ClassEvalRow{t, kFoundationTask, c, 300 + 10 * c, 500, 20 + c});
        out.on_event(end);
        std::vector<double> magnitudes;
        for (int k = 0; k <= t; ++k) magnitudes.push_back(0.8 + 0.05 * k);
        out.on_event(MethodState{t, step, StateKey::magnitudes, magnitudes});
        out.on_event(TaskFinished{t, 2.5});
    }
    const char* message = status == RunStatus::failed        ? "std::bad_alloc in task 3"
                          : status == RunStatus::interrupted ? "process 4242 on node-3 ended before the run finished"
                                                             : "";
    out.on_event(RunFinished{status, message, 14.0});
}

RunStatus template_status(int variant, int seed_index, int* stop_after) {
    const int k = variant * 3 + seed_index;  // 0..32
    *stop_after = kTasks - 1;
    if (k == 4 || k == 15 || k == 26) {
        *stop_after = 2;
        return RunStatus::failed;
    }
    if (k == 9 || k == 30) {
        *stop_after = 1;
        return RunStatus::cancelled;
    }
    if (k == 20) {
        *stop_after = 3;
        return RunStatus::interrupted;
    }
    return RunStatus::finished;
}

void write_template_experiment(const std::string& path, const std::string& experiment_uuid = {}) {
    StoreListenerOptions options;
    options.experiment_uuid = experiment_uuid;
    options.flush_rows = 4096;
    StoreListener listener(std::make_shared<RunStore>(RunStore::open(path)), options);
    ExperimentStarted e{"scale: 11 ranks × 3 seeds", config_json(0), "c0ffee", {0, 1, 2}, {}};
    for (int v = 0; v < 11; ++v) e.variants.push_back("rank=" + std::to_string(4 + v));
    listener.on_event(e);
    std::mt19937 rng(1993);
    for (int v = 0; v < 11; ++v)
        for (int s = 0; s < 3; ++s) {
            int stop = 0;
            const RunStatus status = template_status(v, s, &stop);
            emit_run(listener, v, s, s, status, stop, rng);
        }
    listener.on_event(ExperimentFinished{RunStatus::finished});
}

// ---- growth by cloning in SQL ---------------------------------------------------------------------

constexpr const char* kSqlUuid =
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) "
    "|| '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || "
    "lower(hex(randomblob(6)))";

std::vector<std::string> columns(Database& db, const std::string& table, const std::vector<std::string>& drop) {
    std::vector<std::string> out;
    Statement st(db, "PRAGMA table_info(" + table + ")");
    while (st.step()) {
        const std::string c = st.column_text(1);
        if (std::find(drop.begin(), drop.end(), c) == drop.end()) out.push_back(c);
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

// Clones the template runs (ids lo..hi, their experiments e_lo..e_hi) until the database holds
// `target_runs` runs. Returns the number of clone rounds.
int64_t grow(const std::string& path, int64_t target_runs) {
    Database db(path, OpenMode::read_write);
    db.exec("PRAGMA synchronous = OFF");
    const int64_t lo = db.query_int64("SELECT min(id) FROM runs"), hi = db.query_int64("SELECT max(id) FROM runs");
    const int64_t e_lo = db.query_int64("SELECT min(id) FROM experiments"),
                  e_hi = db.query_int64("SELECT max(id) FROM experiments");
    const int64_t per_round = db.query_int64("SELECT count(*) FROM runs");
    const auto exp_cols = columns(db, "experiments", {"id", "name", "created_at", "uuid"});
    const auto run_cols =
        columns(db, "runs", {"id", "experiment_id", "started_at", "ended_at", "uuid", "status", "host"});
    const std::vector<std::string> child = {"tasks",        "step_metrics",    "eval_rows", "class_eval_rows",
                                            "method_state", "analysis_points", "artifacts", "step_blocks"};
    const int64_t rounds_total = std::max<int64_t>(0, (target_runs - per_round + per_round - 1) / per_round);
    int64_t rounds = 0;
    while (db.query_int64("SELECT count(*) FROM runs") + per_round <= target_runs) {
        ++rounds;
        Transaction tx(db);
        const int64_t run_offset = db.query_int64("SELECT max(id) FROM runs") - lo + 1;
        const int64_t exp_offset = db.query_int64("SELECT max(id) FROM experiments") - e_lo + 1;
        // Start times spread over 2025: round r starts r/rounds_total of the year in.
        const int64_t base_seconds = rounds * 365 * 86400 / std::max<int64_t>(1, rounds_total + 1);
        const std::string when = "strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (" +
                                 std::to_string(base_seconds) + " + (id - " + std::to_string(lo) +
                                 ") * 120) || ' seconds')";
        const std::string ended = "strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (" +
                                  std::to_string(base_seconds) + " + (id - " + std::to_string(lo) +
                                  ") * 120 + 90) || ' seconds')";
        db.exec("INSERT INTO experiments(id, name, created_at, uuid, " + join(exp_cols) + ") SELECT id + " +
                std::to_string(exp_offset) + ", name || ' #" + std::to_string(rounds) + "', " +
                "strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+" + std::to_string(base_seconds) + " seconds'), " +
                kSqlUuid + ", " + join(exp_cols) + " FROM experiments WHERE id BETWEEN " + std::to_string(e_lo) +
                " AND " + std::to_string(e_hi) + " ORDER BY id");
        const bool running_last = rounds % 50 == 0;
        db.exec("INSERT INTO runs(id, experiment_id, started_at, ended_at, uuid, status, host, " + join(run_cols) +
                ") SELECT id + " + std::to_string(run_offset) + ", experiment_id + " + std::to_string(exp_offset) +
                ", " + when + ", " + ended + ", " + kSqlUuid + ", " +
                (running_last ? "CASE WHEN id = " + std::to_string(hi) + " THEN 'running' ELSE status END"
                              : std::string("status")) +
                ", 'gpu-node-' || (id % 8), " + join(run_cols) + " FROM runs WHERE id BETWEEN " + std::to_string(lo) +
                " AND " + std::to_string(hi) + " ORDER BY id");
        for (const auto& table : child) {
            const auto cols = columns(db, table, {"run_id"});
            db.exec("INSERT INTO " + table + "(run_id, " + join(cols) + ") SELECT run_id + " +
                    std::to_string(run_offset) + ", " + join(cols) + " FROM " + table + " WHERE run_id BETWEEN " +
                    std::to_string(lo) + " AND " + std::to_string(hi) +
                    (table == "step_blocks" ? " ORDER BY run_id, block" : " ORDER BY rowid"));
        }
        tx.commit();
    }
    return rounds;
}

int64_t write_long_run(const std::string& path, int64_t steps) {
    RunStore store = RunStore::open(path);
    RunStarted r{0, 7, "sd-lora", config_json(1), "1ong", "cuda:0", "2.11.0", 10, steps, "", 0, "", ""};
    const int64_t id = store.insert_run(0, r);
    std::vector<StepMetrics> batch;
    batch.reserve(10000);
    double loss = 2.3;
    for (int64_t s = 1; s <= steps; ++s) {
        loss = 0.999 * loss + 0.001 * (0.3 + 0.25 * std::sin(0.001 * static_cast<double>(s)));
        const double spike = (s % 9973 == 0) ? 3.0 : 0.0;  // rare spikes the min/max buckets must keep
        batch.push_back(StepMetrics{static_cast<int>(s * 10 / (steps + 1)), 0, s, s, loss + spike, 1e-4, 180.0});
        if (batch.size() == 10000) {
            store.insert_step_metrics(id, batch);
            batch.clear();
        }
    }
    if (!batch.empty()) store.insert_step_metrics(id, batch);
    store.finish_run(id, RunStatus::finished, "", 3600.0);
    return id;
}

// ---- timing ---------------------------------------------------------------------------------------

// Median wall time of `fn` in ms over `repeat` calls after one warm-up call.
double median_ms(int repeat, const std::function<void()>& fn) {
    fn();
    std::vector<double> t;
    for (int i = 0; i < repeat; ++i) {
        const auto start = Clock::now();
        fn();
        t.push_back(ms_since(start));
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

struct Row {
    std::string what;
    double ms = 0;
    double goal_ms = 0;  // 0 = no goal
    std::string detail;
};

void print_rows(const std::vector<Row>& rows, double ref_ms) {
    std::printf("\n%-58s %12s %14s %10s  %s\n", "query", "median ms", "× SELECT 1", "goal ms", "");
    for (const Row& r : rows) {
        const bool has_goal = r.goal_ms > 0;
        std::printf("%-58s %12.3f %14.0f %10s  %s%s\n", r.what.c_str(), r.ms, r.ms / ref_ms,
                    has_goal ? std::to_string(static_cast<int>(r.goal_ms)).c_str() : "-",
                    has_goal ? (r.ms <= r.goal_ms ? "ok  " : "MISSED  ") : "", r.detail.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    const fs::path tmp = fs::temp_directory_path() / ("lorica-bench-store-" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    const std::string path = o.keep.empty() ? (tmp / "scale.sqlite").string() : o.keep;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
    if (!fs::path(path).parent_path().empty()) fs::create_directories(fs::path(path).parent_path());

    // ---- grow ----
    auto start = Clock::now();
    if (o.from.empty()) {
        write_template_experiment(path);
    } else {
        Database src(o.from, OpenMode::read_only);
        Statement st(src, "VACUUM INTO ?");
        st.bind_text(1, path);
        st.step();
        RunStore::open(path);  // migrate to this build's schema
    }
    const double template_ms = ms_since(start);
    int64_t template_runs = 0;
    {
        Database db(path, OpenMode::read_only);
        template_runs = db.query_int64("SELECT count(*) FROM runs");
    }
    start = Clock::now();
    const int64_t rounds = grow(path, o.runs - 1);
    const double grow_ms = ms_since(start);
    const auto size_before_long = fs::file_size(path);
    start = Clock::now();
    const int64_t long_id = write_long_run(path, o.long_steps);
    const double long_ms = ms_since(start);
    {
        Database db(path);
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const auto size_after = fs::file_size(path);

    std::printf("bench_store_scale: %s\n", path.c_str());
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        char load[128] = {};
        if (std::fgets(load, sizeof load, f)) std::printf("machine load (/proc/loadavg): %s", load);
        std::fclose(f);
    }
    std::printf(
        "template: %lld runs %s in %.0f ms; %lld clone rounds in %.0f ms; "
        "long run (%lld steps via RunStore::insert_step_metrics) in %.0f ms\n",
        static_cast<long long>(template_runs),
        o.from.empty() ? "written through StoreListener" : ("copied from " + o.from).c_str(), template_ms,
        static_cast<long long>(rounds), grow_ms, static_cast<long long>(o.long_steps), long_ms);

    RunStore store = RunStore::open(path);
    int64_t runs = 0, steps = 0, evals = 0, class_rows = 0, experiments = 0;
    store.with_database([&](Database& db) {
        runs = db.query_int64("SELECT count(*) FROM runs");
        experiments = db.query_int64("SELECT count(*) FROM experiments");
        steps = db.query_int64("SELECT count(*) FROM step_metrics");
        evals = db.query_int64("SELECT count(*) FROM eval_rows");
        class_rows = db.query_int64("SELECT count(*) FROM class_eval_rows");
    });
    std::printf("database: %lld runs in %lld experiments; %lld step rows, %lld accuracy rows, %lld per-class rows\n",
                static_cast<long long>(runs), static_cast<long long>(experiments), static_cast<long long>(steps),
                static_cast<long long>(evals), static_cast<long long>(class_rows));
    std::printf(
        "file: %.1f MB with the long run, %.1f MB without (%.1f kB per run); long run %.1f bytes per step point\n",
        size_after / 1e6, size_before_long / 1e6, size_before_long / 1e3 / std::max<int64_t>(1, runs - 1),
        static_cast<double>(size_after - size_before_long) / static_cast<double>(o.long_steps));

    // ---- time ----
    const double ref =
        median_ms(o.repeat * 20, [&] { store.with_database([](Database& db) { db.query_int64("SELECT 1"); }); });
    std::printf("reference: SELECT 1 on the same connection %.4f ms (median of %d)\n", ref, o.repeat * 20);
    std::vector<Row> rows;
    RunPage page;
    rows.push_back({"list newest 50 runs + final accuracy (default page)",
                    median_ms(o.repeat, [&] { page = store.list_run_page(); }), 200,
                    std::to_string(page.runs.size()) + " of " + std::to_string(page.matching)});
    RunPageRequest all;
    all.limit = 0;
    rows.push_back({"list all runs + final accuracy", median_ms(o.repeat, [&] { page = store.list_run_page({}, all); }),
                    200, std::to_string(page.runs.size()) + " runs"});
    int64_t with_acc = 0;
    for (const auto& r : page.runs) with_acc += r.final_accuracy ? 1 : 0;
    rows.back().detail += ", " + std::to_string(with_acc) + " with a final accuracy";
    RunFilter by_method;
    by_method.method_contains = "SD-LORA";
    rows.push_back({"filter method contains 'SD-LORA' (all matching)",
                    median_ms(o.repeat, [&] { page = store.list_run_page(by_method, all); }), 200,
                    std::to_string(page.runs.size()) + " runs"});
    RunFilter by_status;
    by_status.status = RunStatus::failed;
    rows.push_back({"filter status = failed (all matching)",
                    median_ms(o.repeat, [&] { page = store.list_run_page(by_status, all); }), 200,
                    std::to_string(page.runs.size()) + " runs"});
    RunFilter by_date;
    by_date.since = "2025-03-01";
    by_date.until = "2025-03-31";
    rows.push_back({"filter started in March 2025 (all matching)",
                    median_ms(o.repeat, [&] { page = store.list_run_page(by_date, all); }), 200,
                    std::to_string(page.runs.size()) + " runs"});
    RunFilter combined = by_method;
    combined.status = RunStatus::finished;
    combined.since = "2025-06-01";
    rows.push_back({"filter method + status + since (newest 50)",
                    median_ms(o.repeat, [&] { page = store.list_run_page(combined); }), 200,
                    std::to_string(page.runs.size()) + " of " + std::to_string(page.matching)});

    const int64_t one = runs / 2;  // a finished-or-not run in the middle of the file
    std::size_t loaded = 0;
    rows.push_back({"load one run: rows, both matrices, all metrics",
                    median_ms(o.repeat,
                              [&] {
                                  const auto run = store.run(one);
                                  const auto tasks = store.tasks(one);
                                  const auto eval = store.eval_rows(one);
                                  const auto cls = store.class_eval_rows(one);
                                  const auto state = store.method_state(one);
                                  const auto points = store.analysis_points(one);
                                  std::vector<EvalRow> plain;
                                  for (const auto& r : eval) plain.push_back(r.row);
                                  const auto ci = compute_metrics(
                                      AccuracyMatrix::from_eval_rows(plain, HeadMode::class_il, run->num_tasks));
                                  const auto ti = compute_metrics(
                                      AccuracyMatrix::from_eval_rows(plain, HeadMode::task_il, run->num_tasks));
                                  loaded = tasks.size() + eval.size() + cls.size() + state.size() + points.size() +
                                           (ci.acc ? 1 : 0) + (ti.acc ? 1 : 0);
                              }),
                    50, "run " + std::to_string(one)});
    rows.back().detail += ", " + std::to_string(loaded) + " rows";
    std::vector<CurveBucket> curve;
    rows.push_back({"long run: loss curve, 2,000 min/max buckets",
                    median_ms(o.repeat, [&] { curve = store.step_curve(long_id, StepSeries::loss, 2000); }), 100,
                    std::to_string(curve.size()) + " buckets of " + std::to_string(o.long_steps) + " steps"});
    double top = 0;
    for (const auto& b : curve) top = std::max(top, b.max);
    rows.back().detail += ", max " + std::to_string(top).substr(0, 5) + " (spikes kept)";
    std::size_t full = 0;
    rows.push_back({"  for comparison: the long run's every step (step_metrics)",
                    median_ms(std::min(o.repeat, 3), [&] { full = store.step_metrics(long_id).size(); }), 0,
                    std::to_string(full) + " rows"});
    int64_t old_acc = 0;
    rows.push_back({"  for comparison: old listing (list_runs + metrics per run)",
                    median_ms(1,
                              [&] {
                                  old_acc = 0;
                                  for (const auto& r : store.list_runs())
                                      if (r.status == RunStatus::finished &&
                                          stored_run_metrics(store, r.id, HeadMode::class_il).acc)
                                          ++old_acc;
                              }),
                    0, std::to_string(old_acc) + " finished runs with a final accuracy"});
    print_rows(rows, ref);

    // ---- merge ----
    if (o.shards > 0) {
        const fs::path shard_dir = tmp / "shards";
        fs::create_directories(shard_dir);
        const std::string sweep = new_uuid();
        start = Clock::now();
        std::vector<std::string> shards;
        std::mt19937 rng(7);
        for (int i = 0; i < o.shards; ++i) {
            shards.push_back((shard_dir / ("job" + std::to_string(i) + ".sqlite")).string());
            StoreListenerOptions options;
            options.experiment_uuid = sweep;
            options.flush_rows = 4096;
            StoreListener listener(std::make_shared<RunStore>(RunStore::open(shards.back())), options);
            ExperimentStarted e{"sweep of " + std::to_string(o.shards), config_json(0), "c0ffee", {0, 1, 2}, {}};
            listener.on_event(e);
            emit_run(listener, i % 11, (i / 11) % 3, i / 11, RunStatus::finished, kTasks - 1, rng);
            listener.on_event(ExperimentFinished{RunStatus::finished});
        }
        const double write_ms = ms_since(start);
        const auto shard_size = fs::file_size(shards.front());
        const std::string merged = (tmp / "merged.sqlite").string();
        RunStore target = RunStore::open(merged);
        start = Clock::now();
        int64_t rows_copied = 0;
        int added = 0;
        for (const auto& s : shards) {
            const MergeReport r = merge_shard(target, s);
            rows_copied += r.rows_copied;
            added += r.runs_added;
        }
        const double merge_ms = ms_since(start);
        start = Clock::now();
        int skipped = 0;
        for (const auto& s : shards) skipped += merge_shard(target, s).runs_skipped;
        const double remerge_ms = ms_since(start);
        target.with_database([](Database& db) { db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); });
        std::printf("\nmerge: %d shards of one default-experiment run (%.0f kB each, written in %.0f ms)\n", o.shards,
                    shard_size / 1e3, write_ms);
        std::printf("  into a new database: %.0f ms (%.1f ms per shard), %d runs, %lld rows, %zu experiment(s)\n",
                    merge_ms, merge_ms / o.shards, added, static_cast<long long>(rows_copied),
                    target.list_experiments().size());
        std::printf("  the same shards again: %.0f ms (%.1f ms per shard), %d runs already present, 0 added\n",
                    remerge_ms, remerge_ms / o.shards, skipped);
        std::printf("  merged file: %.1f MB\n", fs::file_size(merged) / 1e6);
    }

    std::error_code ec;
    fs::remove_all(tmp, ec);
    if (!o.keep.empty()) std::printf("\nkept the grown database at %s\n", path.c_str());
    return 0;
}
