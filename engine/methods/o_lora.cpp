#include "engine/methods/o_lora.h"

#include <torch/torch.h>

#include "engine/methods/baselines.h"
#include "engine/methods/method_state_io.h"
#include "engine/vocabulary/analysis_keys.h"

namespace lorica {
namespace {

std::string o_lora_task_tag(int task) { return "o-lora-task" + std::to_string(task); }

}  // namespace

OLoRA::OLoRA(const ExperimentConfig& config) : options_(OLoRAOptions::from_config(config)) {}

void OLoRA::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
    old_a_.assign(sites_.size(), torch::Tensor());
}

void OLoRA::begin_task(MethodContext& ctx) {
    current_.clear();
    trainable_count_ = 0;
    const double s = ctx.config.method.alpha / ctx.config.method.rank;
    for (auto& site : sites_) {
        LowRankTerm term = LowRankTerm::lora(ctx.config.method.rank, site.in, site.rows, site.row_offset, s,
                                             o_lora_task_tag(ctx.task), ctx.device);
        term.task = ctx.task;
        current_.push_back(site.layer->add_term(term));
        trainable_count_ += term.A.numel() + term.B.numel();
    }
}

std::vector<ParamGroup> OLoRA::parameter_groups(MethodContext& ctx) {
    std::vector<torch::Tensor> params;
    for (const auto& t : current_) {
        params.push_back(t.A);
        params.push_back(t.B);
    }
    return {ParamGroup{"adapter", params, ctx.config.train.optimizer.lr, ctx.config.train.optimizer.weight_decay}};
}

torch::Tensor OLoRA::regularizer(MethodContext& ctx) {
    torch::Tensor loss;
    auto add = [&loss](const torch::Tensor& t) { loss = loss.defined() ? loss + t : t; };
    if (options_.lambda_orth > 0.0)
        for (size_t i = 0; i < current_.size(); ++i)
            if (old_a_[i].defined()) add(old_a_[i].matmul(current_[i].A.t()).abs().sum() * options_.lambda_orth);
    if (options_.lambda_l2 > 0.0)
        for (const auto& t : current_) add((t.A.norm() + t.B.norm()) * options_.lambda_l2);
    return loss;
}

void OLoRA::end_task(MethodContext& ctx) {
    for (size_t i = 0; i < current_.size(); ++i) {
        current_[i].A.requires_grad_(false);
        current_[i].B.requires_grad_(false);
        kept_.push_back({ctx.task, i, current_[i]});
    }
    current_.clear();
    rebuild_old_a();
}

void OLoRA::rebuild_old_a() {
    std::vector<std::vector<torch::Tensor>> per_site(sites_.size());
    for (const auto& k : kept_) per_site[k.site].push_back(k.term.A.detach());
    old_a_.assign(sites_.size(), torch::Tensor());
    for (size_t i = 0; i < sites_.size(); ++i)
        if (!per_site[i].empty()) old_a_[i] = torch::cat(per_site[i], 0);
}

MethodStorage OLoRA::storage(const MethodContext& ctx) const {
    MethodStorage out;
    for (const auto& k : kept_) out.stored_params += k.term.A.numel() + k.term.B.numel();
    return out;
}

nlohmann::json OLoRA::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    return {{"method", name()},
            {"sites", sites},
            {"rank", ctx.config.method.rank},
            {"scale", ctx.config.method.alpha / ctx.config.method.rank},
            {"lambda_orth", options_.lambda_orth},
            {"lambda_l2", options_.lambda_l2},
            {"kept_tasks", kept_.empty() ? 0 : kept_.back().task + 1},
            {"trainable_parameters", trainable_count_}};
}

StateSnapshot OLoRA::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    nlohmann::json kept = nlohmann::json::array();
    for (size_t i = 0; i < kept_.size(); ++i) {
        kept.push_back(
            {{"task", kept_[i].task}, {"site", sites_[kept_[i].site].name()}, {"scale", kept_[i].term.scale}});
        state.put("kept" + std::to_string(i) + ".A", kept_[i].term.A);
        state.put("kept" + std::to_string(i) + ".B", kept_[i].term.B);
    }
    state.meta = {{"kept", kept}, {"trainable_count", trainable_count_}};
    return state;
}

void OLoRA::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    for (auto& site : sites_)
        for (const auto& k : kept_) site.layer->remove_terms(o_lora_task_tag(k.task));
    kept_.clear();
    const int64_t rank = ctx.config.method.rank;
    for (const auto& rec : meta_at(state, "kept")) {
        const std::string key = "kept" + std::to_string(kept_.size());
        const std::string site_name = rec.at("site").get<std::string>();
        size_t site = 0;
        while (site < sites_.size() && sites_[site].name() != site_name) ++site;
        if (site == sites_.size()) throw std::runtime_error("o-lora state: no adapted site '" + site_name + "'");
        AdapterSite& s = sites_[site];
        LowRankTerm term;
        term.A = get_shaped(state, key + ".A", torch::empty({rank, s.in})).to(ctx.device);
        term.B = get_shaped(state, key + ".B", torch::empty({s.rows, rank})).to(ctx.device);
        term.scale = rec.at("scale").get<double>();
        term.row_offset = s.row_offset;
        term.task = rec.at("task").get<int>();
        term.tag = o_lora_task_tag(term.task);
        kept_.push_back({term.task, site, s.layer->add_term(term)});
    }
    trainable_count_ = meta_at(state, "trainable_count").get<int64_t>();
    rebuild_old_a();
}

// ---- factory (registered_methods.def) ---------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_o_lora(const ExperimentConfig& c) { return std::make_unique<OLoRA>(c); }

}  // namespace lorica
