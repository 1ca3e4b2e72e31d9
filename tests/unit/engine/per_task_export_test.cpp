// Per-task adapter export through real short runs: train → export --task T --only-task → read back
// (Lorica's sidecar and the PEFT files alone) → compare each task's ΔW with what the run itself
// recorded, for every method that keeps per-task terms (SD-LoRA and its variants, LoRI in merge mode,
// merged incremental LoRA), and a clear refusal for methods that do not.
//
// The references are independent of the exporter's filter:
//   - SD-LoRA: after the hand-over, task t's term in every adapted matrix is α_t · B A / ‖B A‖_F, so
//     ‖ΔW‖_F of each exported term equals the magnitude α_t the run stored as method state at the end
//     of task t (rescale hand-over, product norm).
//   - merged LoRA: foundation W + Σ_{k ≤ T} ΔW_k (one export per task) equals the merged weight W the
//     run's checkpoint after task T holds.
//   - LoRI merge (cat): task t's adapter is frozen after task t, so its export from checkpoint t
//     equals task t's terms in the last checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sys/wait.h>

#include <torch/torch.h>

#include "engine/model/vit.h"
#include "engine/config/experiment_config.h"
#include "engine/io/adapter_set.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/run_export.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/services/experiment_runner.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kTasks = 3;

// A tiny stream: 3 tasks × 2 classes, 32 images per class, a 1-block ViT of width 16, rank 2 on q and v.
nlohmann::json tiny_config(const fs::path& dir, const std::string& method, nlohmann::json options) {
    return {{"name", "per-task-export-" + method},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 32}, {"test_per_class", 16}}},
            {"foundation", {{"enabled", false}}},
            {"stream", {{"tasks", kTasks}, {"classes_per_task", 2}, {"domains", {"identity", "rot90", "invert"}}}},
            {"backbone", {{"dim", 16}, {"depth", 1}, {"heads", 2}}},
            {"method", {{"name", method}, {"rank", 2}, {"alpha", 2.0}, {"options", std::move(options)}}},
            {"train", {{"epochs", 1}, {"batch_size", 32}}},
            {"eval", {{"before_task", false}, {"random_init", false}}}};
}

struct ShortRun {
    explicit ShortRun(const std::string& method, nlohmann::json options = nlohmann::json::object())
        : dir("per-task-export-" + method) {
        ExperimentConfig config = parse_experiment_config(tiny_config(dir.path, method, std::move(options)));
        store = std::make_shared<RunStore>(RunStore::open((dir.path / "runs.db").string()));
        auto listener = std::make_shared<StoreListener>(store);
        CancelToken cancel;
        status = run_experiment(config, *listener, cancel);
        listener->flush();
        const auto runs = store->list_runs();
        run_id = runs.empty() ? 0 : runs.front().id;
    }

    // Exports the terms of `task` from its checkpoint into a fresh folder; returns the folder.
    fs::path export_task(int task, bool only_task = true) const {
        const fs::path out = dir.path / ("export-" + std::to_string(task) + (only_task ? "-only" : "-all"));
        export_run(*store, RunExportOptions{run_id, out.string(), task, only_task, ""});
        return out;
    }

    std::string checkpoint_dir(int task) const {
        for (const auto& a : store->artifacts(run_id))
            if (a.kind == kArtifactRunCheckpoint && nlohmann::json::parse(a.meta_json).at("task") == task)
                return a.path;
        ADD_FAILURE() << "no checkpoint for task " << task;
        return {};
    }

    TempDir dir;
    std::shared_ptr<RunStore> store;
    RunStatus status = RunStatus::failed;
    int64_t run_id = 0;
};

AdapterSet sidecar(const fs::path& out) { return load_adapter_set((out / "lorica_adapter.safetensors").string()); }

// Every module's ΔW from the PEFT files alone (adapter_config.json + adapter_model.safetensors) equals
// the sidecar's.
void expect_peft_files_match_sidecar(const fs::path& out) {
    const AdapterSet lossless = sidecar(out);
    const AdapterSet peft = import_peft_adapter(out.string(), /*use_sidecar*/ false);
    ASSERT_FALSE(lossless.modules().empty());
    for (const std::string& m : lossless.modules()) {
        const torch::Tensor want = lossless.delta(m);
        const torch::Tensor got = peft.delta(m);
        ASSERT_TRUE(got.defined()) << m << " missing from the PEFT files in " << out;
        EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6))
            << m << ": max |Δ| " << (got - want).abs().max().item<double>();
    }
}

// α_t the run stored at the end of task t (the last magnitudes vector recorded for task t).
double stored_magnitude(const RunStore& store, int64_t run_id, int task) {
    double alpha = std::nan("");
    for (const MethodState& s : store.method_state(run_id))
        if (s.key == StateKey::magnitudes && s.task == task && static_cast<int>(s.values.size()) > task)
            alpha = s.values[task];
    return alpha;
}

torch::Tensor module_weight(Backbone model, const std::string& module) {
    for (const auto& p : model->named_parameters())
        if (p.key() == module + ".weight") return p.value().detach().to(torch::kFloat64);
    ADD_FAILURE() << "no weight " << module << ".weight";
    return {};
}

void expect_only_task(const AdapterSet& set, int task, size_t sites) {
    EXPECT_EQ(set.terms.size(), sites) << "one term per adapted site for task " << task;
    for (const AdapterTerm& t : set.terms) EXPECT_EQ(t.task, task) << t.module << " tag " << t.tag;
}

}  // namespace

class SDLoRAPerTaskExport : public ::testing::TestWithParam<const char*> {};

TEST_P(SDLoRAPerTaskExport, EachTaskExportsItsOwnDirectionWithTheStoredMagnitude) {
    ShortRun run(GetParam());
    ASSERT_EQ(run.status, RunStatus::finished);
    for (int task = 0; task < kTasks; ++task) {
        const fs::path out = run.export_task(task);
        const AdapterSet set = sidecar(out);
        expect_only_task(set, task, 2);  // q and v of the one block
        const double alpha = stored_magnitude(*run.store, run.run_id, task);
        ASSERT_TRUE(std::isfinite(alpha)) << "task " << task;
        for (size_t i = 0; i < set.terms.size(); ++i) {
            const AdapterTerm& t = set.terms[i];
            const double norm =
                t.B.to(torch::kFloat64).matmul(t.A.to(torch::kFloat64)).norm().item<double>() * set.coefficient(i);
            EXPECT_NEAR(norm, alpha, 1e-5 * std::max(1.0, alpha)) << GetParam() << " task " << task << " term " << i;
        }
        expect_peft_files_match_sidecar(out);
    }
    // The cumulative export after the last task holds every task's terms, each task's exactly once.
    const AdapterSet all = sidecar(run.export_task(kTasks - 1, false));
    std::map<int, int> per_task;
    for (const AdapterTerm& t : all.terms) ++per_task[t.task];
    EXPECT_EQ(per_task, (std::map<int, int>{{0, 2}, {1, 2}, {2, 2}}));
}

INSTANTIATE_TEST_SUITE_P(Variants, SDLoRAPerTaskExport, ::testing::Values("sd-lora", "sd-lora-rr", "sd-lora-kd"));

TEST(MergedLoRAPerTaskExport, FoundationPlusEveryTasksFactorsIsTheMergedWeight) {
    ShortRun run("merged-lora");
    ASSERT_EQ(run.status, RunStatus::finished);
    std::map<std::string, torch::Tensor> sum;  // module → Σ_{k ≤ T} ΔW_k
    for (int task = 0; task < kTasks; ++task) {
        const fs::path out = run.export_task(task);
        const AdapterSet set = sidecar(out);
        expect_only_task(set, task, 2);
        EXPECT_EQ(set.base, "foundation");
        expect_peft_files_match_sidecar(out);
        for (const std::string& m : set.modules()) {
            const torch::Tensor d = set.delta(m).to(torch::kFloat64);
            sum[m] = sum.count(m) ? sum[m] + d : d;
        }
        TaskCheckpoint cp = read_task_checkpoint(run.checkpoint_dir(task));
        for (const auto& [m, delta] : sum) {
            const torch::Tensor merged = module_weight(cp.model, m);
            const torch::Tensor rebuilt = module_weight(cp.foundation, m) + delta;
            EXPECT_TRUE(torch::allclose(rebuilt, merged, 1e-5, 1e-6))
                << m << " after task " << task << ": max |Δ| " << (rebuilt - merged).abs().max().item<double>();
        }
    }
}

TEST(LoRIMergePerTaskExport, EachTasksAdapterIsTheSameInEveryLaterCheckpoint) {
    ShortRun run("lori-merge");
    ASSERT_EQ(run.status, RunStatus::finished);
    const AdapterSet last = read_task_checkpoint(run.checkpoint_dir(kTasks - 1)).adapters;
    for (int task = 0; task < kTasks; ++task) {
        const fs::path out = run.export_task(task);
        const AdapterSet set = sidecar(out);
        expect_only_task(set, task, 2);
        expect_peft_files_match_sidecar(out);
        const AdapterSet later = last.terms_of_task(task);
        for (const std::string& m : set.modules())
            EXPECT_TRUE(torch::allclose(set.delta(m), later.delta(m), 1e-6, 1e-7)) << m << " task " << task;
    }
}

TEST(PerTaskExport, MethodsWithoutPerTaskTermsRefuseAndWriteNothing) {
    ShortRun run("sequential-lora");
    ASSERT_EQ(run.status, RunStatus::finished);
    const fs::path out = run.dir.path / "refused";
    try {
        export_run(*run.store, RunExportOptions{run.run_id, out.string(), 1, true, ""});
        FAIL() << "sequential LoRA has no per-task terms";
    } catch (const NoPerTaskTermsError& e) {
        EXPECT_NE(std::string(e.what()).find("export without --only-task"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(out));
    // The cumulative export still works.
    EXPECT_FALSE(sidecar(run.export_task(1, false)).terms.empty());
}

#ifdef LORICA_CLI_PATH
// The same through the command line: export → inspect; a refused --only-task is bad input (exit 2).
TEST(PerTaskExport, CommandLineExportsAndInspectsOneTask) {
    ShortRun run("sd-lora");
    ASSERT_EQ(run.status, RunStatus::finished);
    const std::string cli = LORICA_CLI_PATH;
    const fs::path db = run.dir.path / "runs.db";
    const fs::path out = run.dir.path / "cli-export";
    const fs::path log = run.dir.path / "cli.log";
    const std::string export_cmd = cli + " export " + std::to_string(run.run_id) + " --db " + db.string() +
                                   " --task 1 --only-task --out " + out.string() + " > " + log.string() + " 2>&1";
    ASSERT_EQ(std::system(export_cmd.c_str()), 0) << export_cmd;
    expect_only_task(sidecar(out), 1, 2);
    const std::string inspect_cmd = cli + " inspect " + out.string() + " > " + log.string() + " 2>&1";
    EXPECT_EQ(std::system(inspect_cmd.c_str()), 0) << inspect_cmd;

    ShortRun plain("sequential-lora");
    const std::string refused = cli + " export " + std::to_string(plain.run_id) + " --db " +
                                (plain.dir.path / "runs.db").string() + " --task 1 --only-task --out " +
                                (plain.dir.path / "x").string() + " > " + log.string() + " 2>&1";
    const int status = std::system(refused.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2);
}
#endif
