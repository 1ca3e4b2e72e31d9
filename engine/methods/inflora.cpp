#include "engine/methods/inflora.h"

#include <stdexcept>

#include <torch/torch.h>

#include "engine/methods/baselines.h"
#include "engine/methods/method_state_io.h"
#include "engine/model/vit.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

constexpr const char* kInfLoRATag = "inflora";

const char* inflora_projection_name(InfLoRAProjection type) {
    return type == InfLoRAProjection::remove ? "remove" : "retain";
}

VisionTransformerImpl& inflora_vit(const MethodContext& ctx) {
    Backbone model = ctx.model;  // a handle: the model itself, not a copy
    auto* vit = model->as<VisionTransformerImpl>();
    if (!vit) throw std::invalid_argument("method.name: inflora adapts Vision Transformers only");
    return *vit;
}

}  // namespace

InfLoRA::InfLoRA(const ExperimentConfig& config) : options_(InfLoRAOptions::from_config(config)) {}

void InfLoRA::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    VisionTransformerImpl& vit = inflora_vit(ctx);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
    site_layer_.clear();
    layer_modules_.clear();
    layer_block_.clear();
    for (const AdapterSite& site : sites_) {
        int block = -1;
        for (size_t b = 0; b < vit.blocks->size(); ++b)
            if ((*vit.blocks)[b]->as<BlockImpl>()->attn->qkv.get() == site.layer.get()) block = static_cast<int>(b);
        if (block < 0)
            throw std::invalid_argument("method.targets: InfLoRA adapts the attention's qkv; " + site.name() +
                                        " is not one");
        int layer = -1;
        for (size_t l = 0; l < layer_modules_.size(); ++l)
            if (layer_modules_[l] == site.module) layer = static_cast<int>(l);
        if (layer < 0) {
            layer = static_cast<int>(layer_modules_.size());
            layer_modules_.push_back(site.module);
            layer_block_.push_back(block);
        }
        site_layer_.push_back(layer);
        if (ctx.config.method.rank > site.in)
            throw std::invalid_argument("method.rank: InfLoRA's rank " + std::to_string(ctx.config.method.rank) +
                                        " is above the input width " + std::to_string(site.in) + " of " + site.name());
    }
    subspaces_.assign(layer_modules_.size(), InfLoRASubspace{});
}

std::vector<torch::Tensor> InfLoRA::input_features(MethodContext& ctx) const {
    if (!ctx.task_batches) throw std::logic_error("inflora: the method context has no task_batches");
    VisionTransformerImpl& vit = inflora_vit(ctx);
    const int64_t dim = vit.options.dim();
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(ctx.device);
    std::vector<torch::Tensor> sums;
    for (size_t l = 0; l < layer_modules_.size(); ++l) sums.push_back(torch::zeros({dim, dim}, f64));
    int64_t tokens = 0;
    const bool was_training = vit.is_training();
    vit.eval();
    {
        torch::NoGradGuard no_grad;
        ctx.task_batches(options_.feature_batches, [&](const TaskBatch& batch) {
            torch::Tensor x = vit.patch_embed(batch.images);                                    // [B, tokens, dim]
            x = torch::cat({vit.cls_token.expand({x.size(0), -1, -1}), x}, 1) + vit.pos_embed;  // [B, N, dim]
            size_t next = 0;  // layers are in block order
            for (size_t b = 0; b < vit.blocks->size() && next < layer_block_.size(); ++b) {
                auto* block = (*vit.blocks)[b]->as<BlockImpl>();
                const torch::Tensor h = block->norm1(x);  // the qkv layer's input tokens
                for (; next < layer_block_.size() && layer_block_[next] == static_cast<int>(b); ++next) {
                    const torch::Tensor rows = h.reshape({-1, dim});
                    sums[next] += rows.t().matmul(rows).to(torch::kFloat64);
                }
                x = x + block->attn(h);
                x = x + block->mlp(block->norm2(x));
            }
            tokens += x.size(0) * x.size(1);
        });
    }
    if (was_training) vit.train();
    if (tokens == 0) throw std::runtime_error("inflora: the task has no training images to take input features from");
    std::vector<torch::Tensor> out;
    for (auto& s : sums) out.push_back(copy_to_host(s / static_cast<double>(tokens)));
    return out;
}

void InfLoRA::begin_task(MethodContext& ctx) {
    trainable_.clear();
    const std::vector<torch::Tensor> features = input_features(ctx);  // old branches in, none of task t yet
    const int64_t rank = ctx.config.method.rank;
    auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(ctx.device);
    std::vector<torch::Tensor> down;
    for (size_t l = 0; l < layer_modules_.size(); ++l)
        down.push_back(inflora_down_projection(subspaces_[l], features[l], rank).to(f32));
    for (size_t s = 0; s < sites_.size(); ++s) {
        AdapterSite& site = sites_[s];
        LowRankTerm term;
        term.A = down[site_layer_[s]].clone();  // A_k and A_v: copies of one A_t (inflora.py lines 154-155)
        term.B = torch::zeros({site.rows, rank}, f32).requires_grad_(true);
        term.scale = 1.0;
        term.row_offset = site.row_offset;
        term.tag = kInfLoRATag;
        term.task = ctx.task;
        site.layer->add_term(term);
        trainable_.push_back(term.B);
    }
}

std::vector<ParamGroup> InfLoRA::parameter_groups(MethodContext& ctx) {
    return {ParamGroup{"adapter", trainable_, ctx.config.train.optimizer.lr, ctx.config.train.optimizer.weight_decay}};
}

void InfLoRA::end_task(MethodContext& ctx) {
    for (auto& b : trainable_) b.set_requires_grad(false);  // the branch is frozen from here on
    trainable_.clear();
    const std::vector<torch::Tensor> features = input_features(ctx);  // the trained model
    const double threshold = options_.threshold(ctx.task, ctx.num_tasks);
    for (size_t l = 0; l < subspaces_.size(); ++l) subspaces_[l].update(features[l], threshold);
}

MethodStorage InfLoRA::storage(const MethodContext& ctx) const {
    MethodStorage out;
    for (const AdapterSite& site : sites_)
        for (const LowRankTerm& t : site.layer->terms())
            if (t.tag == kInfLoRATag && t.row_offset == site.row_offset && t.rows() == site.rows)
                out.stored_params += t.A.numel() + t.B.numel();
    for (const auto& s : subspaces_) out.stored_features += s.stored_scalars();
    return out;
}

StateSnapshot InfLoRA::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    nlohmann::json branches = nlohmann::json::array();
    for (const AdapterSite& site : sites_)
        for (const LowRankTerm& t : site.layer->terms()) {
            if (t.tag != kInfLoRATag || t.row_offset != site.row_offset || t.rows() != site.rows) continue;
            const std::string key = "branch" + std::to_string(branches.size());
            state.put(key + ".A", t.A);
            state.put(key + ".B", t.B);
            branches.push_back({{"task", t.task}, {"site", site.name()}});
        }
    nlohmann::json layers = nlohmann::json::array();
    for (size_t l = 0; l < subspaces_.size(); ++l) {
        if (!subspaces_[l].empty()) state.put("basis" + std::to_string(l), subspaces_[l].basis);
        layers.push_back({{"module", layer_modules_[l]},
                          {"type", inflora_projection_name(subspaces_[l].type)},
                          {"empty", subspaces_[l].empty()}});
    }
    state.meta = {{"branches", branches}, {"layers", layers}};
    return state;
}

void InfLoRA::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    for (AdapterSite& site : sites_) site.layer->remove_terms(kInfLoRATag);
    trainable_.clear();
    const nlohmann::json& layers = meta_at(state, "layers");
    if (layers.size() != layer_modules_.size())
        throw std::runtime_error("inflora state: " + std::to_string(layers.size()) + " layers, the model adapts " +
                                 std::to_string(layer_modules_.size()));
    for (size_t l = 0; l < layer_modules_.size(); ++l) {
        const nlohmann::json& rec = layers[l];
        if (rec.at("module").get<std::string>() != layer_modules_[l])
            throw std::runtime_error("inflora state: layer " + std::to_string(l) + " is " +
                                     rec.at("module").get<std::string>() + ", the model adapts " + layer_modules_[l]);
        InfLoRASubspace s;
        s.type = rec.at("type").get<std::string>() == "retain" ? InfLoRAProjection::retain : InfLoRAProjection::remove;
        if (!rec.at("empty").get<bool>()) s.basis = state.get("basis" + std::to_string(l)).to(torch::kFloat64);
        subspaces_[l] = std::move(s);
    }
    const nlohmann::json& branches = meta_at(state, "branches");
    for (size_t i = 0; i < branches.size(); ++i) {
        const std::string site_name = branches[i].at("site").get<std::string>();
        AdapterSite* site = nullptr;
        for (AdapterSite& s : sites_)
            if (s.name() == site_name) site = &s;
        if (!site)
            throw std::runtime_error("inflora state: branch on " + site_name + ", which the model does not adapt");
        const std::string key = "branch" + std::to_string(i);
        LowRankTerm term;
        term.A = state.get(key + ".A", ctx.device);
        term.B = state.get(key + ".B", ctx.device);
        if (term.A.size(1) != site->in || term.B.size(0) != site->rows || term.B.size(1) != term.A.size(0))
            throw std::runtime_error("inflora state: " + key + " does not fit " + site_name);
        term.scale = 1.0;
        term.row_offset = site->row_offset;
        term.tag = kInfLoRATag;
        term.task = branches[i].at("task").get<int>();
        site->layer->add_term(term);
    }
}

nlohmann::json InfLoRA::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    nlohmann::json layers = nlohmann::json::array();
    for (size_t l = 0; l < subspaces_.size(); ++l)
        layers.push_back({{"module", layer_modules_[l]},
                          {"type", inflora_projection_name(subspaces_[l].type)},
                          {"basis_columns", subspaces_[l].empty() ? 0 : subspaces_[l].basis.size(1)}});
    int branches = 0;
    for (const AdapterSite& site : sites_)
        for (const LowRankTerm& t : site.layer->terms())
            if (t.tag == kInfLoRATag && t.row_offset == site.row_offset && t.rows() == site.rows) ++branches;
    return {{"method", name()},      {"sites", sites},        {"rank", ctx.config.method.rank},
            {"lamb", options_.lamb}, {"lame", options_.lame}, {"branches", branches},
            {"dual_gpm", layers}};
}

// ---- factory (registered_methods.def) ---------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_inflora(const ExperimentConfig& c) { return std::make_unique<InfLoRA>(c); }

}  // namespace lorica
