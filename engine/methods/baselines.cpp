#include "engine/methods/baselines.h"

#include <torch/torch.h>

#include "engine/methods/method_state_io.h"

namespace lorica {

void freeze_backbone(Backbone model) {
    for (auto& p : model->parameters()) p.set_requires_grad(false);
}

int64_t count_parameters(const std::vector<ParamGroup>& groups) {
    int64_t n = 0;
    for (const auto& g : groups)
        for (const auto& p : g.params) n += p.numel();
    return n;
}

MethodStorage AdapterMethod::storage(const MethodContext& ctx) const {
    const AdapterSet set = adapter_set(ctx);
    MethodStorage out;
    for (const AdapterTerm& t : set.terms)
        out.stored_params += t.A.numel() + t.B.numel() + (t.mask.defined() ? t.mask.numel() : 0);
    out.stored_params += static_cast<int64_t>(set.magnitudes.size());
    return out;
}

void AdapterMethod::merge_for_inference(MethodContext& ctx) {
    for (auto& [name, layer] : ctx.model->lora_layers()) layer->merge_terms();
}

SequentialLoRA::SequentialLoRA(const ExperimentConfig& config) {
    const SequentialLoRAOptions options = SequentialLoRAOptions::from_config(config);
    interpolation_points_ = options.interpolation_points;
    dropout_ = options.dropout;
}

void SequentialLoRA::end_task(MethodContext& ctx) {
    if (interpolation_points_ <= 0) return;
    if (ctx.task == 0) after_task0_ = snapshot_merged_weights(ctx.model);
    if (ctx.task == 1 && ctx.evaluate_tasks)
        run_merge_interpolation(ctx, after_task0_, snapshot_merged_weights(ctx.model),
                                MergeInterpolationOptions{interpolation_points_, {0, 1}});
}

void SequentialLoRA::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
    const double scale = ctx.config.method.alpha / ctx.config.method.rank;
    for (auto& site : sites_) {
        auto& term = site.layer->add_term(
            LowRankTerm::lora(ctx.config.method.rank, site.in, site.rows, site.row_offset, scale, "lora", ctx.device));
        term.dropout = dropout_;
        factors_.push_back(term.A);
        factors_.push_back(term.B);
    }
}

std::vector<ParamGroup> SequentialLoRA::parameter_groups(MethodContext& ctx) {
    return {ParamGroup{"adapter", factors_, ctx.config.train.optimizer.lr, ctx.config.train.optimizer.weight_decay}};
}

nlohmann::json SequentialLoRA::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    return {{"sites", sites}, {"rank", ctx.config.method.rank}, {"alpha", ctx.config.method.alpha}};
}

StateSnapshot SequentialLoRA::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    state.meta = {{"sites", sites}};
    for (size_t i = 0; i < sites_.size(); ++i) {
        state.put("A." + std::to_string(i), factors_[2 * i]);
        state.put("B." + std::to_string(i), factors_[2 * i + 1]);
    }
    // Only the merge interpolation at task 1's end reads it: kept until then (a ViT-B/16 snapshot is ~85 MB).
    if (ctx.task < 1) put_weight_snapshot(state, "after_task0.", after_task0_);
    return state;
}

void SequentialLoRA::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    if (meta_at(state, "sites").size() != sites_.size())
        throw std::runtime_error("the method state has " + std::to_string(meta_at(state, "sites").size()) +
                                 " adapted sites, the model " + std::to_string(sites_.size()));
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < sites_.size(); ++i) {
        factors_[2 * i].copy_(get_shaped(state, "A." + std::to_string(i), factors_[2 * i]));
        factors_[2 * i + 1].copy_(get_shaped(state, "B." + std::to_string(i), factors_[2 * i + 1]));
    }
    after_task0_ = get_weight_snapshot(state, "after_task0.", ctx.device);
}

FullFinetune::FullFinetune(const ExperimentConfig& config) { expect_no_method_options(config); }

void FullFinetune::begin_task(MethodContext& ctx) {
    freeze_backbone(ctx.model);  // the foundation head stays frozen
    for (auto& p : ctx.model->backbone_parameters()) p.set_requires_grad(true);
}

std::vector<ParamGroup> FullFinetune::parameter_groups(MethodContext& ctx) {
    return {ParamGroup{"backbone", ctx.model->backbone_parameters(), ctx.config.train.optimizer.lr,
                       ctx.config.train.optimizer.weight_decay}};
}

StateSnapshot FullFinetune::save_state(const MethodContext& ctx) const { return {}; }
void FullFinetune::restore_state(MethodContext& ctx, const StateSnapshot& state) {}

FrozenBackbone::FrozenBackbone(const ExperimentConfig& config) { expect_no_method_options(config); }

void FrozenBackbone::begin_task(MethodContext& ctx) { freeze_backbone(ctx.model); }

StateSnapshot FrozenBackbone::save_state(const MethodContext& ctx) const { return {}; }
void FrozenBackbone::restore_state(MethodContext& ctx, const StateSnapshot& state) {}

// ---- factories (registered_methods.def) -------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_sequential_lora(const ExperimentConfig& c) {
    return std::make_unique<SequentialLoRA>(c);
}
std::unique_ptr<AdapterMethod> make_full_finetune(const ExperimentConfig& c) {
    return std::make_unique<FullFinetune>(c);
}
std::unique_ptr<AdapterMethod> make_frozen_backbone(const ExperimentConfig& c) {
    return std::make_unique<FrozenBackbone>(c);
}

}  // namespace lorica
