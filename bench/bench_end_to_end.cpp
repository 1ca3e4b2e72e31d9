// The whole training loop end to end on an ImageNet-R-shaped image folder: how fast Lorica runs
// sd-lora-vitb-imagenet-r-10 with its data prepared (data.prepared), what share of the loop waits for
// data, and the wall time this gives for the preset's real run at 20 epochs.
//
//   ./build/bench/bench_end_to_end [--device cpu|cuda] [--quick] [--classes 200] [--per-class 120]
//                                  [--tasks 10] [--steps 15] [--batch 128] [--workers 0] [--threads 0]
//                                  [--out DIR]
//
// 1. Folder: DIR/images/{train,test}/<class>/<i>.jpg — `classes` class folders (n00000000, …), each
//    with 4/5 of `per-class` training and 1/5 test JPEGs (120 → 96 + 24, ImageNet-R's 80/20 split),
//    224 × 224 RGB at quality 90: smooth random patterns (three sinusoids per channel, seeded by class
//    and image) over a colour of the class. Written on every core; files already there are kept.
// 2. Prepare: prepare_config_data (data_preparation.h) into DIR/prepared on every core, timed (a
//    complete folder from an earlier call with --out is left as it is and costs only its check).
// 3. The run: the preset sd-lora-vitb-imagenet-r-10 through run_experiment (the experiment runner, the
//    trainer's real loop: streamed batches, steps, evaluation before and after every task, the
//    checkpoints) with data.root = the folder, data.prepared = the prepared folder, one seed (1993),
//    ViT-B/16 random init (no weights file), train.precision bf16 on CUDA (fp32 on the CPU), batch
//    `batch`, `tasks` tasks of classes/10 classes (the preset's 10-task layout),
//    train.max_steps_per_task = `steps` (default: one epoch of a task's 20 × 96 images), foundation off.
//    The phases are timed from the run's events as they arrive (on the training thread):
//      training of task t     TaskStarted(t) → its last EpochFinished (the losses read back: synced)
//      evaluation             the end of the previous phase → its EvaluationDone (before_task: from the
//                             previous TaskFinished, task 0's counted from the run's set-up instead)
//      set-up and the rest    the run's wall time minus the above (data sets opened, model built and
//                             moved, checkpoints, method bookkeeping)
//    Images evaluated = the class-IL rows' totals (task-IL reuses the same forward pass).
// 4. The data path's share: the seconds the training thread spent getting its training batches
//    (training_batch_wait.h: SampleSource::batch + the copy to the device) over the loop's wall time.
//    For contrast, the data path alone, after the run: the first task's training batches (the same
//    indices and transform seed as its first epoch; planned ahead, data.workers workers, fetched onto
//    the device with batch_on as the trainer does) and its test batches, in images/s.
// 5. The estimate for sd-lora-vitb-imagenet-r-10 at 20 epochs (ImageNet-R: N = 24,000 training and
//    M = 6,000 test images, T = 10 tasks of N/T and M/T; evaluation of task t before it and of tasks
//    0..t after it):
//      est = setup + E·N / r_train + (M + (M/T)·T(T+1)/2) / r_eval + T·other_per_task
//    with E = 20, r_train and r_eval the measured training and evaluation images/s, `setup` and
//    `other_per_task` as measured here (the random init stands in for reading the weights file).
//    SD-LoRA's step grows with the tasks (a direction per task): the run's tasks are averaged, so
//    run all 10 (the default) for the preset's mix.
//
// Output: human lines, then one line
//   RESULT images_per_s=… data_share=… est_minutes=… train_images_per_s=… eval_images_per_s=…
//          generate_s=… prepare_s=… prepare_images_per_s=… data_train_images_per_s=…
// images_per_s = every image the loop went through (trained + evaluated) ÷ the loop's wall time
// (the run from its start to its last task's end, set-up included).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/config/presets.h"
#include "engine/data/batcher.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_decode.h"
#include "engine/data/prepared/prepared_sources.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "engine/runtime/device.h"
#include "engine/services/data_preparation.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/training_batch_wait.h"
#include "engine/util/seed_offsets.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr const char* kEndToEndPreset = "sd-lora-vitb-imagenet-r-10";
constexpr double kImageNetRTrain = 24000, kImageNetRTest = 6000, kImageNetRTasks = 10, kPresetEpochs = 20;
constexpr int kEndToEndImageSize = 224;

struct EndToEndOptions {
    std::string device = "auto";
    bool quick = false;
    int classes = 200, per_class = 120, tasks = 10, workers = 0, threads = 0;
    int64_t steps = 0, batch = 128;  // steps 0: one epoch of a task
    std::string out;
};

double end_to_end_seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- 1. the folder -------------------------------------------------------------------------------

std::string end_to_end_class_name(int c) {
    char name[16];
    std::snprintf(name, sizeof name, "n%08d", c);
    return name;
}

// 224 × 224 RGB: per channel a colour of the class plus three seeded sinusoids (along x, y and x + y),
// so the image is smooth (JPEG-friendly, like a photograph) and no two are alike.
DecodedImage end_to_end_pattern(int cls, int index) {
    constexpr int S = kEndToEndImageSize;
    DecodedImage img{S, S, 3, std::vector<uint8_t>(static_cast<size_t>(S) * S * 3)};
    std::mt19937_64 rng(0x5eed0000ULL + static_cast<uint64_t>(cls) * 1000003ULL + static_cast<uint64_t>(index));
    std::uniform_real_distribution<float> freq(0.01f, 0.12f), phase(0.0f, 6.2832f), amp(10.0f, 45.0f);
    std::vector<float> along_x(S), along_y(S), along_xy(2 * S);
    for (int c = 0; c < 3; ++c) {
        const float base = static_cast<float>((cls * (37 + 54 * c)) % 160 + 48);
        const float fx = freq(rng), px = phase(rng), ax = amp(rng);
        const float fy = freq(rng), py = phase(rng), ay = amp(rng);
        const float fd = freq(rng), pd = phase(rng), ad = amp(rng);
        for (int i = 0; i < S; ++i) along_x[i] = base + ax * std::sin(fx * i + px);
        for (int i = 0; i < S; ++i) along_y[i] = ay * std::sin(fy * i + py);
        for (int i = 0; i < 2 * S; ++i) along_xy[i] = ad * std::sin(fd * i + pd);
        for (int y = 0; y < S; ++y)
            for (int x = 0; x < S; ++x) {
                const float v = along_x[x] + along_y[y] + along_xy[x + y];
                img.pixels[(static_cast<size_t>(y) * S + x) * 3 + c] =
                    static_cast<uint8_t>(std::clamp(static_cast<int>(v), 0, 255));
            }
    }
    return img;
}

// Writes the missing JPEGs of root/{train,test}/<class>/<i>.jpg on `threads` threads; returns how many
// it wrote.
int64_t write_end_to_end_folder(const fs::path& root, int classes, int per_class, int threads) {
    const int train = per_class - per_class / 5;
    for (int c = 0; c < classes; ++c) {
        fs::create_directories(root / "train" / end_to_end_class_name(c));
        fs::create_directories(root / "test" / end_to_end_class_name(c));
    }
    const int64_t total = static_cast<int64_t>(classes) * per_class;
    std::atomic<int64_t> next{0}, written{0};
    auto work = [&] {
        for (int64_t k = next++; k < total; k = next++) {
            const int c = static_cast<int>(k / per_class), i = static_cast<int>(k % per_class);
            const fs::path p = root / (i < train ? "train" : "test") / end_to_end_class_name(c) /
                               (std::to_string(i < train ? i : i - train) + ".jpg");
            if (fs::exists(p)) continue;
            write_image_file(p.string(), encode_jpeg(end_to_end_pattern(c, i), 90));
            ++written;
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
    return written;
}

// ---- 3. the run's timeline -----------------------------------------------------------------------

// Times the phases of one run from its events (called on the training thread as they happen).
class EndToEndTimeline final : public EventListener {
public:
    explicit EndToEndTimeline(Clock::time_point start) : last_mark_(start) {}

    void on_event(const Event& event) override {
        const auto now = Clock::now();
        if (const auto* e = std::get_if<RunFinished>(&event)) {
            failed = e->status != RunStatus::finished;
            message = e->message;
        } else if (const auto* w = std::get_if<Warning>(&event)) {
            std::fprintf(stderr, "warning: %s\n", w->message.c_str());
        } else if (std::holds_alternative<TaskStarted>(event)) {
            // begin_task, the head, the optimizer; task 0 without a before-task evaluation: the set-up
            (tasks_finished == 0 && !setup_counted_ ? setup_s : other_s) += seconds(last_mark_, now);
            setup_counted_ = true;
            last_mark_ = now;
        } else if (std::holds_alternative<StepMetrics>(event)) {
            ++steps;
        } else if (std::holds_alternative<EpochFinished>(event)) {
            last_epoch_end_ = now;
            in_training_ = true;
        } else if (const auto* d = std::get_if<EvaluationDone>(&event)) {
            int64_t images = 0;
            bool before_task = false;
            for (const auto& row : d->rows)
                if (row.head_mode == HeadMode::class_il) {
                    images += row.total;
                    before_task = row.phase == EvalPhase::before_task;
                }
            if (in_training_) {  // the task's training ends at its last epoch; end_task and evaluations follow
                train_s += seconds(last_mark_, last_epoch_end_);
                last_mark_ = last_epoch_end_;
                in_training_ = false;
            }
            if (before_task && tasks_finished == 0 && !setup_counted_) {
                // task 0's set-up and evaluation are not told apart: count them as set-up
                setup_s += seconds(last_mark_, now);
                first_before_images += images;
                setup_counted_ = true;
            } else {
                eval_s += seconds(last_mark_, now);
                eval_images += images;
                if (before_task)
                    before_images += images;
                else
                    ++end_evaluations;  // SD-LoRA: before and after its hand-over, then the trainer's
            }
            last_mark_ = now;
        } else if (std::holds_alternative<TaskFinished>(event)) {
            other_s += seconds(last_mark_, now);  // method state, cost, checkpoint
            last_mark_ = now;
            last_task_end = now;
            ++tasks_finished;
        }
    }

    int64_t steps = 0;
    int64_t eval_images = 0;          // evaluated in the eval phases (task 0's first excluded)
    int64_t before_images = 0;        // of which before a task (tasks 1..)
    int64_t first_before_images = 0;  // task 0's before-task evaluation (counted in the set-up)
    int64_t end_evaluations = 0;      // evaluations after the tasks' training (all seen tasks each)
    int tasks_finished = 0;
    double train_s = 0, eval_s = 0, setup_s = 0, other_s = 0;
    Clock::time_point last_task_end{};
    bool failed = false;
    std::string message;

private:
    static double seconds(Clock::time_point a, Clock::time_point b) {
        return std::chrono::duration<double>(b - a).count();
    }
    Clock::time_point last_mark_, last_epoch_end_{};
    bool in_training_ = false, setup_counted_ = false;
};

// ---- 4. the data path alone ----------------------------------------------------------------------

struct DataPathRate {
    double train_images_per_s = 0, test_images_per_s = 0;
};

// Task 0's first-epoch training batches, as the trainer draws them (its Batcher order and transform
// seed; the first `steps` of them), and its test batches, each planned ahead and fetched onto `device`
// as the trainer fetches them (SampleSource::batch_on; the device synchronised before the clock stops).
DataPathRate time_data_path_alone(const ExperimentConfig& config, int64_t steps, torch::Device device) {
    const RawDataset raw = load_raw_dataset(config);
    const uint64_t seed = static_cast<uint64_t>(config.seeds.front());
    StreamData data = build_stream_data(config, raw, config.seeds.front());
    const TaskData& task = data.tasks.front();
    auto time_batches = [device](SampleSource& source, const std::vector<torch::Tensor>& batches, BatchMode mode,
                                 uint64_t batch_seed) {
        const auto t0 = Clock::now();
        source.plan(batches, mode, batch_seed);
        int64_t images = 0;
        for (const auto& index : batches) images += source.batch_on(index, mode, batch_seed, device).size(0);
        if (device.is_cuda()) torch::cuda::synchronize();
        return images / end_to_end_seconds_since(t0);
    };
    std::vector<torch::Tensor> train =
        Batcher(task.train.size(), config.train.batch_size, derived_seed(seed, SeedStream::task_batches, 0)).epoch(0);
    if (static_cast<int64_t>(train.size()) > steps) train.resize(static_cast<size_t>(steps));
    std::vector<torch::Tensor> test;
    for (int64_t b = 0; b < task.test.size(); b += config.eval.batch_size)
        test.push_back(index_range(b, std::min(task.test.size(), b + config.eval.batch_size)));
    DataPathRate rate;
    rate.train_images_per_s = time_batches(*task.train.samples, train, BatchMode::train,
                                           mix_seed(derived_seed(seed, SeedStream::task_batch_transforms, 0), 0));
    rate.test_images_per_s = time_batches(*task.test.samples, test, BatchMode::test, 0);
    return rate;
}

// ---- options -------------------------------------------------------------------------------------

bool parse_end_to_end_options(int argc, char** argv, EndToEndOptions& o) {
    bool classes_set = false, per_class_set = false, tasks_set = false, batch_set = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--device")
            o.device = next();
        else if (a == "--quick")
            o.quick = true;
        else if (a == "--classes")
            o.classes = std::stoi(next()), classes_set = true;
        else if (a == "--per-class")
            o.per_class = std::stoi(next()), per_class_set = true;
        else if (a == "--tasks")
            o.tasks = std::stoi(next()), tasks_set = true;
        else if (a == "--steps")
            o.steps = std::stoll(next());
        else if (a == "--batch")
            o.batch = std::stoll(next()), batch_set = true;
        else if (a == "--workers")
            o.workers = std::stoi(next());
        else if (a == "--threads")
            o.threads = std::stoi(next());
        else if (a == "--out")
            o.out = next();
        else {
            std::fprintf(stderr, "unknown argument %s\n", a.c_str());
            return false;
        }
    }
    if (o.quick) {  // minutes on a laptop's CPU: 20 classes × 10 images, 2 tasks of 2 classes, batch 4
        if (!classes_set) o.classes = 20;
        if (!per_class_set) o.per_class = 10;
        if (!tasks_set) o.tasks = 2;
        if (!batch_set) o.batch = 4;
    }
    if (o.classes < 10 || o.classes % 10 != 0 || o.per_class < 5 || o.tasks < 1 || o.tasks > 10 || o.batch < 1) {
        std::fprintf(stderr, "--classes must be a multiple of 10, --per-class at least 5, --tasks 1..10\n");
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    EndToEndOptions o;
    if (!parse_end_to_end_options(argc, argv, o)) return 2;
    const torch::Device device = resolve_device(o.device);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int train_per_class = o.per_class - o.per_class / 5, test_per_class = o.per_class / 5;
    const int classes_per_task = o.classes / 10;
    const int64_t task_train = static_cast<int64_t>(classes_per_task) * train_per_class;
    if (o.steps <= 0) o.steps = std::max<int64_t>(1, (task_train + o.batch - 1) / o.batch);
    if (o.quick && o.steps > 2) o.steps = 2;
    const fs::path dir = o.out.empty() ? fs::temp_directory_path() / ("lorica-bench-e2e-" + std::to_string(::getpid()))
                                       : fs::path(o.out);
    const fs::path images = dir / "images", prepared = dir / "prepared";
    std::printf("device %s, %d cores, LibTorch %s; folder under %s\n", device.str().c_str(), cores,
                torch_version().c_str(), dir.string().c_str());

    try {
        // 1. The folder.
        auto t0 = Clock::now();
        const int64_t written = write_end_to_end_folder(images, o.classes, o.per_class, cores);
        const double generate_s = end_to_end_seconds_since(t0);
        const int64_t all_images = static_cast<int64_t>(o.classes) * o.per_class;
        std::printf(
            "1. folder: %d classes × (%d train + %d test) JPEGs, 224 px: %lld written in %.1f s on %d threads\n",
            o.classes, train_per_class, test_per_class, static_cast<long long>(written), generate_s, cores);

        // The config: the preset, then what this bench sets.
        nlohmann::json doc = assemble_config_document("", kEndToEndPreset, {});
        doc["name"] = "bench-end-to-end";
        doc["seeds"] = {1993};
        doc["device"] = device.is_cuda() ? "cuda" : "cpu";
        doc["threads"] = o.threads;
        doc["cache_dir"] = (dir / "cache").string();
        doc["data"]["root"] = images.string();
        doc["data"]["workers"] = o.workers;
        doc["backbone"]["weights"] = "";
        doc["foundation"]["enabled"] = false;
        doc["stream"]["tasks"] = o.tasks;
        doc["stream"]["classes_per_task"] = classes_per_task;
        doc["train"]["batch_size"] = o.batch;
        doc["train"]["max_steps_per_task"] = o.steps;
        doc["train"]["precision"] = device.is_cuda() ? "bf16" : "fp32";
        ExperimentConfig config = parse_experiment_config(doc);

        // 2. Prepare.
        PrepareOptions prepare;
        prepare.transform = prepared_transform(config);
        prepare.workers = cores;
        t0 = Clock::now();
        const PrepareSummary summary = prepare_config_data(config, prepared.string(), prepare);
        const double prepare_s = end_to_end_seconds_since(t0);
        std::printf(
            "2. prepared: %lld images (%lld written, %.1f MB) at %lld px in %.1f s on %d workers: %.0f images/s\n",
            static_cast<long long>(summary.images), static_cast<long long>(summary.images_written), summary.bytes / 1e6,
            static_cast<long long>(prepare.transform.resize_size), prepare_s, cores,
            summary.images_written / prepare_s);
        doc["data"]["prepared"] = prepared.string();
        config = parse_experiment_config(doc);

        // 3. The run.
        std::printf(
            "3. run: %s, ViT-B/16 random init, %s, batch %lld, %d tasks × %d classes, %lld steps a task, "
            "data.workers %d (0 = auto: %d), evaluation before and after each task (batch %lld)\n",
            kEndToEndPreset, doc["train"]["precision"].get<std::string>().c_str(), static_cast<long long>(o.batch),
            o.tasks, classes_per_task, static_cast<long long>(o.steps), o.workers, resolve_data_workers(o.workers),
            static_cast<long long>(config.eval.batch_size));
        std::fflush(stdout);
        CancelToken cancel;
        const TrainingBatchWait wait_before = this_thread_training_batch_wait();
        const auto run_start = Clock::now();
        EndToEndTimeline timeline(run_start);
        const RunStatus status = run_experiment(config, timeline, cancel);
        const TrainingBatchWait& wait_after = this_thread_training_batch_wait();
        const double wait_s = wait_after.seconds - wait_before.seconds;
        const int64_t waited_batches = wait_after.batches - wait_before.batches;
        if (status != RunStatus::finished || timeline.failed || timeline.tasks_finished == 0) {
            std::fprintf(stderr, "run: %s\n", timeline.message.empty() ? "did not finish" : timeline.message.c_str());
            return 1;
        }
        const double loop_s = std::chrono::duration<double>(timeline.last_task_end - run_start).count();
        const double train_images = static_cast<double>(timeline.steps) * static_cast<double>(o.batch);
        const double eval_images = static_cast<double>(timeline.eval_images + timeline.first_before_images);
        const double images_per_s = (train_images + eval_images) / loop_s;
        const double r_train = train_images / timeline.train_s;
        const double r_eval = timeline.eval_images > 0 ? timeline.eval_images / timeline.eval_s : 0.0;
        const double data_share = wait_s / loop_s;
        const double setup_s = timeline.setup_s;
        const double other_per_task = timeline.other_s / timeline.tasks_finished;
        const double evaluations_per_task_end = static_cast<double>(timeline.end_evaluations) / timeline.tasks_finished;
        std::printf(
            "   %lld steps (%lld batches fetched) in %d tasks; loop %.1f s: set-up %.1f s (task 0's first "
            "evaluation of %lld images included), training %.1f s, evaluation %.1f s, other %.1f s\n",
            static_cast<long long>(timeline.steps), static_cast<long long>(waited_batches), timeline.tasks_finished,
            loop_s, setup_s, static_cast<long long>(timeline.first_before_images), timeline.train_s, timeline.eval_s,
            timeline.other_s);
        std::printf(
            "   training %.1f images/s; evaluation %.1f images/s (%lld images: %lld before tasks, the rest in "
            "%.0f evaluations of every seen task after each task's training); the whole loop %.1f images/s "
            "(%.0f trained + %.0f evaluated)\n",
            r_train, r_eval, static_cast<long long>(timeline.eval_images),
            static_cast<long long>(timeline.before_images), evaluations_per_task_end, images_per_s, train_images,
            eval_images);

        // 4. The data path's share.
        std::printf(
            "4. data path: the training thread waited %.2f s for its batches = %.1f%% of the loop (%.1f%% of "
            "training)\n",
            wait_s, 100 * data_share, 100 * wait_s / timeline.train_s);
        std::fflush(stdout);
        const DataPathRate alone = time_data_path_alone(config, o.steps, device);
        std::printf(
            "   alone (task 0, %d workers): training batches %.1f images/s (%.2f × the training step's), "
            "test batches %.1f images/s\n",
            resolve_data_workers(o.workers), alone.train_images_per_s, alone.train_images_per_s / r_train,
            alone.test_images_per_s);

        // 5. The preset's estimate.
        const double N = kImageNetRTrain, M = kImageNetRTest, T = kImageNetRTasks, E = kPresetEpochs;
        const double k = evaluations_per_task_end;
        const double eval_preset = M + k * (M / T) * T * (T + 1) / 2;
        const double est_s = setup_s + E * N / r_train + (r_eval > 0 ? eval_preset / r_eval : 0.0) + T * other_per_task;
        const double prepare_rate = summary.images_written > 0 ? summary.images_written / prepare_s : 0.0;
        std::printf(
            "5. %s at %g epochs (ImageNet-R: N = %g train, M = %g test images, T = %g tasks; k = %g "
            "evaluations of the seen tasks after each task, as measured):\n"
            "   est = setup + E·N/r_train + (M + k·(M/T)·T(T+1)/2)/r_eval + T·other\n"
            "       = %.1f + %g·%g/%.1f + %g/%.1f + %g·%.2f s = %.1f s = %.1f minutes\n",
            kEndToEndPreset, E, N, M, T, k, setup_s, E, N, r_train, eval_preset, r_eval, T, other_per_task, est_s,
            est_s / 60);
        if (prepare_rate > 0)
            std::printf("   preparing its %g images once, at this run's rate (%.0f images/s): %.1f minutes more\n",
                        N + M, prepare_rate, (N + M) / prepare_rate / 60);
        std::printf(
            "RESULT images_per_s=%.2f data_share=%.4f est_minutes=%.2f train_images_per_s=%.2f "
            "eval_images_per_s=%.2f generate_s=%.1f prepare_s=%.1f prepare_images_per_s=%.1f "
            "data_train_images_per_s=%.1f images=%lld\n",
            images_per_s, data_share, est_s / 60, r_train, r_eval, generate_s, prepare_s, prepare_rate,
            alone.train_images_per_s, static_cast<long long>(all_images));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_end_to_end: %s\n", e.what());
        if (o.out.empty()) fs::remove_all(dir);
        return 1;
    }
    if (o.out.empty()) fs::remove_all(dir);
    return 0;
}
