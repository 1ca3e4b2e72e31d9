#include "engine/train/stream_trainer.h"

#include <chrono>
#include <cmath>
#include <numeric>

#include "engine/util/log.h"
#include <torch/torch.h>

#include "engine/data/batcher.h"
#include "engine/data/stream_data.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/timm_weights.h"
#include "engine/methods/method_registry.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "engine/train/device.h"
#include "engine/train/device_transfer.h"
#include "engine/train/evaluator.h"
#include "engine/train/foundation.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/lr_schedule.h"
#include "engine/train/optimizer_factory.h"
#include "engine/train/precision.h"
#include "engine/train/step_loss_log.h"
#include "engine/train/resume_point.h"

namespace lorica {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Seed of stream head h (the random-init evaluation rebuilds the very same heads).
uint64_t head_seed(int64_t seed, int head) { return mix_seed(static_cast<uint64_t>(seed), 0x4EAD0000u + head); }

int64_t task_steps(const ExperimentConfig& config, int64_t samples) {
    int64_t per_epoch = (samples + config.train.batch_size - 1) / config.train.batch_size;
    int64_t steps = per_epoch * config.train.epochs;
    if (config.train.max_steps_per_task > 0) steps = std::min(steps, config.train.max_steps_per_task);
    return steps;
}

std::vector<int> range_upto(int last) {
    std::vector<int> v(last + 1);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

// The trainer's state for one run. Members, not globals: one object per run.
class StreamTrainer {
public:
    StreamTrainer(const RunRequest& request, EventListener& events, CancelToken& cancel)
        : req_(request), config_(request.config), events_(events), cancel_(cancel) {}

    void run();

private:
    void evaluate_random_init();
    void evaluate_seen(int after_task, EvalPhase phase);
    void train_task(int t);
    void write_checkpoint(int t);

    const RunRequest& req_;
    const ExperimentConfig& config_;
    EventListener& events_;
    CancelToken& cancel_;

    torch::Device device_ = torch::kCPU;
    StreamData data_;
    VisionTransformer model_{nullptr};
    TaskHeads heads_{nullptr};
    std::unique_ptr<AdapterMethod> method_;
    std::unique_ptr<Evaluator> evaluator_;
    std::unique_ptr<MethodContext> ctx_;
    GradScaler scaler_{config_.train.precision == Precision::fp16};  // one loss scale for the whole run
    int64_t step_ = 0;
    int current_task_ = -1;
    std::string checkpoint_dir_;   // this run's checkpoint directory ("" = checkpoints failed to start)
    int64_t analysis_points_ = 0;  // analysis points emitted through the method context (kept by resume)
};

void StreamTrainer::run() {
    device_ = resolve_device(config_.device);
    enable_fast_fp32_math(device_);
    method_ = make_method(config_);
    auto phase_start = Clock::now();
    data_ = build_stream_data(config_, req_.raw, req_.seed);
    log::debug("stream data built in " + std::to_string(seconds_since(phase_start)) + " s");

    StreamDescribed described;
    for (const auto& t : data_.tasks)
        described.tasks.push_back(
            {t.spec.index, t.spec.name(), t.spec.classes, t.spec.domain, t.train.size(), t.test.size()});
    described.foundation = {kFoundationTask,
                            "foundation",
                            data_.spec.foundation_classes,
                            "identity",
                            data_.foundation_train.size(),
                            data_.foundation_test.size()};
    events_.on_event(described);

    torch::manual_seed(static_cast<uint64_t>(req_.seed));
    const int64_t head_classes = static_cast<int64_t>(data_.spec.foundation_classes.size());
    model_ = VisionTransformer(ViTOptions::from_config(config_.backbone, head_classes));
    evaluator_ = std::make_unique<Evaluator>(data_, config_.eval, device_, &cancel_);
    evaluator_->set_precision(config_.train.precision);
    heads_ = TaskHeads(config_.backbone.dim);
    const ResumePoint* resume = req_.resume;

    if (resume) {
        load_checkpoint_weights(*resume, model_, heads_, device_);
    } else {
        phase_start = Clock::now();
        if (config_.eval.random_init) evaluate_random_init();
        log::debug("random-init evaluation in " + std::to_string(seconds_since(phase_start)) + " s");

        if (!config_.backbone.weights.empty()) {
            TimmLoadReport report = load_timm_weights(model_, config_.backbone.weights);
            for (const auto& note : report.notes)
                events_.on_event(Warning{"backbone.weights " + config_.backbone.weights + ": " + note});
        }
        if (config_.foundation.enabled) {
            phase_start = Clock::now();
            prepare_foundation(model_, config_, data_, req_.seed, device_, events_, cancel_);
            log::debug("foundation step in " + std::to_string(seconds_since(phase_start)) + " s");
        }
        model_->to(device_);
    }
    heads_->to(device_);

    ctx_ = std::make_unique<MethodContext>(MethodContext{model_,
                                                         heads_,
                                                         config_,
                                                         0,
                                                         static_cast<int>(data_.tasks.size()),
                                                         0,
                                                         device_,
                                                         static_cast<uint64_t>(req_.seed),
                                                         {},
                                                         {},
                                                         {},
                                                         {}});
    ctx_->evaluate_seen = [this](EvalPhase phase) { evaluate_seen(current_task_, phase); };
    ctx_->warn = [this](const std::string& message) { events_.on_event(Warning{message}); };
    ctx_->emit = [this](const Event& event) {
        if (const auto* done = std::get_if<AnalysisDone>(&event))
            analysis_points_ += static_cast<int64_t>(done->points.size());
        events_.on_event(event);
    };
    ctx_->evaluate_tasks = [this](const std::vector<int>& tasks) {
        const int seen = std::max(current_task_, 0);
        return evaluator_->evaluate_tasks(model_, heads_, tasks, data_.tasks[seen].spec.head, current_task_, step_,
                                          EvalPhase::end_of_task);
    };

    if (resume) {
        checkpoint_dir_ = resume->run_dir;
    } else {
        if (config_.foundation.enabled) {
            EvaluationDone found = evaluator_->evaluate_foundation(model_, -1, 0, EvalPhase::end_of_task);
            events_.on_event(found);
        }
        try {
            nlohmann::json run_config = to_json(config_);
            run_config["seeds"] = {req_.seed};
            checkpoint_dir_ = make_run_checkpoint_dir(resolve_cache_dir(config_), config_hash(run_config), req_.seed);
            write_foundation_backbone(checkpoint_dir_, model_);
        } catch (const std::exception& e) {
            checkpoint_dir_.clear();
            events_.on_event(Warning{std::string("run checkpoint not written: ") + e.what()});
        }
    }
    method_->begin_run(*ctx_);
    int first_task = 0;
    if (resume) {
        restore_carried_state(*resume, *method_, *ctx_, *evaluator_);
        step_ = resume->state.step;
        analysis_points_ = resume->state.analysis_points;
        first_task = resume->state.task + 1;
    }
    for (int t = first_task; t < static_cast<int>(data_.tasks.size()); ++t) train_task(t);
}

void StreamTrainer::evaluate_random_init() {
    // The model is still at its seeded random init; the heads are the ones the stream will create.
    model_->to(device_);
    TaskHeads random_heads(config_.backbone.dim);
    for (int h = 0; h < data_.spec.num_heads; ++h) {
        const auto& owner =
            *std::find_if(data_.tasks.begin(), data_.tasks.end(), [&](const TaskData& t) { return t.spec.head == h; });
        random_heads->add_head(static_cast<int64_t>(owner.spec.classes.size()), head_seed(req_.seed, h), device_);
    }
    EvaluationDone done;
    for (const auto& task : data_.tasks) {
        auto rows = evaluator_->evaluate_tasks(model_, random_heads, {task.spec.index}, task.spec.head, -1, 0,
                                               EvalPhase::random_init);
        done.rows.insert(done.rows.end(), rows.begin(), rows.end());
    }
    events_.on_event(done);
    model_->to(torch::kCPU);
}

void StreamTrainer::evaluate_seen(int after_task, EvalPhase phase) {
    const int seen = std::max(current_task_, 0);
    EvaluationDone done;
    done.rows = evaluator_->evaluate_tasks(model_, heads_, range_upto(seen), data_.tasks[seen].spec.head, after_task,
                                           step_, phase);
    EvaluationDone found = evaluator_->evaluate_foundation(model_, after_task, step_, phase);
    done.rows.insert(done.rows.end(), found.rows.begin(), found.rows.end());
    done.class_rows = std::move(found.class_rows);
    events_.on_event(done);
}

void StreamTrainer::train_task(int t) {
    const auto task_start = Clock::now();
    const TaskData& task = data_.tasks[t];
    current_task_ = t;
    ctx_->task = t;
    ctx_->step = step_;

    if (task.spec.head >= heads_->size())
        heads_->add_head(static_cast<int64_t>(task.spec.classes.size()), head_seed(req_.seed, task.spec.head), device_);

    if (config_.eval.before_task) {
        EvaluationDone before;
        before.rows =
            evaluator_->evaluate_tasks(model_, heads_, {t}, task.spec.head, t - 1, step_, EvalPhase::before_task);
        events_.on_event(before);
    }

    method_->begin_task(*ctx_);
    const bool all_seen = config_.train.loss == LossScope::all_seen;
    std::vector<int> trained_heads = all_seen ? range_upto(task.spec.head) : std::vector<int>{task.spec.head};
    for (int h = 0; h < heads_->size(); ++h)
        for (auto& p : heads_->head(h)->parameters()) p.set_requires_grad(false);
    auto head_params = heads_->parameters_of(trained_heads);
    for (auto& p : head_params) p.set_requires_grad(true);
    const double head_lr =
        config_.train.optimizer.head_lr > 0 ? config_.train.optimizer.head_lr : config_.train.optimizer.lr;

    // Targets: positions within the task's classes (current-task loss) or class-IL positions.
    torch::Tensor local = local_labels(task.train.labels, task.spec.classes).to(device_);
    const int64_t offset = heads_->offset(task.spec.head);
    torch::Tensor targets = all_seen ? local + offset : local;
    SampleSource& samples = *task.train.samples;

    Batcher batcher(task.train.size(), config_.train.batch_size,
                    mix_seed(static_cast<uint64_t>(req_.seed), 0x7A5C0000u + t));
    const int64_t total = task_steps(config_, task.train.size());  // steps of one pass
    const int passes = std::max(1, method_->passes_per_task());
    auto aug_gen = at::detail::createCPUGenerator(mix_seed(static_cast<uint64_t>(req_.seed), 0xA0600000u + t));
    const bool augment = config_.data.augment.horizontal_flip || config_.data.augment.random_crop_padding > 0;
    int64_t step_in_task = 0;  // over all passes
    const int64_t skipped_before = scaler_.skipped_steps();
    for (int pass = 0; pass < passes; ++pass) {
        method_->begin_pass(*ctx_, pass);
        std::vector<ParamGroup> groups = method_->parameter_groups(*ctx_);
        groups.push_back({"heads", head_params, head_lr, config_.train.optimizer.weight_decay});
        TaskOptimizer opt = make_optimizer(config_.train.optimizer, groups);
        std::vector<torch::Tensor> trainable;
        for (const auto& g : groups) trainable.insert(trainable.end(), g.params.begin(), g.params.end());
        if (pass == 0) events_.on_event(TaskStarted{t, total * passes, count_parameters(groups)});

        model_->train();
        int64_t step_in_pass = 0;
        for (int epoch_in_pass = 0; epoch_in_pass < config_.train.epochs && step_in_pass < total; ++epoch_in_pass) {
            const int epoch = pass * config_.train.epochs + epoch_in_pass;  // epochs keep counting over passes
            StepLossLog step_log(loss_readback_steps(config_.train, device_), events_);
            // Streamed sources decode the planned batches ahead; the seed fixes their random transforms.
            const std::vector<torch::Tensor> batches = batcher.epoch(epoch);
            const uint64_t batch_seed = mix_seed(mix_seed(static_cast<uint64_t>(req_.seed), 0xB47C0000u + t), epoch);
            const int64_t planned = std::min<int64_t>(static_cast<int64_t>(batches.size()), total - step_in_pass);
            samples.plan(std::vector<torch::Tensor>(batches.begin(), batches.begin() + planned), BatchMode::train,
                         batch_seed);
            for (const auto& index_cpu : batches) {
                if (step_in_pass >= total) break;
                if (cancel_.cancelled() || cancel_.paused()) step_log.flush();  // report what ran before stopping
                cancel_.checkpoint();
                const auto step_start = Clock::now();
                auto index = to_device(index_cpu, device_);
                torch::Tensor x = to_device(samples.batch(index_cpu, BatchMode::train, batch_seed), device_);
                if (augment) x = augment_batch(x, config_.data.augment, aug_gen);
                const double lr = opt.set_lr_multiplier(lr_multiplier(config_.train.schedule, step_in_pass, total));
                opt.optimizer->zero_grad();
                torch::Tensor loss;
                {
                    AutocastScope autocast(config_.train.precision, device_);
                    torch::Tensor f = model_->features(x);
                    torch::Tensor logits =
                        all_seen ? heads_->logits_upto(f, task.spec.head) : heads_->logits_of(f, task.spec.head);
                    loss = torch::nn::functional::cross_entropy(logits, targets.index_select(0, index));
                }
                scaler_.scale(loss).backward();
                if (scaler_.unscale(trainable)) {  // false only in fp16, for inf/NaN gradients: skip the update
                    method_->after_backward(*ctx_);
                    if (config_.train.grad_clip > 0)
                        torch::nn::utils::clip_grad_norm_(trainable, config_.train.grad_clip);
                    opt.optimizer->step();
                }
                scaler_.update();
                ++step_in_pass;
                ++step_in_task;
                ++step_;
                ctx_->step = step_;
                const double ms = std::chrono::duration<double, std::milli>(Clock::now() - step_start).count();
                step_log.record(StepMetrics{t, epoch, step_, step_in_task, 0.0, lr, ms}, loss);  // the NaN/Inf check
                for (auto& s : method_->step_state(*ctx_)) events_.on_event(s);
                if (config_.eval.every_steps > 0 && step_in_task % config_.eval.every_steps == 0 &&
                    step_in_task < total * passes) {
                    step_log.flush();
                    evaluate_seen(t - 1, EvalPhase::in_task);
                }
            }
            step_log.flush();
            events_.on_event(EpochFinished{t, epoch, step_log.take_mean()});
        }
    }

    method_->end_task(*ctx_);
    if (scaler_.skipped_steps() > skipped_before)
        events_.on_event(Warning{"task " + std::to_string(t) + ": " +
                                 std::to_string(scaler_.skipped_steps() - skipped_before) +
                                 " fp16 steps skipped for inf/NaN gradients (loss scale now " +
                                 std::to_string(scaler_.scale_value()) + ")"});
    const auto eval_start = Clock::now();
    evaluate_seen(t, EvalPhase::end_of_task);
    log::debug("task " + std::to_string(t) + ": training " + std::to_string(seconds_since(task_start)) +
               " s, end-of-task evaluation " + std::to_string(seconds_since(eval_start)) + " s");
    for (auto& s : method_->state(*ctx_)) events_.on_event(s);
    write_checkpoint(t);
    events_.on_event(TaskFinished{t, seconds_since(task_start)});
}

void StreamTrainer::write_checkpoint(int t) {
    if (checkpoint_dir_.empty()) return;
    try {
        nlohmann::json run_config = to_json(config_);
        run_config["seeds"] = {req_.seed};
        AdapterSet adapters = method_->adapter_set(*ctx_);
        nlohmann::json tasks = nlohmann::json::array();
        for (int j = 0; j <= t; ++j)
            tasks.push_back({{"task", j},
                             {"classes", data_.tasks[j].spec.classes},
                             {"domain", data_.tasks[j].spec.domain},
                             {"head", data_.tasks[j].spec.head}});
        adapters.meta["config_hash"] = config_hash(run_config);
        adapters.meta["after_task"] = t;
        adapters.meta["tasks"] = tasks;
        adapters.meta["method_state"] = method_->describe(*ctx_);
        ArtifactWritten written = write_task_checkpoint(
            checkpoint_dir_, {t, method_->name(), config_hash(run_config), req_.seed}, model_, heads_, adapters);
        try {
            write_resume_files(written.path, capture_resume_state(t, step_, config_hash(run_config), req_.seed,
                                                                  *method_, *ctx_, *evaluator_, analysis_points_));
        } catch (const std::exception& e) {
            events_.on_event(Warning{"task " + std::to_string(t) +
                                     ": resume state not written (the run cannot be resumed "
                                     "from this task): " +
                                     e.what()});
        }
        events_.on_event(written);
    } catch (const std::exception& e) {
        events_.on_event(Warning{"task " + std::to_string(t) + ": run checkpoint not written: " + e.what()});
    }
}

}  // namespace

int64_t planned_stream_steps(const ExperimentConfig& config, int64_t train_samples_per_task) {
    return task_steps(config, train_samples_per_task) * config.stream.tasks;
}

RunStatus run_stream(const RunRequest& request, EventListener& events, CancelToken& cancel) {
    const auto start = Clock::now();
    const ExperimentConfig& config = request.config;
    nlohmann::json run_config = to_json(config);
    run_config["seeds"] = {request.seed};
    RunStarted started;
    started.run_index = request.run_index;
    started.seed = request.seed;
    started.method = config.method.name;
    started.config_json = run_config.dump();
    started.config_hash = config_hash(run_config);
    try {
        started.device = resolve_device(config.device).str();
    } catch (const std::exception&) {
        started.device = config.device;
    }
    started.torch_version = torch_version();
    started.num_tasks = config.stream.tasks;
    int passes = 1;
    try {
        passes = std::max(1, make_method(config)->passes_per_task());
    } catch (const std::exception&) {
        // a bad method config fails the run below, with its message
    }
    started.total_steps =
        config.data.train_per_class > 0
            ? passes * planned_stream_steps(config, config.data.train_per_class * config.stream.classes_per_task)
            : 0;
    events.on_event(started);

    RunStatus status = RunStatus::finished;
    std::string message;
    try {
        StreamTrainer(request, events, cancel).run();
    } catch (const Cancelled&) {
        status = RunStatus::cancelled;
    } catch (const std::exception& e) {
        status = RunStatus::failed;
        message = e.what();
        // c10::Error messages carry a C++ backtrace after the first line; keep the first line.
        if (auto nl = message.find('\n'); nl != std::string::npos && dynamic_cast<const c10::Error*>(&e))
            message = message.substr(0, nl);
    }
    events.on_event(RunFinished{status, message, seconds_since(start)});
    return status;
}

}  // namespace lorica
