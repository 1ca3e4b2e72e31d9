// Tests of sweep plans: expansion of variants × seeds into jobs (each with its full effective
// config and its place in the experiment), the jobs.json round trip and its errors, the "launcher"
// config section, the Slurm batch script, and the job-state decision table of `sweep --status`.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/config_errors.h"
#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/config/launcher_settings.h"
#include "engine/config/sbatch_script.h"
#include "engine/config/sweep_jobs.h"
#include "engine/config/sweep_status.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* kUuid = "0b6f1c2e-8d3a-4f5b-9c7d-1e2f3a4b5c6d";

// A sweep of 3 ranks × 2 seeds, with base fields (threads, train.epochs) every job keeps.
json rank_sweep_doc() {
    return {{"name", "grid"},
            {"seeds", {7, 3}},
            {"threads", 2},
            {"train", {{"epochs", 1}}},
            {"sweep", {{"field", "method.rank"}, {"values", {2, 4, 8}}, {"alpha_per_rank", 2.0}}}};
}

using lorica::testing::config_error_of;

TEST(SweepJobsTest, ExpandsVariantsTimesSeedsInTheOrderOfOneProcess) {
    const ExperimentConfig c = parse_experiment_config(rank_sweep_doc());
    const SweepPlan plan = plan_sweep(c, LauncherSettings{}, kUuid);
    const auto variants = expand_variants(c);
    ASSERT_EQ(plan.jobs.size(), 6u);
    EXPECT_EQ(plan.variants, (std::vector<std::string>{"rank=2", "rank=4", "rank=8"}));
    EXPECT_EQ(plan.seeds, (std::vector<int64_t>{7, 3}));
    EXPECT_TRUE(plan.rank_sweep);
    EXPECT_EQ(plan.experiment_uuid, kUuid);
    EXPECT_EQ(plan.experiment_config, to_json(c));
    for (int i = 0; i < 6; ++i) {
        const SweepJob& job = plan.jobs[i];
        const int v = i / 2, s = i % 2;  // variant-major, seed-minor
        EXPECT_EQ(job.index, i);
        EXPECT_EQ(job.variant_index, v);
        EXPECT_EQ(job.seed_index, s);
        EXPECT_EQ(job.seed, c.seeds[s]);
        EXPECT_EQ(job.variant, variants[v].label);
        EXPECT_EQ(job.sweep_field, "method.rank");
        EXPECT_EQ(job.sweep_value, variants[v].sweep_value);
        // The job's config is its variant's effective config with seeds narrowed to the job's seed.
        json expected = to_json(variants[v].config);
        expected["seeds"] = {c.seeds[s]};
        EXPECT_EQ(to_json(job.config), expected) << job.name;
        EXPECT_EQ(job.config.method.rank, (std::vector<int>{2, 4, 8})[v]);
        EXPECT_DOUBLE_EQ(job.config.method.alpha, 2.0 * job.config.method.rank);
        EXPECT_EQ(job.config.train.epochs, 1);
    }
    EXPECT_EQ(plan.jobs[0].name, "job-0000");
    EXPECT_EQ(plan.jobs[5].name, "job-0005");
}

TEST(SweepJobsTest, AnExperimentWithoutVariantsIsOneJobPerSeed) {
    const ExperimentConfig c = parse_experiment_config(json{{"seeds", {0, 1, 2}}});
    const SweepPlan plan = plan_sweep(c, LauncherSettings{}, kUuid);
    ASSERT_EQ(plan.jobs.size(), 3u);
    EXPECT_TRUE(plan.variants.empty());
    EXPECT_FALSE(plan.rank_sweep);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(plan.jobs[i].variant, "");
        EXPECT_EQ(plan.jobs[i].seed, i);
        EXPECT_EQ(plan.jobs[i].config.seeds, (std::vector<int64_t>{i}));
    }
}

TEST(SweepJobsTest, ThreadsPerJobComeFromTheLauncherThenTheConfigThenOne) {
    const ExperimentConfig with_threads = parse_experiment_config(json{{"threads", 6}});
    const ExperimentConfig all_cores = parse_experiment_config(json{{"threads", 0}});
    LauncherSettings l;
    EXPECT_EQ(threads_per_job(with_threads, l), 6);
    EXPECT_EQ(threads_per_job(all_cores, l), 1);  // "all cores" per job would oversubscribe the machine
    l.cpus_per_task = 4;
    EXPECT_EQ(threads_per_job(with_threads, l), 4);
}

TEST(SweepJobsTest, JobsFileRoundTripsEveryField) {
    testing::TempDir dir("sweep-plan");
    LauncherSettings l;
    l.kind = LauncherKind::slurm;
    l.partition = "gpu";
    l.max_parallel = 3;
    l.sbatch_extra = {"--constraint=a100"};
    const SweepPlan plan = plan_sweep(parse_experiment_config(rank_sweep_doc()), l, kUuid);
    const std::string path = (dir.path / "jobs.json").string();
    write_sweep_plan(plan, path);
    const SweepPlan back = read_sweep_plan(path);
    EXPECT_EQ(to_json(back), to_json(plan));
    EXPECT_EQ(back.launcher.partition, "gpu");
    EXPECT_EQ(back.threads_per_job, 2);
    const ExperimentStarted started = experiment_started(back);
    EXPECT_EQ(started.name, "grid");
    EXPECT_EQ(started.config_json, to_json(parse_experiment_config(rank_sweep_doc())).dump());
    EXPECT_EQ(started.config_hash, config_hash(to_json(parse_experiment_config(rank_sweep_doc()))));
    EXPECT_EQ(started.variants, plan.variants);
    const ExperimentVariant v = job_variant(back.jobs[3]);
    EXPECT_EQ(v.index, 1);
    EXPECT_EQ(v.label, "rank=4");
    EXPECT_EQ(v.config.seeds, (std::vector<int64_t>{3}));
}

TEST(SweepJobsTest, AMalformedJobsFileNamesTheFileAndTheField) {
    testing::TempDir dir("sweep-plan-bad");
    const SweepPlan plan = plan_sweep(parse_experiment_config(rank_sweep_doc()), LauncherSettings{}, kUuid);
    const std::string path = (dir.path / "jobs.json").string();
    const auto error_for = [&](json doc) -> std::string {
        std::ofstream(path) << doc.dump();
        try {
            read_sweep_plan(path);
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
            return e.field();
        }
        ADD_FAILURE() << "no error for " << doc.dump().substr(0, 200);
        return "";
    };
    json doc = to_json(plan);
    doc["jobs"][2]["config"]["train"]["epochs"] = -1;
    EXPECT_EQ(error_for(doc), "jobs[2].config.train.epochs");
    doc = to_json(plan);
    doc["jobs"][1]["config"]["seeds"] = {0};  // not the job's seed
    EXPECT_EQ(error_for(doc), "jobs[1].config.seeds");
    doc = to_json(plan);
    doc["jobs"][4].erase("seed");
    EXPECT_EQ(error_for(doc), "jobs[4].seed");
    doc = to_json(plan);
    doc["format_version"] = 99;
    EXPECT_EQ(error_for(doc), "format_version");
    doc = to_json(plan);
    doc["jobs"][0]["name"] = "../escape";
    EXPECT_EQ(error_for(doc), "jobs[0].name");

    std::ofstream(path) << "{not json";
    EXPECT_THROW(read_sweep_plan(path), ConfigError);
}

TEST(LauncherSettingsTest, TheConfigAcceptsAValidatedLauncherSectionOutsideTheEffectiveConfig) {
    json doc = {{"seeds", {0}},
                {"launcher",
                 {{"kind", "slurm"},
                  {"partition", "gpu"},
                  {"time", "04:00:00"},
                  {"cpus_per_task", 8},
                  {"mem", "32G"},
                  {"gpus_per_task", 1},
                  {"max_parallel", 20},
                  {"sbatch", {"--constraint=a100"}}}}};
    const ExperimentConfig c = parse_experiment_config(doc);
    EXPECT_FALSE(to_json(c).contains("launcher"));  // how jobs are launched is not part of what they compute
    EXPECT_EQ(to_json(c), to_json(parse_experiment_config(json{{"seeds", {0}}})));
    const LauncherSettings l = parse_launcher_settings(doc["launcher"]);
    EXPECT_EQ(l.kind, LauncherKind::slurm);
    EXPECT_EQ(l.cpus_per_task, 8);
    EXPECT_EQ(l.gpus_per_task, 1);
    EXPECT_EQ(l.max_parallel, 20);
    EXPECT_EQ(parse_launcher_settings(to_json(l)).sbatch_extra, l.sbatch_extra);

    EXPECT_EQ(config_error_of(json{{"launcher", {{"partiton", "gpu"}}}}).field(), "launcher.partiton");
    EXPECT_EQ(config_error_of(json{{"launcher", {{"kind", "pbs"}}}}).field(), "launcher.kind");
    EXPECT_EQ(config_error_of(json{{"launcher", {{"max_parallel", -1}}}}).field(), "launcher.max_parallel");
    EXPECT_EQ(config_error_of(json{{"launcher", {{"sbatch", {"constraint=a100"}}}}}).field(), "launcher.sbatch[0]");
    EXPECT_EQ(config_error_of(json{{"launcher", "slurm"}}).field(), "launcher");
}

TEST(SbatchScriptTest, ArraySpecsCompressRunsAndAddTheThrottle) {
    EXPECT_EQ(array_spec({0, 1, 2, 3}, 2), "0-3%2");
    EXPECT_EQ(array_spec({0, 1, 2, 3}, 0), "0-3");
    EXPECT_EQ(array_spec({6, 1, 4, 5}, 0), "1,4-6");
    EXPECT_EQ(array_spec({9}, 5), "9%5");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

TEST(SbatchScriptTest, TheScriptIsOneThrottledArrayRunningEachJobByIndex) {
    LauncherSettings l;
    l.kind = LauncherKind::slurm;
    l.partition = "gpu";
    l.time = "04:00:00";
    l.mem = "32G";
    l.gpus_per_task = 1;
    l.max_parallel = 2;
    l.account = "proj42";
    l.sbatch_extra = {"--constraint=a100"};
    json doc = rank_sweep_doc();
    doc["name"] = "my grid/1";
    const SweepPlan plan = plan_sweep(parse_experiment_config(doc), l, kUuid);
    const std::string s = sbatch_script(plan, "/opt/lorica/bin/lorica-cli", "/shared/sweeps/a b");
    const std::string expected =
        "#!/bin/bash\n"
        "# Lorica sweep: 6 jobs (3 variants x 2 seeds) of experiment 'my grid/1' (" +
        std::string(kUuid) +
        ").\n"
        "# Written by `lorica-cli sweep`; jobs in /shared/sweeps/a b/jobs.json.\n"
        "#SBATCH --job-name=lorica-my_grid_1\n"
        "#SBATCH --array=0-5%2\n"
        "#SBATCH --output=/shared/sweeps/a b/logs/slurm-%A_%a.out\n"
        "#SBATCH --ntasks=1\n"
        "#SBATCH --cpus-per-task=2\n"
        "#SBATCH --partition=gpu\n"
        "#SBATCH --time=04:00:00\n"
        "#SBATCH --mem=32G\n"
        "#SBATCH --gres=gpu:1\n"
        "#SBATCH --account=proj42\n"
        "#SBATCH --constraint=a100\n"
        "\n"
        "# One job = one (variant, seed) run. Its database is written under $TMPDIR (node-local) and\n"
        "# published as shards/<job>.sqlite with VACUUM INTO when the run ends.\n"
        "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-2}\n"
        "exec '/opt/lorica/bin/lorica-cli' run --job '/shared/sweeps/a b/jobs.json' --index \"$SLURM_ARRAY_TASK_ID\"\n";
    EXPECT_EQ(s, expected);

    // Without Slurm settings only the array, output, task and CPU lines are written.
    const SweepPlan plain = plan_sweep(parse_experiment_config(json{{"seeds", {0, 1}}}), LauncherSettings{}, kUuid);
    const std::string p = sbatch_script(plain, "/x/lorica-cli", "/d");
    EXPECT_NE(p.find("#SBATCH --array=0-1\n"), std::string::npos) << p;
    EXPECT_NE(p.find("#SBATCH --cpus-per-task=1\n"), std::string::npos) << p;
    for (const char* absent : {"--partition", "--time", "--mem", "--gres", "--account", "--qos"})
        EXPECT_EQ(p.find(absent), std::string::npos) << absent;
}

JobRecord record(const std::string& state, const std::string& message = {}) {
    JobRecord r;
    r.state = state;
    r.host = "node7";
    r.pid = 4242;
    r.message = message;
    return r;
}

TEST(SweepStatusTest, EachJobStateFollowsItsEvidence) {
    using S = SweepJobState;
    JobEvidence e;
    EXPECT_EQ(classify_job(e).state, S::pending);  // never started, no scheduler
    e.submitted = true;
    e.queue_known = true;
    e.queue_state = "PENDING";
    EXPECT_EQ(classify_job(e).state, S::pending);
    e.queue_state = "";
    EXPECT_EQ(classify_job(e).state, S::failed) << "submitted, not in the queue, never started";

    e = JobEvidence{};
    e.record = record("running");
    EXPECT_EQ(classify_job(e).state, S::running);
    e.process_alive = false;
    const JobStatus gone = classify_job(e);
    EXPECT_EQ(gone.state, S::failed);
    EXPECT_EQ(gone.detail, "process 4242 on node7 is gone");
    e.process_alive = true;
    EXPECT_EQ(classify_job(e).state, S::running);

    // Slurm: running while squeue lists it; failed once it left the queue without finishing.
    e = JobEvidence{};
    e.record = record("running");
    e.submitted = e.queue_known = true;
    e.queue_state = "RUNNING";
    EXPECT_EQ(classify_job(e).state, S::running);
    e.queue_state = "";
    EXPECT_EQ(classify_job(e).state, S::failed);
    e.accounting_state = "TIMEOUT";
    EXPECT_EQ(classify_job(e).detail, "TIMEOUT (sacct)");
    e.queue_known = false;  // squeue did not answer, sacct did
    EXPECT_EQ(classify_job(e).state, S::failed);
    e.accounting_state = "";
    EXPECT_EQ(classify_job(e).state, S::running) << "no scheduler answer: trust the job's record";

    // The job's own final word wins.
    e = JobEvidence{};
    e.record = record("finished");
    e.shard_present = true;
    e.queue_known = e.submitted = true;
    EXPECT_EQ(classify_job(e).state, S::finished);
    e.shard_present = false;
    EXPECT_EQ(classify_job(e).state, S::failed);
    e.record = record("failed", "task 1: loss is NaN");
    EXPECT_EQ(classify_job(e).detail, "failed: task 1: loss is NaN");
    e.record = record("cancelled");
    EXPECT_EQ(classify_job(e).state, S::failed);
}

TEST(SweepStatusTest, JobRecordsRoundTripAndRejectUnknownStates) {
    JobRecord r = record("running");
    r.slurm_job_id = "17";
    r.started_at = "2026-01-01T00:00:00.000Z";
    const JobRecord back = job_record_from_json(to_json(r), "s.json");
    EXPECT_EQ(to_json(back), to_json(r));
    json bad = to_json(r);
    bad["state"] = "exploded";
    EXPECT_THROW(job_record_from_json(bad, "s.json"), std::runtime_error);
}

}  // namespace
}  // namespace lorica
