// The default experiment (resources/presets/default.json, what `lorica-cli run` runs without
// arguments) end to end in this process, with a fresh foundation step (an empty cache directory), the
// results store written as the CLI writes it: wall and CPU time (user + sys) per phase and in total,
// against a reference measured in the same run (a fixed float32 matrix-product loop of the tiny ViT's
// MLP shape, timed before and after the experiment), as ratios.
//
//   ./build/bench/bench_default_run [--threads N] [--rows-out FILE] [--compare FILE] [--set key=value]...
//
// --rows-out writes every evaluation row (after_task eval_task phase head_mode correct total) to FILE;
// --compare reads such a file (e.g. of the build before a change) and prints max |Δ accuracy| over the
// rows both have, and how many rows differ. Phases: each interval between two events is charged to
// the phase of the event that ends it (an evaluation's rows end its forward passes, a step's metrics
// end the step, ...); "data set load + preflight" is the time before the run starts.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

#include <torch/torch.h>

#include "engine/config/presets.h"
#include "engine/eval/accuracy_matrix.h"
#include "engine/eval/metrics.h"
#include "engine/store/store_listener.h"
#include "engine/runtime/device.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/preflight.h"

using namespace lorica;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// ms of one [2176, 64] · [64, 256] float32 product (batch 128 × 17 tokens through fc1), mean of 400.
double reference_gemm_ms() {
    auto a = torch::randn({2176, 64}), b = torch::randn({64, 256});
    for (int i = 0; i < 20; ++i) (void)a.matmul(b);
    const auto t0 = Clock::now();
    for (int i = 0; i < 400; ++i) (void)a.matmul(b);
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 400;
}

const char* phase_of(const Event& event) {
    if (std::holds_alternative<StreamDescribed>(event)) return "stream data (selection, domain transforms)";
    if (std::holds_alternative<EvaluationDone>(event)) return "evaluation";
    if (std::holds_alternative<FoundationProgress>(event)) return "foundation steps";
    if (const auto* a = std::get_if<ArtifactWritten>(&event))
        return a->kind == "foundation_checkpoint" ? "foundation steps" : "checkpoints";
    if (std::holds_alternative<StepMetrics>(event) || std::holds_alternative<EpochFinished>(event))
        return "stream steps";
    if (std::holds_alternative<TaskStarted>(event)) return "task set-up (head, begin_task, optimizer)";
    return "other (method state, start, finish)";
}

class PhaseClock final : public EventListener {
public:
    PhaseClock() : last_wall_(Clock::now()), last_cpu_(cpu_seconds()) {}
    void on_event(const Event& event) override {
        const auto now = Clock::now();
        const double cpu = cpu_seconds();
        auto& p = phases_[phase_of(event)];
        p.first += std::chrono::duration<double>(now - last_wall_).count();
        p.second += cpu - last_cpu_;
        if (const auto* done = std::get_if<EvaluationDone>(&event))
            rows.insert(rows.end(), done->rows.begin(), done->rows.end());
        if (std::holds_alternative<StepMetrics>(event)) ++stream_steps;
        if (const auto* f = std::get_if<FoundationProgress>(&event))
            foundation_steps = f->step, foundation_cached = f->from_cache;
        last_wall_ = Clock::now();  // the store's time lands in the next interval, as in the CLI
        last_cpu_ = cpu;
    }
    const std::map<std::string, std::pair<double, double>>& phases() const { return phases_; }
    std::vector<EvalRow> rows;
    int64_t stream_steps = 0, foundation_steps = 0;
    bool foundation_cached = false;

private:
    Clock::time_point last_wall_;
    double last_cpu_;
    std::map<std::string, std::pair<double, double>> phases_;  // wall s, cpu s
};

using RowKey = std::tuple<int, int, int, int>;  // after_task, eval_task, phase, head_mode

std::map<RowKey, double> read_rows(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::map<RowKey, double> out;
    int a, t, p, m;
    long long c, n;
    while (in >> a >> t >> p >> m >> c >> n) out[{a, t, p, m}] = n ? double(c) / double(n) : 0.0;
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 0;
    std::string rows_out, compare;
    std::vector<std::string> overrides;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads"))
            threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--rows-out"))
            rows_out = argv[i + 1];
        else if (!std::strcmp(argv[i], "--compare"))
            compare = argv[i + 1];
        else if (!std::strcmp(argv[i], "--set"))
            overrides.push_back(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const fs::path scratch = fs::temp_directory_path() / ("bench_default_run." + std::to_string(::getpid()));
    fs::create_directories(scratch / "cache");
    overrides.insert(overrides.begin(), "cache_dir=" + (scratch / "cache").string());  // a fresh foundation
    if (threads > 0) overrides.push_back("threads=" + std::to_string(threads));

    configure_threads(threads);
    const double ref_before = reference_gemm_ms();
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    const long faults_start = minor_faults();
    CheckedExperiment checked = preflight_experiment(assemble_config_document("", "default", overrides));
    const double preflight_wall = std::chrono::duration<double>(Clock::now() - start).count();
    const double preflight_cpu = cpu_seconds() - cpu_start;

    auto phases = std::make_shared<PhaseClock>();
    auto store = std::make_shared<StoreListener>((scratch / "runs.db").string());
    EventFanout fanout;
    fanout.add(phases);
    fanout.add(store);
    CancelToken cancel;
    const RunStatus status = run_experiment(checked.config, fanout, cancel, checked.data);
    store->flush();
    const double total_wall = std::chrono::duration<double>(Clock::now() - start).count();
    const double total_cpu = cpu_seconds() - cpu_start;
    const long faults = minor_faults() - faults_start;
    const double ref_after = reference_gemm_ms();
    const double ref = 0.5 * (ref_before + ref_after);

    std::printf("default experiment (seed %lld, %s), %d intra-op threads, LibTorch %s; status %s\n",
                static_cast<long long>(checked.config.seeds.front()), checked.config.method.name.c_str(),
                torch::get_num_threads(), torch_version().c_str(), to_string(status));
    std::printf("foundation: %lld steps%s; stream: %lld steps\n", static_cast<long long>(phases->foundation_steps),
                phases->foundation_cached ? " (CACHED: not a fresh foundation)" : " (fresh)",
                static_cast<long long>(phases->stream_steps));
    std::printf("reference: [2176,64]·[64,256] matmul %.4f ms (before %.4f, after %.4f)\n\n", ref, ref_before,
                ref_after);
    std::printf("%-44s %9s %9s %12s\n", "phase", "wall s", "cpu s", "wall/ref");
    std::printf("%-44s %9.2f %9.2f %12.0f\n", "data set load + preflight", preflight_wall, preflight_cpu,
                preflight_wall * 1e3 / ref);
    for (const auto& [name, t] : phases->phases())
        std::printf("%-44s %9.2f %9.2f %12.0f\n", name.c_str(), t.first, t.second, t.first * 1e3 / ref);
    std::printf("%-44s %9.2f %9.2f %12.0f\n", "TOTAL", total_wall, total_cpu, total_wall * 1e3 / ref);
    std::printf("minor page faults %ld (%.0f per optimizer step)\n", faults,
                double(faults) / double(std::max<int64_t>(1, phases->stream_steps + phases->foundation_steps)));
    std::printf("per stream step %.2f ms wall; cpu/wall %.2f\n\n",
                phases->phases().count("stream steps") && phases->stream_steps
                    ? phases->phases().at("stream steps").first * 1e3 / double(phases->stream_steps)
                    : 0.0,
                total_cpu / total_wall);

    std::printf(
        "class-IL accuracy matrix:\n%s\n",
        format_matrix(AccuracyMatrix::from_eval_rows(phases->rows, HeadMode::class_il, checked.config.stream.tasks))
            .c_str());
    if (!rows_out.empty()) {
        std::ofstream out(rows_out);
        for (const auto& r : phases->rows)
            out << r.after_task << ' ' << r.eval_task << ' ' << static_cast<int>(r.phase) << ' '
                << static_cast<int>(r.head_mode) << ' ' << r.correct << ' ' << r.total << '\n';
        std::printf("evaluation rows written to %s\n", rows_out.c_str());
    }
    int rc = status == RunStatus::finished ? 0 : 1;
    if (!compare.empty()) {
        const auto reference = read_rows(compare);
        double max_delta = 0.0;
        int matched = 0, differing = 0;
        for (const auto& r : phases->rows) {
            auto it =
                reference.find({r.after_task, r.eval_task, static_cast<int>(r.phase), static_cast<int>(r.head_mode)});
            if (it == reference.end()) continue;
            ++matched;
            const double delta = std::abs((r.total ? double(r.correct) / double(r.total) : 0.0) - it->second);
            if (delta > 0) ++differing;
            max_delta = std::max(max_delta, delta);
        }
        std::printf("against %s: %d rows matched (of %zu here, %zu there), %d differ, max |Δ accuracy| = %.6f\n",
                    compare.c_str(), matched, phases->rows.size(), reference.size(), differing, max_delta);
        if (matched == 0) rc = 1;
    }
    std::error_code ec;
    fs::remove_all(scratch, ec);
    return rc;
}
