#include "engine/methods/merged_lora.h"

#include <set>

#include <torch/torch.h>

#include "engine/methods/baselines.h"
#include "engine/methods/method_state_io.h"
#include "engine/vocabulary/analysis_keys.h"

namespace lorica {
namespace {

constexpr const char* kTag = "merged-lora";

}  // namespace

MergedLoRA::MergedLoRA(const ExperimentConfig& config, std::string registered_name)
    : name_(std::move(registered_name)), options_(MergedLoRAOptions::from_config(config, name_)) {}

MergedLoRA::MergedLoRA(std::string registered_name, MergedLoRAOptions options)
    : name_(std::move(registered_name)), options_(std::move(options)) {}

const char* MergedLoRA::term_tag() { return kTag; }

double MergedLoRA::scale(const ExperimentConfig& config) const {
    if (options_.update == MergedUpdate::full) return 1.0;
    const double alpha =
        options_.alpha_per_rank > 0 ? options_.alpha_per_rank * config.method.rank : config.method.alpha;
    return alpha / config.method.rank;
}

void MergedLoRA::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
}

void MergedLoRA::begin_task(MethodContext& ctx) {
    trainable_.clear();
    trainable_count_ = 0;
    const double s = scale(ctx.config);
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(ctx.device);
    for (auto& site : sites_) {
        LowRankTerm term;
        if (options_.update == MergedUpdate::full) {
            term.A = torch::eye(site.in, opts);
            term.B = torch::zeros({site.rows, site.in}, opts).requires_grad_(true);
            term.scale = 1.0;
            term.row_offset = site.row_offset;
            term.tag = kTag;
        } else {
            term = LowRankTerm::lora(ctx.config.method.rank, site.in, site.rows, site.row_offset, s, kTag, ctx.device);
            term.dropout = options_.dropout;
        }
        term.task = ctx.task;
        site.layer->add_term(term);
        if (term.A.requires_grad()) trainable_.push_back(term.A);
        trainable_.push_back(term.B);
    }
    for (const auto& p : trainable_) trainable_count_ += p.numel();
}

std::vector<ParamGroup> MergedLoRA::parameter_groups(MethodContext& ctx) {
    return {ParamGroup{"adapter", trainable_, ctx.config.train.optimizer.lr, ctx.config.train.optimizer.weight_decay}};
}

void MergedLoRA::end_task(MethodContext& ctx) {
    const double c = merge_coefficient(ctx);  // 1 for merged LoRA: the update as trained
    for (const auto& site : sites_)
        for (const auto& t : site.layer->terms())
            if (t.tag == kTag && t.row_offset == site.row_offset && t.rows() == site.rows)
                kept_.push_back({ctx.task, site.name(), t.row_offset, t.A.detach().clone(), t.B.detach().clone(),
                                 c == 1.0 ? t.scale : c * t.scale});
    std::set<LoRALinearImpl*> done;
    torch::NoGradGuard no_grad;
    for (auto& site : sites_) {
        if (!done.insert(site.layer.get()).second) continue;
        if (options_.after_task == AfterTask::merge) {
            // W ← W + Σ (this task's terms); other methods' terms are not ours to fold.
            for (const auto& t : site.layer->terms()) {
                if (t.tag != kTag) continue;
                site.layer->matrix().slice(0, t.row_offset, t.row_offset + t.rows()).add_(t.delta(), c);
            }
        }
        site.layer->remove_terms(kTag);
    }
    trainable_.clear();
}

std::vector<MethodState> MergedLoRA::state(const MethodContext& ctx) const { return {}; }

AdapterSet MergedLoRA::adapter_set(const MethodContext& ctx) const {
    AdapterSet set;
    set.method = name_;
    set.base = "foundation";
    set.meta = {{"after_task", name_of(kAfterTaskNames, options_.after_task)},
                {"update", name_of(kMergedUpdateNames, options_.update)}};
    for (const TaskFactors& f : kept_) {
        const AdapterSite* site = nullptr;
        for (const auto& s : sites_)
            if (s.name() == f.site) site = &s;
        if (!site) continue;
        AdapterTerm t;
        t.module = site->module;
        t.out_features = site->layer->options.out_features();
        t.row_offset = f.row_offset;
        t.A = f.A.detach().to(torch::kCPU, torch::kFloat32).clone();
        t.B = f.B.detach().to(torch::kCPU, torch::kFloat32).clone();
        t.scale = f.scale;
        t.task = f.task;
        t.tag = "merged-lora-task" + std::to_string(f.task);
        t.frozen = true;
        set.terms.push_back(std::move(t));
    }
    return set;
}

StateSnapshot MergedLoRA::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    nlohmann::json kept = nlohmann::json::array();
    for (size_t i = 0; i < kept_.size(); ++i) {
        const TaskFactors& f = kept_[i];
        kept.push_back({{"task", f.task}, {"site", f.site}, {"row_offset", f.row_offset}, {"scale", f.scale}});
        state.put("kept" + std::to_string(i) + ".A", f.A);
        state.put("kept" + std::to_string(i) + ".B", f.B);
    }
    state.meta = {{"kept", kept}, {"trainable_count", trainable_count_}};
    return state;
}

void MergedLoRA::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    kept_.clear();
    for (const auto& rec : meta_at(state, "kept")) {
        const std::string key = "kept" + std::to_string(kept_.size());
        TaskFactors f;
        f.task = rec.at("task").get<int>();
        f.site = rec.at("site").get<std::string>();
        f.row_offset = rec.at("row_offset").get<int64_t>();
        f.scale = rec.at("scale").get<double>();
        f.A = state.get(key + ".A", ctx.device);
        f.B = state.get(key + ".B", ctx.device);
        kept_.push_back(std::move(f));
    }
    trainable_count_ = meta_at(state, "trainable_count").get<int64_t>();
}

nlohmann::json MergedLoRA::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    nlohmann::json d = {{"method", name_},
                        {"sites", sites},
                        {"rank", options_.update == MergedUpdate::full ? 0 : ctx.config.method.rank},
                        {"scale", scale(ctx.config)},
                        {"after_task", name_of(kAfterTaskNames, options_.after_task)},
                        {"update", name_of(kMergedUpdateNames, options_.update)},
                        {"kept_tasks", kept_.empty() ? 0 : kept_.back().task + 1},
                        {"trainable_parameters", trainable_count_}};
    if (options_.dropout > 0.0) d["dropout"] = options_.dropout;  // absent = 0, as before the option existed
    return d;
}

// ---- factories (registered_methods.def) -------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_merged_lora(const ExperimentConfig& c) {
    return std::make_unique<MergedLoRA>(c, "merged-lora");
}
std::unique_ptr<AdapterMethod> make_merged_lora_ft(const ExperimentConfig& c) {
    return std::make_unique<MergedLoRA>(c, "merged-lora-ft");
}

}  // namespace lorica
