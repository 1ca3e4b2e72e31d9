#include "engine/methods/ewc_lora.h"

#include <map>

#include <torch/torch.h>

#include "engine/methods/baselines.h"
#include "engine/methods/method_state_io.h"
#include "engine/vocabulary/analysis_keys.h"

namespace lorica {
namespace {

constexpr const char* kEWCLoRATag = "ewc-lora";
constexpr const char* kEWCLoRAAccumulatedTag = "ewc-lora-accumulated";  // fold = factor-sum

// The current task's stream head: the highest head the trainer unfroze for it (prepare_task), or the
// newest head when none is trainable (a method test that trains no head).
int ewc_lora_current_head(TaskHeads& heads) {
    for (int h = heads->size() - 1; h >= 0; --h)
        if (heads->head(h)->weight.requires_grad()) return h;
    return heads->size() - 1;
}

// Sets requires_grad on the full weights of the given layers for a scope (the Fisher's gradient with
// respect to W), and clears it again on leaving, also by an exception.
class EWCLoRAWeightGradScope {
public:
    explicit EWCLoRAWeightGradScope(std::vector<torch::Tensor> weights) : weights_(std::move(weights)) {
        for (auto& w : weights_) w.requires_grad_(true);
    }
    ~EWCLoRAWeightGradScope() {
        for (auto& w : weights_) w.requires_grad_(false);
    }
    EWCLoRAWeightGradScope(const EWCLoRAWeightGradScope&) = delete;
    EWCLoRAWeightGradScope& operator=(const EWCLoRAWeightGradScope&) = delete;

private:
    std::vector<torch::Tensor> weights_;
};

// Puts the backbone in evaluation mode for a scope (the released FisherComputer's model.eval()) and
// gives it back its previous mode, also when the scope is left by an exception (a cancelled pass).
class EWCLoRAEvalScope {
public:
    explicit EWCLoRAEvalScope(Backbone model) : model_(std::move(model)), was_training_(model_->is_training()) {
        model_->eval();
    }
    ~EWCLoRAEvalScope() { model_->train(was_training_); }
    EWCLoRAEvalScope(const EWCLoRAEvalScope&) = delete;
    EWCLoRAEvalScope& operator=(const EWCLoRAEvalScope&) = delete;

private:
    Backbone model_;
    bool was_training_;
};

}  // namespace

EWCLoRA::EWCLoRA(const ExperimentConfig& config) : options_(EWCLoRAOptions::from_config(config)) {}

void EWCLoRA::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
}

void EWCLoRA::begin_task(MethodContext& ctx) {
    pair_.clear();
    trainable_count_ = 0;
    const double s = ctx.config.method.alpha / ctx.config.method.rank;
    for (auto& site : sites_) {
        LowRankTerm term =
            LowRankTerm::lora(ctx.config.method.rank, site.in, site.rows, site.row_offset, s, kEWCLoRATag, ctx.device);
        term.task = ctx.task;
        pair_.push_back(site.layer->add_term(term));
        trainable_count_ += term.A.numel() + term.B.numel();
    }
}

std::vector<ParamGroup> EWCLoRA::parameter_groups(MethodContext& ctx) {
    std::vector<torch::Tensor> params;
    for (const auto& t : pair_) {
        params.push_back(t.A);
        params.push_back(t.B);
    }
    return {ParamGroup{"adapter", params, ctx.config.train.optimizer.lr, ctx.config.train.optimizer.weight_decay}};
}

torch::Tensor EWCLoRA::regularizer(MethodContext& ctx) {
    if (omega_.empty() || options_.lambda == 0.0 || pair_.size() != omega_.size()) return {};
    torch::Tensor sum;
    for (size_t i = 0; i < pair_.size(); ++i) {
        torch::Tensor p = (omega_[i] * pair_[i].delta().square()).sum();
        sum = sum.defined() ? sum + p : p;
    }
    return sum * (options_.lambda / 2.0);
}

std::vector<torch::Tensor> EWCLoRA::fisher(MethodContext& ctx) const {
    if (!ctx.task_batches) return {};
    // One gradient per distinct layer (k and v of a fused qkv share it), sliced per site.
    std::vector<const LoRALinearImpl*> layers;
    std::vector<torch::Tensor> weights;
    std::vector<size_t> layer_of_site;
    for (const auto& site : sites_) {
        size_t k = 0;
        while (k < layers.size() && layers[k] != site.layer.get()) ++k;
        if (k == layers.size()) {
            layers.push_back(site.layer.get());
            weights.push_back(site.layer->weight);
        }
        layer_of_site.push_back(k);
    }
    std::vector<torch::Tensor> fisher;
    for (const auto& site : sites_)
        fisher.push_back(torch::zeros({site.rows, site.in}, site.layer->weight.options().dtype(torch::kFloat32)));
    int64_t images = 0;
    const int head = ewc_lora_current_head(ctx.heads);
    EWCLoRAEvalScope eval_mode(ctx.model);
    EWCLoRAWeightGradScope grad_scope(weights);
    ctx.task_batches(options_.fisher_batches, [&](const TaskBatch& batch) {
        const torch::Tensor logits = ctx.heads->logits_of(ctx.model->features(batch.images), head);
        const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.labels);
        const std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, weights);
        const int64_t n = batch.images.size(0);
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < sites_.size(); ++i) {
            const AdapterSite& site = sites_[i];
            const torch::Tensor g =
                grads[layer_of_site[i]]
                    .reshape({site.layer->options.out_features(), site.layer->options.in_features()})
                    .slice(0, site.row_offset, site.row_offset + site.rows)
                    .to(torch::kFloat32);
            fisher[i].add_(g.square() * static_cast<double>(n));
        }
        images += n;
    });
    if (images > 0)
        for (auto& f : fisher) f.div_(static_cast<double>(images));
    return fisher;
}

void EWCLoRA::end_task(MethodContext& ctx) {
    std::vector<torch::Tensor> f = fisher(ctx);
    if (f.empty()) {
        if (ctx.warn) ctx.warn("ewc-lora: no task data to compute the Fisher from; the importance is unchanged");
    } else {
        torch::NoGradGuard no_grad;
        if (omega_.empty()) {
            omega_ = std::move(f);
        } else {
            for (size_t i = 0; i < omega_.size(); ++i) omega_[i] = omega_[i] * options_.gamma + f[i];
        }
    }
    {
        torch::NoGradGuard no_grad;
        const bool first_sum = accumulated_.empty();
        for (size_t i = 0; i < sites_.size(); ++i) {
            AdapterSite& site = sites_[i];
            if (options_.fold == EWCLoRAFold::weights) {
                site.layer->matrix().slice(0, site.row_offset, site.row_offset + site.rows).add_(pair_[i].delta());
            } else if (first_sum) {
                LowRankTerm sum = pair_[i];
                sum.A = pair_[i].A.detach().clone();
                sum.B = pair_[i].B.detach().clone();
                sum.tag = kEWCLoRAAccumulatedTag;
                sum.task = -1;
                accumulated_.push_back(site.layer->add_term(sum));
            } else {
                accumulated_[i].A.add_(pair_[i].A);
                accumulated_[i].B.add_(pair_[i].B);
            }
        }
        for (auto& site : sites_) site.layer->remove_terms(kEWCLoRATag);
    }
    pair_.clear();
    ++tasks_folded_;
}

MethodStorage EWCLoRA::storage(const MethodContext& ctx) const {
    MethodStorage out;
    for (const auto& o : omega_) out.stored_params += o.numel();
    for (const auto& t : accumulated_) out.stored_params += t.A.numel() + t.B.numel();
    return out;
}

nlohmann::json EWCLoRA::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    return {{"method", name()},
            {"sites", sites},
            {"rank", ctx.config.method.rank},
            {"scale", ctx.config.method.alpha / ctx.config.method.rank},
            {"lambda", options_.lambda},
            {"gamma", options_.gamma},
            {"fisher_batches", options_.fisher_batches},
            {"fold", name_of(kEWCLoRAFoldNames, options_.fold)},
            {"tasks_folded", tasks_folded_},
            {"trainable_parameters", trainable_count_}};
}

StateSnapshot EWCLoRA::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    for (size_t i = 0; i < omega_.size(); ++i) state.put("omega." + std::to_string(i), omega_[i]);
    for (size_t i = 0; i < accumulated_.size(); ++i) {
        state.put("accumulated." + std::to_string(i) + ".A", accumulated_[i].A);
        state.put("accumulated." + std::to_string(i) + ".B", accumulated_[i].B);
    }
    state.meta = {{"tasks_folded", tasks_folded_},
                  {"trainable_count", trainable_count_},
                  {"importance_sites", static_cast<int64_t>(omega_.size())},
                  {"accumulated_sites", static_cast<int64_t>(accumulated_.size())}};
    return state;
}

void EWCLoRA::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    tasks_folded_ = meta_at(state, "tasks_folded").get<int>();
    trainable_count_ = meta_at(state, "trainable_count").get<int64_t>();
    restore_accumulated(ctx, state);
    const auto count = meta_at(state, "importance_sites").get<int64_t>();
    omega_.clear();
    if (count == 0) return;
    if (count != static_cast<int64_t>(sites_.size()))
        throw std::runtime_error("ewc-lora state: importance of " + std::to_string(count) + " sites, the model has " +
                                 std::to_string(sites_.size()));
    for (size_t i = 0; i < sites_.size(); ++i)
        omega_.push_back(get_shaped(state, "omega." + std::to_string(i), torch::empty({sites_[i].rows, sites_[i].in}))
                             .to(ctx.device));
}

void EWCLoRA::restore_accumulated(MethodContext& ctx, const StateSnapshot& state) {
    for (auto& site : sites_) site.layer->remove_terms(kEWCLoRAAccumulatedTag);
    accumulated_.clear();
    const auto count = state.meta.value("accumulated_sites", int64_t{0});
    if (count == 0) return;
    if (count != static_cast<int64_t>(sites_.size()))
        throw std::runtime_error("ewc-lora state: accumulated pairs of " + std::to_string(count) +
                                 " sites, the model has " + std::to_string(sites_.size()));
    const int64_t rank = ctx.config.method.rank;
    for (size_t i = 0; i < sites_.size(); ++i) {
        AdapterSite& site = sites_[i];
        const std::string key = "accumulated." + std::to_string(i);
        LowRankTerm sum;
        sum.A = get_shaped(state, key + ".A", torch::empty({rank, site.in})).to(ctx.device);
        sum.B = get_shaped(state, key + ".B", torch::empty({site.rows, rank})).to(ctx.device);
        sum.scale = ctx.config.method.alpha / ctx.config.method.rank;
        sum.row_offset = site.row_offset;
        sum.tag = kEWCLoRAAccumulatedTag;
        accumulated_.push_back(site.layer->add_term(sum));
    }
}

// ---- factory (registered_methods.def) ---------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_ewc_lora(const ExperimentConfig& c) { return std::make_unique<EWCLoRA>(c); }

}  // namespace lorica
