#include "engine/train/stream_trainer.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <numeric>

#include "engine/util/log.h"
#include "engine/util/seed_offsets.h"
#include <torch/torch.h>

#include "engine/config/run_facts_of_config.h"
#include "engine/data/batcher.h"
#include "engine/data/stream_data.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/timm_weights.h"
#include "engine/methods/method_registry.h"
#include "engine/model/task_heads.h"
#include "engine/model/backbone_factory.h"
#include "engine/model/flop_count.h"
#include "engine/model/vit.h"
#include "engine/runtime/device.h"
#include "engine/runtime/device_transfer.h"
#include "engine/runtime/host_read.h"
#include "engine/train/evaluator.h"
#include "engine/train/foundation.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/low_loss_region.h"
#include "engine/train/lr_schedule.h"
#include "engine/train/optimizer_factory.h"
#include "engine/train/precision.h"
#include "engine/train/step_loss_log.h"
#include "engine/train/resume_point.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_batch_wait.h"
#include "engine/train/training_step.h"

namespace lorica {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<int> range_upto(int last) {
    std::vector<int> v(last + 1);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

// The run's config as recorded (the experiment's config with `seeds` = this run's seed) and its hash:
// built once per run, for RunStarted, the checkpoint directory and every task checkpoint.
struct RunIdentity {
    nlohmann::json config;
    std::string hash;
};

RunIdentity run_identity(const ExperimentConfig& config, int64_t seed) {
    RunIdentity id;
    id.config = to_json(config);
    id.config["seeds"] = {seed};
    id.hash = config_hash(id.config);
    return id;
}

// The run's adapter method, made once before RunStarted (its pass count sizes the run). A config the
// registry rejects is kept and rethrown where the trainer needs the method, so the run fails with it.
struct RunMethod {
    std::unique_ptr<AdapterMethod> method;
    std::exception_ptr error;
};

RunMethod make_run_method(const ExperimentConfig& config) {
    RunMethod out;
    try {
        out.method = make_method(config);
    } catch (const std::exception&) {
        out.error = std::current_exception();
    }
    return out;
}

// One task's loop state, over all its passes.
struct TaskLoop {
    int task = 0;
    torch::Tensor targets;  // int64 [N] on the device: task_targets of the task's training labels
    Batcher batcher;        // the task's batch order, seeded per task
    at::Generator augmentation;
    int64_t pass_total = 0;    // steps of one pass
    int64_t task_total = 0;    // steps of all passes
    int64_t step_in_task = 0;  // over all passes
};

// The trainer's state for one run. Members, not globals: one object per run.
class StreamTrainer {
public:
    StreamTrainer(const RunRequest& request, RunMethod method, const RunIdentity& identity, EventListener& events,
                  CancelToken& cancel)
        : req_(request),
          config_(request.config),
          identity_(identity),
          events_(events),
          cancel_(cancel),
          method_(std::move(method.method)),
          method_error_(method.error) {}

    void run();

private:
    void describe_stream();
    void build_model();
    void make_context();
    void start_checkpoints();
    void evaluate_random_init();
    void evaluate_seen(int after_task, EvalPhase phase);
    void visit_task_batches(int64_t max_batches, const std::function<void(const TaskBatch&)>& visit);

    void train_task(int t);
    void enter_task(int t);
    void evaluate_before_task(int t);
    void train_passes(int t, const TaskPreparation& prep);
    void train_epoch(TaskLoop& loop, const TaskPreparation& prep, PassOptimizer& opt, int epoch, int64_t& step_in_pass);
    void warn_skipped_fp16_steps(int t, int64_t skipped_before);
    void evaluate_end_of_task(int t, Clock::time_point task_start);
    void write_checkpoint(int t);
    void record_task_cost(int t);

    const RunRequest& req_;
    const ExperimentConfig& config_;
    const RunIdentity& identity_;
    EventListener& events_;
    CancelToken& cancel_;

    torch::Device device_ = torch::kCPU;
    StreamData data_;
    Backbone model_{nullptr};
    TaskHeads heads_{nullptr};
    std::unique_ptr<AdapterMethod> method_;
    std::exception_ptr method_error_;  // set when the method could not be made
    std::unique_ptr<Evaluator> evaluator_;
    std::unique_ptr<MethodContext> ctx_;
    GradScaler scaler_{config_.train.precision == Precision::fp16};  // one loss scale for the whole run
    int64_t step_ = 0;
    int current_task_ = -1;
    int64_t task_learnable_ = 0;               // the method's trained scalars on the current task (largest pass)
    std::string checkpoint_dir_;               // this run's checkpoint directory ("" = checkpoints failed to start)
    int64_t analysis_points_ = 0;              // analysis points emitted through the method context (kept by resume)
    std::unique_ptr<LowLossRegion> low_loss_;  // analysis.low_loss_region (null when off)
};

void StreamTrainer::run() {
    device_ = resolve_device(config_.device);
    enable_fast_fp32_math(device_);
    if (method_error_) std::rethrow_exception(method_error_);
    auto phase_start = Clock::now();
    data_ = build_stream_data(config_, req_.raw, req_.seed);
    log::debug("stream data built in " + std::to_string(seconds_since(phase_start)) + " s");
    describe_stream();
    build_model();
    make_context();
    if (req_.resume) {
        checkpoint_dir_ = req_.resume->run_dir;
    } else {
        if (has_foundation_task(config_))
            events_.on_event(evaluator_->evaluate_foundation(model_, -1, 0, EvalPhase::end_of_task));
        start_checkpoints();
    }
    method_->begin_run(*ctx_);
    int first_task = 0;
    if (const ResumePoint* resume = req_.resume) {
        restore_carried_state(*resume, *method_, *ctx_, *evaluator_);
        step_ = resume->state.step;
        analysis_points_ = resume->state.analysis_points;
        first_task = resume->state.task + 1;
    }
    low_loss_ =
        start_low_loss_region({config_, data_, req_.seed, device_, cancel_}, model_, checkpoint_dir_, first_task - 1);
    for (int t = first_task; t < static_cast<int>(data_.tasks.size()); ++t) train_task(t);
}

void StreamTrainer::describe_stream() {
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
}

// The seeded backbone and the evaluator; then either the checkpoint's weights (resume) or the
// random-init evaluation, the timm weights and the foundation step.
void StreamTrainer::build_model() {
    torch::manual_seed(static_cast<uint64_t>(req_.seed));
    // foundation.source = weights: the weights' own head (e.g. ImageNet-1k's 1000 outputs) is the foundation head.
    const bool weights_foundation = config_.foundation.source == FoundationSource::weights;
    const int64_t head_classes = weights_foundation ? weights_head_classes(config_.backbone)
                                                    : static_cast<int64_t>(data_.spec.foundation_classes.size());
    if (weights_foundation) bind_weights_foundation(data_, head_classes);
    model_ = make_backbone(config_.backbone, head_classes);
    evaluator_ = std::make_unique<Evaluator>(data_, config_.eval, device_, &cancel_);
    evaluator_->set_precision(config_.train.precision);
    heads_ = TaskHeads(config_.backbone.dim, config_.train.head_init);

    if (req_.resume) {
        load_checkpoint_weights(*req_.resume, model_, heads_, device_);
    } else {
        auto phase_start = Clock::now();
        if (config_.eval.random_init) evaluate_random_init();
        log::debug("random-init evaluation in " + std::to_string(seconds_since(phase_start)) + " s");

        if (!config_.backbone.weights.empty()) {
            TimmLoadReport report = load_timm_weights(model_, config_.backbone.weights);
            for (const auto& note : report.notes)
                events_.on_event(Warning{"backbone.weights " + config_.backbone.weights + ": " + note});
        }
        if (trains_foundation(config_)) {
            phase_start = Clock::now();
            prepare_foundation(model_, config_, data_, req_.seed, device_, events_, cancel_);
            log::debug("foundation step in " + std::to_string(seconds_since(phase_start)) + " s");
        }
        model_->to(device_);
    }
    heads_->to(device_);
}

void StreamTrainer::make_context() {
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
                                                         {},
                                                         {}});
    ctx_->evaluate_seen = [this](EvalPhase phase) { evaluate_seen(current_task_, phase); };
    ctx_->warn = [this](const std::string& message) { events_.on_event(Warning{message}); };
    ctx_->emit = [this](const Event& event) {
        if (const auto* done = std::get_if<AnalysisDone>(&event))
            analysis_points_ += static_cast<int64_t>(done->points.size());
        events_.on_event(event);
    };
    ctx_->task_batches = [this](int64_t max_batches, const std::function<void(const TaskBatch&)>& visit) {
        visit_task_batches(max_batches, visit);
    };
    ctx_->evaluate_tasks = [this](const std::vector<int>& tasks) {
        const int seen = std::max(current_task_, 0);
        return evaluator_->evaluate_tasks(model_, heads_, tasks, data_.spec.last_head(seen), current_task_, step_,
                                          EvalPhase::end_of_task);
    };
}

// The run's checkpoint directory and its foundation backbone; a failure only warns (no checkpoints).
void StreamTrainer::start_checkpoints() {
    try {
        checkpoint_dir_ = make_run_checkpoint_dir(resolve_cache_dir(config_), identity_.hash, req_.seed);
        write_foundation_backbone(checkpoint_dir_, model_);
    } catch (const std::exception& e) {
        checkpoint_dir_.clear();
        events_.on_event(Warning{std::string("run checkpoint not written: ") + e.what()});
    }
}

void StreamTrainer::evaluate_random_init() {
    // The model is still at its seeded random init; the heads are the ones the stream will create.
    model_->to(device_);
    TaskHeads random_heads(config_.backbone.dim, config_.train.head_init);
    for (int h = 0; h < data_.spec.num_heads; ++h) {
        const auto& owner =
            *std::find_if(data_.tasks.begin(), data_.tasks.end(), [&](const TaskData& t) { return t.spec.head == h; });
        random_heads->add_head(static_cast<int64_t>(owner.spec.classes.size()), head_seed(req_.seed, h), device_);
    }
    EvaluationDone done;
    for (const auto& task : data_.tasks) {
        auto rows = evaluator_->evaluate_tasks(model_, random_heads, {task.spec.index},
                                               data_.spec.last_head(task.spec.index), -1, 0, EvalPhase::random_init);
        done.rows.insert(done.rows.end(), rows.begin(), rows.end());
    }
    events_.on_event(done);
    model_->to(torch::kCPU);
}

void StreamTrainer::evaluate_seen(int after_task, EvalPhase phase) {
    const int seen = std::max(current_task_, 0);
    EvaluationDone done;
    done.rows = evaluator_->evaluate_tasks(model_, heads_, range_upto(seen), data_.spec.last_head(seen), after_task,
                                           step_, phase);
    EvaluationDone found = evaluator_->evaluate_foundation(model_, after_task, step_, phase);
    done.rows.insert(done.rows.end(), found.rows.begin(), found.rows.end());
    done.class_rows = std::move(found.class_rows);
    events_.on_event(done);
}

// MethodContext::task_batches: the current task's training images in index order, test transform.
void StreamTrainer::visit_task_batches(int64_t max_batches, const std::function<void(const TaskBatch&)>& visit) {
    const TaskData& task = data_.tasks[current_task_];
    if (task.train.size() == 0) return;
    SampleSource& samples = *task.train.samples;
    const torch::Tensor labels = local_labels(task.train.labels, task.spec.classes);
    const int64_t n = task.train.size();
    const int64_t batch_size = std::max<int64_t>(1, config_.train.batch_size);
    std::vector<torch::Tensor> batches;
    for (int64_t begin = 0; begin < n; begin += batch_size) {
        if (max_batches > 0 && static_cast<int64_t>(batches.size()) >= max_batches) break;
        batches.push_back(index_range(begin, std::min(n, begin + batch_size)));
    }
    samples.plan(batches, BatchMode::test, 0);
    for (const auto& index : batches) {
        cancel_.checkpoint();
        visit(TaskBatch{samples.batch_on(index, BatchMode::test, 0, device_),
                        to_device(labels.index_select(0, index), device_)});
    }
}

void StreamTrainer::train_task(int t) {
    const auto task_start = Clock::now();
    enter_task(t);
    if (config_.eval.before_task) evaluate_before_task(t);
    method_->begin_task(*ctx_);
    const TaskPreparation prep = prepare_task(heads_, config_.train, data_.tasks[t].spec.head);
    const int64_t skipped_before = scaler_.skipped_steps();
    train_passes(t, prep);
    method_->end_task(*ctx_);
    warn_skipped_fp16_steps(t, skipped_before);
    evaluate_end_of_task(t, task_start);
    if (low_loss_) ctx_->emit(AnalysisDone{low_loss_->after_task(t, model_)});
    for (auto& s : method_->state(*ctx_)) events_.on_event(s);
    record_task_cost(t);
    write_checkpoint(t);
    events_.on_event(TaskFinished{t, seconds_since(task_start)});
}

// The current task in the trainer and the method context; the task's stream head when it is new.
void StreamTrainer::enter_task(int t) {
    current_task_ = t;
    ctx_->task = t;
    ctx_->step = step_;
    add_task_head(heads_, data_.tasks[t].spec, req_.seed, device_);
}

void StreamTrainer::evaluate_before_task(int t) {
    EvaluationDone before;
    before.rows =
        evaluator_->evaluate_tasks(model_, heads_, {t}, data_.spec.last_head(t), t - 1, step_, EvalPhase::before_task);
    events_.on_event(before);
}

// The task's passes (method.passes_per_task), each with begin_pass and a fresh optimizer, then its epochs.
void StreamTrainer::train_passes(int t, const TaskPreparation& prep) {
    const TaskData& task = data_.tasks[t];
    const uint64_t seed = static_cast<uint64_t>(req_.seed);
    TaskLoop loop{
        t, task_targets(prep, local_labels(task.train.labels, task.spec.classes).to(device_)),
        Batcher(task.train.size(), config_.train.batch_size,
                derived_seed(seed, SeedStream::task_batches, static_cast<uint64_t>(t))),
        at::detail::createCPUGenerator(derived_seed(seed, SeedStream::task_augmentation, static_cast<uint64_t>(t)))};
    const TrainConfig train = task_train_config(config_.train, task.spec);  // the task's own epochs
    loop.pass_total = pass_steps(train, task.train.size());
    const int passes = std::max(1, method_->passes_per_task());
    loop.task_total = loop.pass_total * passes;
    task_learnable_ = 0;
    for (int pass = 0; pass < passes; ++pass) {
        method_->begin_pass(*ctx_, pass);
        PassOptimizer opt = make_pass_optimizer(*method_, *ctx_, prep, config_.train.optimizer);
        if (pass == 0) events_.on_event(TaskStarted{t, loop.task_total, count_parameters(opt.groups)});
        const std::vector<ParamGroup> method_groups(opt.groups.begin(), opt.groups.end() - 1);  // heads last
        task_learnable_ = std::max(task_learnable_, count_parameters(method_groups));
        model_->train();
        int64_t step_in_pass = 0;
        for (int epoch_in_pass = 0; epoch_in_pass < train.epochs && step_in_pass < loop.pass_total; ++epoch_in_pass)
            train_epoch(loop, prep, opt, pass * train.epochs + epoch_in_pass,  // epochs count over passes
                        step_in_pass);
    }
}

// One epoch of a pass: its batches (planned ahead for streamed sources; the seed fixes their random
// transforms), a train_step each until the pass's steps are done, the step and epoch events.
void StreamTrainer::train_epoch(TaskLoop& loop, const TaskPreparation& prep, PassOptimizer& opt, int epoch,
                                int64_t& step_in_pass) {
    const int t = loop.task;
    SampleSource& samples = *data_.tasks[t].train.samples;
    const bool augment = config_.data.augment.horizontal_flip || config_.data.augment.random_crop_padding > 0;
    StepLossLog step_log(loss_readback_steps(config_.train, device_), events_);
    const std::vector<torch::Tensor> batches = loop.batcher.epoch(epoch);
    const uint64_t batch_seed = mix_seed(
        derived_seed(static_cast<uint64_t>(req_.seed), SeedStream::task_batch_transforms, static_cast<uint64_t>(t)),
        epoch);
    const int64_t planned = std::min<int64_t>(static_cast<int64_t>(batches.size()), loop.pass_total - step_in_pass);
    samples.plan(std::vector<torch::Tensor>(batches.begin(), batches.begin() + planned), BatchMode::train, batch_seed);
    const TrainingParts parts{*ctx_, *method_, scaler_};
    for (const auto& index_cpu : batches) {
        if (step_in_pass >= loop.pass_total) break;
        if (cancel_.cancelled() || cancel_.paused()) step_log.flush();  // report what ran before stopping
        cancel_.checkpoint();
        const auto step_start = Clock::now();
        auto index = to_device(index_cpu, device_);
        const auto fetch_start = Clock::now();
        torch::Tensor x = samples.batch_on(index_cpu, BatchMode::train, batch_seed, device_);
        TrainingBatchWait& wait = this_thread_training_batch_wait();  // the data path's share of the loop
        wait.seconds += std::chrono::duration<double>(Clock::now() - fetch_start).count();
        ++wait.batches;
        if (augment) x = augment_batch(x, config_.data.augment, loop.augmentation);
        const double lr =
            opt.optimizer.set_lr_multiplier(lr_multiplier(config_.train.schedule, step_in_pass, loop.pass_total));
        torch::Tensor loss;
        std::vector<PendingMethodState> states;
        double ms = 0.0;
        {
            const TrainingStepScope in_step;  // no host read until the step's records are taken (host_read.h)
            loss = train_step(parts, prep, opt, x, loop.targets.index_select(0, index));
            ++step_in_pass;
            ++loop.step_in_task;
            ++step_;
            ctx_->step = step_;
            ms = std::chrono::duration<double, std::milli>(Clock::now() - step_start).count();
            states = method_->step_state(*ctx_);
        }
        // The loss and the method's records, read back together per block; the NaN/Inf check.
        step_log.record(StepMetrics{t, epoch, step_, loop.step_in_task, 0.0, lr, ms}, loss, std::move(states));
        if (config_.eval.every_steps > 0 && loop.step_in_task % config_.eval.every_steps == 0 &&
            loop.step_in_task < loop.task_total) {
            step_log.flush();
            evaluate_seen(t - 1, EvalPhase::in_task);
        }
    }
    step_log.flush();
    events_.on_event(EpochFinished{t, epoch, step_log.take_mean()});
}

void StreamTrainer::warn_skipped_fp16_steps(int t, int64_t skipped_before) {
    if (scaler_.skipped_steps() <= skipped_before) return;
    events_.on_event(Warning{
        "task " + std::to_string(t) + ": " + std::to_string(scaler_.skipped_steps() - skipped_before) +
        " fp16 steps skipped for inf/NaN gradients (loss scale now " + std::to_string(scaler_.scale_value()) + ")"});
}

void StreamTrainer::evaluate_end_of_task(int t, Clock::time_point task_start) {
    if (method_->evaluates_end_of_task()) return;  // its end_task recorded the task's end_of_task rows
    const auto eval_start = Clock::now();
    evaluate_seen(t, EvalPhase::end_of_task);
    log::debug("task " + std::to_string(t) + ": training " + std::to_string(seconds_since(task_start)) +
               " s, end-of-task evaluation " + std::to_string(seconds_since(eval_start)) + " s");
}

// The task's cost (SD-LoRA's Table 5; engine/eval/cost_table.h), once per task after end_task and
// state(): one image's inference GFLOPs with every stream head so far (terms folded, as the evaluation
// runs), the method's trained scalars (heads excluded) and what it keeps (AdapterMethod::storage).
void StreamTrainer::record_task_cost(int t) {
    const int last = heads_->size() - 1;
    const int64_t outputs = last >= 0 ? heads_->offset(last) + heads_->classes(last) : 0;
    const MethodStorage kept = method_->storage(*ctx_);
    const std::pair<StateKey, double> cost[] = {
        {StateKey::inference_gflops, inference_flops(*model_, outputs).gflops()},
        {StateKey::trainable_params, static_cast<double>(method_->learnable_parameters(*ctx_, task_learnable_))},
        {StateKey::stored_params, static_cast<double>(kept.stored_params)},
        {StateKey::stored_features, static_cast<double>(kept.stored_features)}};
    for (const auto& [key, value] : cost) events_.on_event(MethodState{t, step_, key, {value}});
}

void StreamTrainer::write_checkpoint(int t) {
    if (checkpoint_dir_.empty()) return;
    try {
        AdapterSet adapters = method_->adapter_set(*ctx_);
        nlohmann::json tasks = nlohmann::json::array();
        for (int j = 0; j <= t; ++j)
            tasks.push_back({{"task", j},
                             {"classes", data_.tasks[j].spec.classes},
                             {"domain", data_.tasks[j].spec.domain},
                             {"head", data_.tasks[j].spec.head}});
        adapters.meta["config_hash"] = identity_.hash;
        adapters.meta["after_task"] = t;
        adapters.meta["tasks"] = tasks;
        adapters.meta["method_state"] = method_->describe(*ctx_);
        ArtifactWritten written = write_task_checkpoint(
            checkpoint_dir_, {t, method_->name(), identity_.hash, req_.seed}, model_, heads_, adapters);
        try {
            write_resume_files(written.path, capture_resume_state(t, step_, identity_.hash, req_.seed, *method_, *ctx_,
                                                                  *evaluator_, analysis_points_));
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
    return pass_steps(config.train, train_samples_per_task) * config.stream.tasks;
}

RunStatus run_stream(const RunRequest& request, EventListener& events, CancelToken& cancel) {
    const auto start = Clock::now();
    const ExperimentConfig& config = request.config;
    const RunIdentity identity = run_identity(config, request.seed);
    RunMethod method = make_run_method(config);
    RunStarted started;
    started.run_index = request.run_index;
    started.seed = request.seed;
    started.method = config.method.name;
    started.config_json = identity.config.dump();
    started.config_hash = identity.hash;
    try {
        started.device = resolve_device(config.device).str();
    } catch (const std::exception&) {
        started.device = config.device;
    }
    started.torch_version = torch_version();
    started.num_tasks = config.stream.tasks;
    started.facts = run_facts(config);
    const int passes = method.method ? std::max(1, method.method->passes_per_task()) : 1;
    if (config.stream.type == StreamType::datasets) {
        // Each data set's own training images and epochs (stream_data.h); unknown (0) when they cannot be read.
        try {
            const std::vector<int64_t> sizes = task_train_sizes(config, request.raw, request.seed);
            const StreamSpec spec = make_stream_spec(config, request.seed, 0);
            for (size_t t = 0; t < sizes.size() && t < spec.tasks.size(); ++t)
                started.total_steps += passes * pass_steps(task_train_config(config.train, spec.tasks[t]), sizes[t]);
        } catch (const std::exception&) {
            started.total_steps = 0;
        }
    } else {
        started.total_steps =
            config.data.train_per_class > 0
                ? passes * planned_stream_steps(config, config.data.train_per_class * config.stream.classes_per_task)
                : 0;
    }
    events.on_event(started);

    RunStatus status = RunStatus::finished;
    std::string message;
    try {
        StreamTrainer(request, std::move(method), identity, events, cancel).run();
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
