#include "engine/methods/lori.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "engine/util/seed_mix.h"
#include "engine/util/seed_offsets.h"
#include "engine/methods/baselines.h"
#include "engine/methods/method_state_io.h"
#include "engine/vocabulary/analysis_keys.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

constexpr const char* kAdapterTag = "lori";
constexpr const char* kMergeTag = "lori-merged";

// Accuracy (%) of `task` among evaluation rows, in the preferred head mode when present.
double accuracy_of(const std::vector<EvalRow>& rows, int task, HeadMode preferred) {
    const EvalRow* found = nullptr;
    for (const auto& r : rows)
        if (r.eval_task == task && (!found || r.head_mode == preferred)) found = &r;
    if (!found || found->total == 0) return 0.0;
    return 100.0 * static_cast<double>(found->correct) / static_cast<double>(found->total);
}

}  // namespace

double subspace_overlap(const torch::Tensor& A_i, const torch::Tensor& A_j) {
    torch::NoGradGuard no_grad;
    auto qi = std::get<0>(at::linalg_qr(A_i.detach().to(torch::kCPU, torch::kFloat64).t()));  // [in, r_i]
    auto qj = std::get<0>(at::linalg_qr(A_j.detach().to(torch::kCPU, torch::kFloat64).t()));  // [in, r_j]
    const double sq = read_scalar(qi.t().matmul(qj).pow(2).sum());
    return sq / static_cast<double>(std::min(qi.size(1), qj.size(1)));
}

torch::Tensor lori_random_a(uint64_t a_seed, int64_t site_index, int64_t rank, int64_t in) {
    auto gen = at::detail::createCPUGenerator(mix_seed(a_seed, static_cast<uint64_t>(site_index)));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    return torch::empty({rank, in}, torch::kFloat32).uniform_(-bound, bound, gen);
}

LoRI::LoRI(const ExperimentConfig& config, std::string registered_name) : name_(std::move(registered_name)) {
    options_ = parse_lori_options(config, lori_registered_defaults(name_));
}

double LoRI::merge_weight() const {
    if (options_.merge_weight >= 0) return options_.merge_weight;
    return options_.sparse() ? 0.4 : 0.5;
}

uint64_t LoRI::a_seed_for(uint64_t run_seed, int task) const {
    const uint64_t k = options_.per_task_a() ? static_cast<uint64_t>(task) : 0;
    return derived_seed(run_seed, SeedStream::lori_random_a, k) & 0xFFFFFFFFu;
}

void LoRI::install_adapter(MethodContext& ctx, uint64_t a_seed) {
    A_.clear();
    B_.clear();
    for (size_t i = 0; i < sites_.size(); ++i) {
        auto& site = sites_[i];
        LowRankTerm term;
        term.A = lori_random_a(a_seed, static_cast<int64_t>(i), ctx.config.method.rank, site.in).to(ctx.device);
        term.B = torch::zeros({site.rows, ctx.config.method.rank}, torch::TensorOptions().device(ctx.device))
                     .requires_grad_(true);
        term.scale = scale_;
        term.row_offset = site.row_offset;
        term.tag = kAdapterTag;
        site.layer->add_term(term);
        A_.push_back(term.A);
        B_.push_back(term.B);
    }
}

void LoRI::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
    scale_ = ctx.config.method.alpha / ctx.config.method.rank;
    std::map<std::string, int> layers;
    for (const auto& s : sites_)
        layer_of_.push_back(layers.emplace(s.module, static_cast<int>(layers.size())).first->second);
    if (!options_.merging()) install_adapter(ctx, a_seed_for(ctx.seed, 0));
}

void LoRI::begin_task(MethodContext& ctx) {
    const uint64_t a_seed = a_seed_for(ctx.seed, ctx.task);
    a_seeds_.push_back(a_seed);
    if (options_.merging()) {
        // Each task trains its own adapter on the base weights: take the merge out, add a fresh adapter.
        for (auto& s : sites_) s.layer->remove_terms(kMergeTag);
        install_adapter(ctx, a_seed);
    }
    B_start_.clear();
    for (const auto& b : B_) B_start_.push_back(b.detach().clone());
    mask_active_ = false;
    head_start_.clear();
    if (ctx.heads->size() > 0)
        for (const auto& p : ctx.heads->head(ctx.heads->size() - 1)->parameters())
            head_start_.push_back(p.detach().clone());
}

void LoRI::begin_pass(MethodContext& ctx, int pass) {
    if (pass != 1 || !options_.sparse()) return;
    std::vector<torch::Tensor> scores;
    for (size_t i = 0; i < B_.size(); ++i) scores.push_back((B_[i].detach() - B_start_[i]).abs());
    masks_ = calibrate_masks(scores, layer_of_, options_.sparsity, options_.mask_granularity);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < B_.size(); ++i) {
        B_[i].copy_(B_start_[i]);
        if (B_[i].grad().defined()) B_[i].mutable_grad().zero_();
    }
    if (options_.calibration_head == CalibrationHead::reset && ctx.heads->size() > 0) {
        auto params = ctx.heads->head(ctx.heads->size() - 1)->parameters();
        for (size_t k = 0; k < params.size() && k < head_start_.size(); ++k) params[k].copy_(head_start_[k]);
    }
    mask_active_ = true;
}

std::vector<ParamGroup> LoRI::parameter_groups(MethodContext& ctx) {
    const auto& opt = ctx.config.train.optimizer;
    if (mask_active_) return {ParamGroup{"adapter", B_, opt.lr * options_.sparse_lr_multiplier, 0.0}};
    return {ParamGroup{"adapter", B_, opt.lr, opt.weight_decay}};
}

void LoRI::after_backward(MethodContext& ctx) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < B_.size(); ++i) {
        torch::Tensor g = B_[i].mutable_grad();
        if (!g.defined()) continue;
        if (mask_active_) g.mul_(masks_[i]);
        if (options_.clip_per_tensor > 0) {
            // coef = c / (‖g‖ + 1e-6) in float64 and g ×= min(coef, 1), on the device: the same float32
            // factor the host form (read ‖g‖, multiply when coef < 1) applied, with no host read.
            const torch::Tensor coef = options_.clip_per_tensor / (g.norm().to(torch::kFloat64) + 1e-6);
            g.mul_(torch::where(coef < 1.0, coef, torch::ones_like(coef)).to(g.scalar_type()));
        }
    }
}

void LoRI::install_merge(const std::vector<int>& tasks, const std::vector<double>& weights, MergeKind kind) {
    for (auto& s : sites_) s.layer->remove_terms(kMergeTag);  // all sites first: q and v may share one layer
    if (tasks.empty()) return;
    for (size_t i = 0; i < sites_.size(); ++i) {
        std::vector<AdapterFactors> adapters;
        for (int t : tasks) adapters.push_back(task_adapters_.at(static_cast<size_t>(t)).at(i));
        AdapterFactors m = merge_adapters(adapters, weights, kind);
        LowRankTerm term;
        term.A = m.A;
        term.B = m.B;
        term.scale = 1.0;
        term.row_offset = sites_[i].row_offset;
        term.tag = kMergeTag;
        sites_[i].layer->add_term(term);
    }
}

void LoRI::end_task(MethodContext& ctx) {
    if (options_.sparse()) {
        task_masks_.push_back(masks_);
        trainable_count_ = mask_count(masks_);
    } else {
        trainable_count_ = 0;
        for (const auto& b : B_) trainable_count_ += b.numel();
    }
    mask_active_ = false;
    if (options_.merging()) {
        std::vector<AdapterFactors> adapters;
        for (size_t i = 0; i < sites_.size(); ++i) adapters.push_back({A_[i].detach(), B_[i].detach().clone(), scale_});
        task_adapters_.push_back(std::move(adapters));
        for (auto& s : sites_) s.layer->remove_terms(kAdapterTag);
        const int count = static_cast<int>(task_adapters_.size());
        std::vector<int> all(count);
        for (int t = 0; t < count; ++t) all[t] = t;
        install_merge(all, merge_weights(count, merge_weight()), options_.merge);
    }
    if (ctx.task == ctx.num_tasks - 1) emit_analyses(ctx);
}

AdapterSet LoRI::adapter_set(const MethodContext& ctx) const {
    if (!options_.merging() || options_.merge != MergeKind::cat || task_adapters_.empty())
        return AdapterMethod::adapter_set(ctx);
    AdapterSet set;
    set.method = name();
    set.meta = {{"merge", to_string(options_.merge)}, {"merge_weight", merge_weight()}};
    const std::vector<double> weights = merge_weights(static_cast<int>(task_adapters_.size()), merge_weight());
    for (size_t t = 0; t < task_adapters_.size(); ++t) {
        for (size_t i = 0; i < sites_.size(); ++i) {
            const AdapterFactors& f = task_adapters_[t].at(i);
            AdapterTerm term;
            term.module = sites_[i].module;
            term.out_features = sites_[i].layer->options.out_features();
            term.row_offset = sites_[i].row_offset;
            term.A = f.A.detach().to(torch::kCPU, torch::kFloat32).clone();
            term.B = f.B.detach().to(torch::kCPU, torch::kFloat32).clone();
            term.scale = weights[t] * f.scale;
            term.task = static_cast<int>(t);
            term.tag = "lori-task" + std::to_string(t);
            term.frozen = true;
            set.terms.push_back(std::move(term));
        }
    }
    return set;
}

StateSnapshot LoRI::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    nlohmann::json sites = nlohmann::json::array(), task_scales = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    for (size_t i = 0; i < A_.size(); ++i) {
        state.put("A." + std::to_string(i), A_[i]);
        state.put("B." + std::to_string(i), B_[i]);
    }
    for (size_t i = 0; i < masks_.size(); ++i) state.put("mask." + std::to_string(i), masks_[i]);
    for (size_t t = 0; t < task_masks_.size(); ++t)
        for (size_t i = 0; i < task_masks_[t].size(); ++i)
            state.put("task" + std::to_string(t) + ".mask." + std::to_string(i), task_masks_[t][i]);
    for (size_t t = 0; t < task_adapters_.size(); ++t) {
        nlohmann::json scales = nlohmann::json::array();
        for (size_t i = 0; i < task_adapters_[t].size(); ++i) {
            state.put("task" + std::to_string(t) + ".A." + std::to_string(i), task_adapters_[t][i].A);
            state.put("task" + std::to_string(t) + ".B." + std::to_string(i), task_adapters_[t][i].B);
            scales.push_back(task_adapters_[t][i].scale);
        }
        task_scales.push_back(scales);
    }
    state.meta = {{"sites", sites},
                  {"adapter", A_.size()},
                  {"masks", masks_.size()},
                  {"task_masks", task_masks_.size()},
                  {"task_scales", task_scales},
                  {"a_seeds", a_seeds_},
                  {"trainable_count", trainable_count_}};
    return state;
}

void LoRI::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    const size_t n = sites_.size();
    if (meta_at(state, "sites").size() != n)
        throw std::runtime_error("the method state has " + std::to_string(meta_at(state, "sites").size()) +
                                 " adapted sites, the model " + std::to_string(n));
    torch::NoGradGuard no_grad;
    const size_t adapter = meta_at(state, "adapter").get<size_t>();
    if (!options_.merging() && (adapter != n || A_.size() != n))
        throw std::runtime_error("the method state holds " + std::to_string(adapter) +
                                 " continued factor pairs, the model " + std::to_string(n) + " sites");
    if (options_.merging()) {
        A_.clear();
        B_.clear();
        for (size_t i = 0; i < adapter; ++i) {
            A_.push_back(state.get("A." + std::to_string(i), ctx.device));
            B_.push_back(state.get("B." + std::to_string(i), ctx.device).requires_grad_(true));
        }
    } else {
        for (size_t i = 0; i < n; ++i) {  // the terms begin_run installed keep these very tensors
            A_[i].copy_(get_shaped(state, "A." + std::to_string(i), A_[i]));
            B_[i].copy_(get_shaped(state, "B." + std::to_string(i), B_[i]));
        }
    }
    masks_.clear();
    for (size_t i = 0; i < meta_at(state, "masks").get<size_t>(); ++i)
        masks_.push_back(state.get("mask." + std::to_string(i), ctx.device));
    task_masks_.clear();
    for (size_t t = 0; t < meta_at(state, "task_masks").get<size_t>(); ++t) {
        std::vector<torch::Tensor> masks;
        for (size_t i = 0; i < n; ++i)
            masks.push_back(state.get("task" + std::to_string(t) + ".mask." + std::to_string(i), ctx.device));
        task_masks_.push_back(std::move(masks));
    }
    task_adapters_.clear();
    for (const auto& scales : meta_at(state, "task_scales")) {
        const std::string key = "task" + std::to_string(task_adapters_.size()) + ".";
        std::vector<AdapterFactors> adapters;
        for (size_t i = 0; i < scales.size(); ++i)
            adapters.push_back({state.get(key + "A." + std::to_string(i), ctx.device),
                                state.get(key + "B." + std::to_string(i), ctx.device), scales.at(i).get<double>()});
        task_adapters_.push_back(std::move(adapters));
    }
    a_seeds_ = meta_at(state, "a_seeds").get<std::vector<uint64_t>>();
    trainable_count_ = meta_at(state, "trainable_count").get<int64_t>();
    mask_active_ = false;
    if (options_.merging() && !task_adapters_.empty()) {
        const int count = static_cast<int>(task_adapters_.size());
        std::vector<int> all(count);
        for (int t = 0; t < count; ++t) all[t] = t;
        install_merge(all, merge_weights(count, merge_weight()), options_.merge);
    }
}

void LoRI::emit_analyses(MethodContext& ctx) {
    AnalysisDone done;
    if (options_.sparse() && task_masks_.size() > 1)
        for (size_t i = 0; i < task_masks_.size(); ++i)
            for (size_t j = 0; j < task_masks_.size(); ++j)
                done.points.push_back({AnalysisKey::lori_overlap_mask, SeriesKey::of_task(static_cast<int>(i)),
                                       static_cast<double>(j), mask_jaccard(task_masks_[i], task_masks_[j])});
    if (options_.merging()) {
        const int count = static_cast<int>(task_adapters_.size());
        for (int i = 0; i < count; ++i)
            for (int j = 0; j < count; ++j) {
                double sum = 0.0;
                for (size_t s = 0; s < sites_.size(); ++s)
                    sum += subspace_overlap(task_adapters_[i][s].A, task_adapters_[j][s].A);
                done.points.push_back({AnalysisKey::lori_overlap_a, SeriesKey::of_task(i), static_cast<double>(j),
                                       sites_.empty() ? 0.0 : sum / static_cast<double>(sites_.size())});
            }
        if (ctx.evaluate_tasks) {
            const HeadMode mode = ctx.config.eval.task_il ? HeadMode::task_il : HeadMode::class_il;
            std::vector<int> all(count);
            for (int t = 0; t < count; ++t) all[t] = t;
            for (int t = 0; t < count; ++t) {
                install_merge({t}, {1.0}, MergeKind::cat);
                done.points.push_back({AnalysisKey::lori_merge, SeriesKey::named(SeriesKey::Kind::alone),
                                       static_cast<double>(t), accuracy_of(ctx.evaluate_tasks({t}), t, mode)});
            }
            for (MergeKind kind : {MergeKind::cat, MergeKind::linear}) {
                install_merge(all, merge_weights(count, merge_weight()), kind);
                auto rows = ctx.evaluate_tasks(all);
                for (int t = 0; t < count; ++t)
                    done.points.push_back(
                        {AnalysisKey::lori_merge,
                         SeriesKey::named(kind == MergeKind::cat ? SeriesKey::Kind::cat : SeriesKey::Kind::linear),
                         static_cast<double>(t), accuracy_of(rows, t, mode)});
            }
            install_merge(all, merge_weights(count, merge_weight()), options_.merge);
        }
    }
    if (!done.points.empty() && ctx.emit) ctx.emit(done);
}

std::vector<MethodState> LoRI::state(const MethodContext& ctx) const {
    std::vector<double> seeds(a_seeds_.begin(), a_seeds_.end());
    std::vector<double> ranks(options_.merging() ? task_adapters_.size() : 1,
                              static_cast<double>(ctx.config.method.rank));
    return {{ctx.task, ctx.step, StateKey::ranks, ranks}, {ctx.task, ctx.step, StateKey::lori_a_seed, seeds}};
}

nlohmann::json LoRI::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    int64_t b_size = 0;
    for (const auto& b : B_) b_size += b.numel();
    return {{"method", name_},
            {"variant", name_of(kLoRIVariantNames, options_.variant)},
            {"mode", name_of(kLoRIModeNames, options_.mode)},
            {"sites", sites},
            {"rank", ctx.config.method.rank},
            {"alpha", ctx.config.method.alpha},
            {"a_seed_mode", name_of(kLoRIASeedModeNames, options_.a_seed_mode)},
            {"a_seeds", a_seeds_},
            {"sparsity", options_.sparse() ? options_.sparsity : 0.0},
            {"mask_granularity", to_string(options_.mask_granularity)},
            {"sparse_lr_multiplier", options_.sparse_lr_multiplier},
            {"clip_per_tensor", options_.clip_per_tensor},
            {"merge", to_string(options_.merge)},
            {"merge_weight", merge_weight()},
            {"b_parameters", b_size},
            {"trainable_parameters", trainable_count_}};
}

// ---- factories (registered_methods.def) -------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_lori_d(const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-d"); }
std::unique_ptr<AdapterMethod> make_lori_s(const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-s"); }
std::unique_ptr<AdapterMethod> make_lori_merge(const ExperimentConfig& c) {
    return std::make_unique<LoRI>(c, "lori-merge");
}

}  // namespace lorica
