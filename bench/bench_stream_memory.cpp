// Peak memory of a short experiment on an image folder of N and of 10·N JPEGs at 224 px (the
// streaming pipeline's promise: memory does not grow with the data set), and the pipeline's
// throughput against the training step's.
//
//   ./build/bench/bench_stream_memory [--n 200] [--classes 5] [--dim 64] [--patch 32] [--batch 32]
//                                     [--steps 4] [--workers 0] [--cache-mb 64] [--keep DIR]
//
// The program writes the two folders (root/<class>/<image>.jpg, 224 × 224 RGB, gradients plus noise;
// every 5th image of a class is a test image), then runs the same experiment on each in a child
// process (this program re-executed with --child): image-folder data, a ViT at 224 px (patch
// --patch, dim --dim, depth 2), sequential LoRA, 2 tasks × 2 classes, all training and test images
// of those classes, train.max_steps_per_task = --steps (with enough epochs that both folders run
// exactly that many steps). A child's peak resident set (wait4's
// ru_maxrss) is printed for both, with their ratio (goal ≤ 1.2). For contrast, a third child loads
// the 10·N folder the way the trainer did before streaming (every training image decoded, resized and
// centre-cropped into one uint8 tensor at 224 px, on the decoder threads) and exits.
//
// Throughput, in a last child on the 10·N folder: the pipeline alone (decode + RandomResizedCrop +
// flip + normalise, on data.workers decoder threads — default: hardware threads − 1) in images/s,
// against the training step alone (forward + backward + AdamW of the same model on one batch already
// in memory) in images/s, on the same machine; the ratio pipeline / step must stay above 1 for the
// decoders not to be what the step waits for.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_transforms.h"
#include "engine/data/image_store.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "engine/data/streamed_samples.h"
#include "engine/methods/method_registry.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Options {
    int n = 200, classes = 5, dim = 64, patch = 32, batch = 32, steps = 4, workers = 0;
    int64_t cache_mb = 64;
    std::string keep;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

DecodedImage synthetic(int size, uint64_t seed) {
    DecodedImage img{size, size, 3, std::vector<uint8_t>(static_cast<size_t>(size) * size * 3)};
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> noise(-12, 12), phase(0, 255);
    const int a = phase(rng), b = phase(rng);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
            for (int c = 0; c < 3; ++c) {
                int v = ((x * (c + 1) + a) % 256 + (y * (3 - c) + b) % 256) / 2 + noise(rng);
                img.pixels[(static_cast<size_t>(y) * size + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
            }
    return img;
}

void write_folder(const fs::path& root, int images, int classes) {
    for (int i = 0; i < images; ++i) {
        const fs::path p = root / ("class" + std::to_string(i % classes)) / ("img" + std::to_string(i) + ".jpg");
        if (fs::exists(p)) continue;
        fs::create_directories(p.parent_path());
        write_image_file(p.string(), encode_jpeg(synthetic(224, static_cast<uint64_t>(i)), 90));
    }
}

nlohmann::json experiment(const Options& o, const fs::path& root, const fs::path& cache) {
    nlohmann::json data = {{"dataset", "image-folder"},
                           {"root", root.string()},
                           {"train_per_class", 0},
                           {"test_per_class", 0},
                           {"normalize_mean", {0.485, 0.456, 0.406}},
                           {"normalize_std", {0.229, 0.224, 0.225}},
                           {"workers", o.workers},
                           {"cache_mb", o.cache_mb}};
    return {
        {"name", "bench-stream-memory"},
        {"device", "cpu"},
        {"cache_dir", cache.string()},
        {"data", data},
        {"foundation", {{"enabled", false}}},
        {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity"}}}},
        {"backbone",
         {{"image_size", 224},
          {"patch_size", o.patch},
          {"in_channels", 3},
          {"dim", o.dim},
          {"depth", 2},
          {"heads", 2}}},
        {"method", {{"name", "sequential-lora"}, {"rank", 4}, {"alpha", 4.0}}},
        {"train",
         {{"epochs", o.steps}, {"batch_size", o.batch}, {"max_steps_per_task", o.steps}}},  // both sets: --steps steps
        {"eval", {{"batch_size", 64}, {"random_init", false}, {"before_task", false}}}};
}

// ---- children ------------------------------------------------------------------------------------

int child_run(const Options& o, const fs::path& root, const fs::path& cache) {
    const ExperimentConfig config = parse_experiment_config(experiment(o, root, cache));
    EventRecorder events;
    CancelToken cancel;
    const RunStatus status = run_experiment(config, events, cancel);
    int64_t steps = 0;
    for (const auto& e : events.events()) {
        steps += std::holds_alternative<StepMetrics>(e);
        if (auto* f = std::get_if<RunFinished>(&e); f && !f->message.empty())
            std::fprintf(stderr, "run: %s\n", f->message.c_str());
    }
    std::printf("    (%lld steps, %s)\n", static_cast<long long>(steps),
                status == RunStatus::finished ? "finished" : "FAILED");
    return status == RunStatus::finished ? 0 : 1;
}

int child_in_memory(const fs::path& root) {
    const RawDataset raw = load_image_folder(root.string(), "", 3);
    const ImageStore& store = *raw.train_store;
    const int64_t n = store.size();
    torch::Tensor images = torch::empty({n, 3, 224, 224}, torch::kUInt8);
    ImageTransformOptions transform;  // 224 px, resize to 256 then centre crop (the test transform)
    DecodePool pool(resolve_data_workers(0) - 1);
    std::atomic<int64_t> failures{0};
    pool.for_each_index(n, [&](int64_t i) {
        torch::NoGradGuard no_grad;
        try {
            const torch::Tensor x = test_transform(image_to_tensor(store.load(i)), transform);  // [3, 224, 224]
            images[i].copy_(x.mul(255.0f).round_().to(torch::kUInt8));
        } catch (const std::exception& e) {
            if (failures++ == 0) std::fprintf(stderr, "in memory: %s\n", e.what());
        }
    });
    if (failures > 0) return 1;
    std::printf("    (decoded %lld training images into one uint8 tensor)\n", static_cast<long long>(images.size(0)));
    return 0;
}

int child_throughput(const Options& o, const fs::path& root) {
    const ExperimentConfig config = parse_experiment_config(experiment(o, root, fs::temp_directory_path()));
    const RawDataset raw = load_raw_dataset(config);
    const int workers = resolve_data_workers(o.workers);
    // The pipeline alone: every training image once, train transform, in batches, planned ahead.
    StreamData data = build_stream_data(config, raw, 0);
    SampleSource& source = *data.tasks[0].train.samples;
    std::vector<torch::Tensor> batches;
    for (int64_t start = 0; start < source.size(); start += o.batch)
        batches.push_back(index_range(start, std::min<int64_t>(source.size(), start + o.batch)));
    auto t0 = Clock::now();
    source.plan(batches, BatchMode::train, 1);
    int64_t images = 0;
    for (const auto& b : batches) images += source.batch(b, BatchMode::train, 1).size(0);
    const double pipeline = images / seconds_since(t0);
    // The step alone, on one batch in memory: full fine-tuning with a 2-class stream head, through the
    // trainer's own task set-up and step (task_preparation.h, training_step.h).
    ExperimentConfig step_config = config;
    step_config.method.name = "full-finetune";
    step_config.train.optimizer.lr = 1e-4;
    VisionTransformer model(ViTOptions::from_config(step_config.backbone, 0));
    TaskHeads heads(step_config.backbone.dim);
    MethodContext ctx{model, heads, step_config, 0, 1, 0, torch::kCPU, 0, {}, {}, {}, {}};
    std::unique_ptr<AdapterMethod> method = make_method(step_config);
    method->begin_run(ctx);
    TaskSpec task;
    task.classes = {0, 1};
    add_task_head(heads, task, 0, torch::kCPU);
    method->begin_task(ctx);
    const TaskPreparation prep = prepare_task(heads, step_config.train, task.head);
    method->begin_pass(ctx, 0);
    PassOptimizer pass = make_pass_optimizer(*method, ctx, prep, step_config.train.optimizer);
    GradScaler scaler(false);
    const TrainingParts parts{ctx, *method, scaler};
    const torch::Tensor x = torch::randn({o.batch, 3, 224, 224});
    const torch::Tensor y = task_targets(prep, torch::randint(0, 2, {o.batch}, torch::kInt64));
    auto step = [&] { (void)train_step(parts, prep, pass, x, y); };
    step();  // warm-up
    const int reps = 5;
    t0 = Clock::now();
    for (int r = 0; r < reps; ++r) step();
    const double training = reps * o.batch / seconds_since(t0);
    std::printf("pipeline (decode + RandomResizedCrop + flip + normalise, %d decoder threads): %8.1f images/s\n",
                workers, pipeline);
    std::printf("training step (forward + backward + AdamW, %d intra-op threads):        %8.1f images/s\n",
                torch::get_num_threads(), training);
    std::printf("pipeline / step: %.2f  (above 1: the step does not wait for the decoders)\n", pipeline / training);
    return 0;
}

// ---- parent --------------------------------------------------------------------------------------

struct ChildResult {
    int status = -1;
    double peak_mb = 0.0;
    double seconds = 0.0;
};

ChildResult run_child(const std::vector<std::string>& args) {
    std::fflush(stdout);
    const auto t0 = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv("/proc/self/exe", argv.data());
        std::perror("execv");
        ::_exit(127);
    }
    ChildResult r;
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.peak_mb = usage.ru_maxrss / 1024.0;  // KiB on Linux
    r.seconds = seconds_since(t0);
    return r;
}

std::vector<std::string> child_args(const char* self, const Options& o, const std::string& mode, const fs::path& root,
                                    const fs::path& cache) {
    return {self,
            "--child",
            mode,
            root.string(),
            cache.string(),
            "--dim",
            std::to_string(o.dim),
            "--patch",
            std::to_string(o.patch),
            "--batch",
            std::to_string(o.batch),
            "--steps",
            std::to_string(o.steps),
            "--workers",
            std::to_string(o.workers),
            "--cache-mb",
            std::to_string(o.cache_mb)};
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    std::string child_mode, child_root, child_cache;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--child") {
            child_mode = next();
            child_root = next();
            child_cache = next();
        } else if (a == "--n")
            o.n = std::stoi(next());
        else if (a == "--classes")
            o.classes = std::stoi(next());
        else if (a == "--dim")
            o.dim = std::stoi(next());
        else if (a == "--patch")
            o.patch = std::stoi(next());
        else if (a == "--batch")
            o.batch = std::stoi(next());
        else if (a == "--steps")
            o.steps = std::stoi(next());
        else if (a == "--workers")
            o.workers = std::stoi(next());
        else if (a == "--cache-mb")
            o.cache_mb = std::stoll(next());
        else if (a == "--keep")
            o.keep = next();
        else {
            std::fprintf(stderr, "unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    try {
        if (child_mode == "run") return child_run(o, child_root, child_cache);
        if (child_mode == "in-memory") return child_in_memory(child_root);
        if (child_mode == "throughput") return child_throughput(o, child_root);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %s: %s\n", child_mode.c_str(), e.what());
        return 1;
    }
    if (o.classes < 4 || o.n < 5 * o.classes) {
        std::fprintf(stderr, "--classes must be at least 4 and --n at least 5 × classes\n");
        return 2;
    }

    const fs::path dir = o.keep.empty()
                             ? fs::temp_directory_path() / ("lorica-bench-stream-" + std::to_string(::getpid()))
                             : fs::path(o.keep);
    const fs::path small = dir / ("n" + std::to_string(o.n)), large = dir / ("n" + std::to_string(10 * o.n)),
                   cache = dir / "cache";
    auto t0 = Clock::now();
    write_folder(small, o.n, o.classes);
    write_folder(large, 10 * o.n, o.classes);
    std::printf("image folders: %d and %d JPEGs at 224 × 224 in %d classes (written in %.1f s) under %s\n", o.n,
                10 * o.n, o.classes, seconds_since(t0), dir.string().c_str());
    std::printf(
        "experiment: ViT 224 px, patch %d, dim %d, depth 2; sequential LoRA; 2 tasks × 2 classes; batch %d; "
        "max_steps_per_task %d; data.workers %d (0 = auto: %d); data.cache_mb %lld\n",
        o.patch, o.dim, o.batch, o.steps, o.workers, resolve_data_workers(o.workers),
        static_cast<long long>(o.cache_mb));

    int failures = 0;
    std::printf("streamed run on %d images:\n", o.n);
    const ChildResult a = run_child(child_args(argv[0], o, "run", small, cache));
    std::printf("  peak RSS %8.1f MB  (%.1f s)\n", a.peak_mb, a.seconds);
    std::printf("streamed run on %d images:\n", 10 * o.n);
    const ChildResult b = run_child(child_args(argv[0], o, "run", large, cache));
    std::printf("  peak RSS %8.1f MB  (%.1f s)\n", b.peak_mb, b.seconds);
    failures += a.status != 0 || b.status != 0;
    std::printf("peak RSS ratio %d / %d images: %.3f  (goal <= 1.2)\n", 10 * o.n, o.n, b.peak_mb / a.peak_mb);
    std::printf("before streaming, for contrast: the %d-image folder decoded into memory at 224 px:\n", 10 * o.n);
    const ChildResult c = run_child(child_args(argv[0], o, "in-memory", large, cache));
    std::printf("  peak RSS %8.1f MB  (load alone, no training)\n", c.peak_mb);
    std::printf("throughput on the %d-image folder:\n", 10 * o.n);
    const ChildResult d = run_child(child_args(argv[0], o, "throughput", large, cache));
    failures += c.status != 0 || d.status != 0;
    if (o.keep.empty()) fs::remove_all(dir);
    return failures ? 1 : 0;
}
