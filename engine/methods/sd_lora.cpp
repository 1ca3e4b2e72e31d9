#include "engine/methods/sd_lora.h"

#include <cmath>
#include <numeric>
#include <optional>

#include <torch/torch.h>

#include "engine/methods/baselines.h"
#include "engine/methods/method_state_io.h"
#include "engine/runtime/host_read.h"
#include "engine/vocabulary/analysis_keys.h"
#include "engine/util/log.h"

namespace lorica {
namespace {

double mean(const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// ‖B A‖_F (product) or ‖B‖_F ‖A‖_F (factors) as a 0-dim tensor, differentiable in A and B where it is
// > 0; `usable` is norm > 0. The square is formed on r×r Gram matrices: ‖B A‖² = Σ (BᵀB) ⊙ (A Aᵀ).
// A zero square is replaced by 1 before the root, so neither the root nor a division by the norm
// puts an inf or NaN into the backward pass.
std::pair<torch::Tensor, torch::Tensor> sd_lora_direction_norm_tensor(const torch::Tensor& A, const torch::Tensor& B,
                                                                      DirectionNorm kind) {
    torch::Tensor square =
        kind == DirectionNorm::product ? (B.t().mm(B) * A.mm(A.t())).sum() : B.pow(2).sum() * A.pow(2).sum();
    torch::Tensor usable = square > 0;
    return {torch::where(usable, square, torch::ones_like(square)).sqrt(), usable};
}

}  // namespace

SDLoRA::SDLoRA(const ExperimentConfig& config, SDLoRAVariant variant)
    : variant_(variant), options_(SDLoRAOptions::from_config(config, variant)) {
    scale_ = config.method.alpha / config.method.rank;
}

std::string SDLoRA::name() const {
    switch (variant_) {
        case SDLoRAVariant::rank_reduction:
            return "sd-lora-rr";
        case SDLoRAVariant::knowledge_distillation:
            return "sd-lora-kd";
        default:
            return "sd-lora";
    }
}

void SDLoRA::begin_run(MethodContext& ctx) {
    freeze_backbone(ctx.model);
    sites_ = resolve_adapter_sites(ctx.model, ctx.config.method.targets);
}

LowRankTerm* SDLoRA::term_of(int site, int task) {
    for (auto& term : sites_[site].layer->terms())
        if (term.task == task && term.row_offset == sites_[site].row_offset) return &term;
    return nullptr;
}

void SDLoRA::remove_terms_of(int task) {
    for (auto& site : sites_)
        std::erase_if(site.layer->terms(), [task](const LowRankTerm& term) { return term.task == task; });
}

const LowRankTerm* SDLoRA::term_of(int site, int task) const { return const_cast<SDLoRA*>(this)->term_of(site, task); }

bool SDLoRA::one_direction() const {
    return options_.ablation == SDLoRAAblation::first_direction_only ||
           options_.ablation == SDLoRAAblation::single_decoupled;
}

void SDLoRA::begin_task(MethodContext& ctx) {
    const int t = ctx.task;
    if (one_direction() && t > 0 && !adapters_.empty()) {  // no new direction after task 0
        if (options_.ablation == SDLoRAAblation::single_decoupled) open_single_direction();
        return;
    }
    TaskAdapter adapter;
    adapter.task = t;
    adapter.rank = options_.rank_for_task(t, ctx.config.method.rank);
    adapter.magnitude =
        torch::full({}, options_.magnitude_init, torch::TensorOptions().dtype(torch::kFloat32).device(ctx.device))
            .requires_grad_(true);
    for (auto& site : sites_) {
        LowRankTerm term =
            LowRankTerm::lora(adapter.rank, site.in, site.rows, site.row_offset, scale_, tag(t), ctx.device);
        term.magnitude = adapter.magnitude;
        term.task = t;
        adapter.A.push_back(term.A);
        adapter.B.push_back(term.B);
        site.layer->add_term(std::move(term));
    }
    adapters_.resize(t);  // tasks are begun in order; a re-begun task replaces its record
    adapters_.push_back(std::move(adapter));
}

std::vector<ParamGroup> SDLoRA::parameter_groups(MethodContext& ctx) {
    const auto& opt = ctx.config.train.optimizer;
    ParamGroup factors{"adapter", {}, opt.lr, opt.weight_decay};
    const TaskAdapter& current = adapters_.back();
    // A finished direction trains again only as the single decoupled one; first-direction-only trains
    // no factors after task 0 (the group stays empty).
    if (!current.finished || single_open_)
        for (size_t s = 0; s < sites_.size(); ++s) {
            factors.params.push_back(current.A[s]);
            factors.params.push_back(current.B[s]);
        }
    ParamGroup magnitudes{"magnitudes", {}, opt.lr, 0.0};
    for (const auto& a : adapters_)
        if (a.live && a.magnitude.requires_grad()) magnitudes.params.push_back(a.magnitude);  // fixed ones: not
    return {factors, magnitudes};
}

FactoredDirection SDLoRA::direction_of(const TaskAdapter& adapter) const {
    FactoredDirection d;
    for (size_t s = 0; s < sites_.size(); ++s) {
        const LowRankTerm* term = term_of(static_cast<int>(s), adapter.task);
        d.push_back({adapter.B[s], adapter.A[s], term ? term->scale : 0.0});
    }
    return d;
}

double SDLoRA::current_direction_residual() const { return read_scalar(current_direction_residual_on_device()); }

// The fit of fit_direction_on_device; the target's constants 1/‖B_s A_s‖ stay on the device (as
// where(n > 0, 1/n, 0), the same doubles the host form n > 0 ? 1/n : 0 gives).
torch::Tensor SDLoRA::current_direction_residual_on_device() const {
    torch::NoGradGuard no_grad;
    if (adapters_.empty()) return torch::zeros({}, torch::kFloat64);
    const TaskAdapter& current = adapters_.back();
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(current.magnitude.device());
    std::vector<FactoredDirection> basis;
    for (const auto& a : adapters_)
        if (a.finished && a.live && a.task < current.task) basis.push_back(direction_of(a));
    if (basis.empty()) return torch::zeros({}, f64);
    FactoredDirection target;
    for (size_t s = 0; s < sites_.size(); ++s) {
        const torch::Tensor n = frobenius_norm_on_device({current.B[s], current.A[s], 1.0});
        FactoredMatrix m{current.B[s], current.A[s], 1.0};
        m.coef_on_device = torch::where(n > 0.0, torch::ones_like(n) / n, torch::zeros_like(n));
        target.push_back(std::move(m));
    }
    return fit_direction_on_device(basis, target).relative_residual();
}

std::vector<double> SDLoRA::direction_norms(const TaskAdapter& adapter) const {
    torch::NoGradGuard no_grad;
    std::vector<double> norms;
    for (size_t s = 0; s < sites_.size(); ++s) {
        const torch::Tensor& A = adapter.A[s];
        const torch::Tensor& B = adapter.B[s];
        norms.push_back(options_.direction_norm == DirectionNorm::product
                            ? frobenius_norm({B, A, 1.0})
                            : read_scalar(B.norm()) * read_scalar(A.norm()));
    }
    return norms;
}

void SDLoRA::hand_over(MethodContext& ctx, TaskAdapter& adapter) {
    torch::NoGradGuard no_grad;
    const std::vector<double> norms = direction_norms(adapter);
    bool zero = false;
    for (size_t s = 0; s < sites_.size(); ++s) {
        adapter.A[s].set_requires_grad(false);
        adapter.B[s].set_requires_grad(false);
        LowRankTerm* term = term_of(static_cast<int>(s), adapter.task);
        const bool usable = std::isfinite(norms[s]) && norms[s] > 0.0;
        zero = zero || !usable;
        term->scale = usable ? 1.0 / norms[s] : 0.0;
    }
    // exact: one constant 1/mean for every matrix, so α_t (s·mean) D_{t,s} = α_t s B A in every matrix.
    const double mean_norm = mean(norms);
    if (options_.handover == SDLoRAHandover::exact && std::isfinite(mean_norm) && mean_norm > 0.0)
        for (size_t s = 0; s < sites_.size(); ++s) term_of(static_cast<int>(s), adapter.task)->scale = 1.0 / mean_norm;
    if (zero && ctx.warn)
        ctx.warn("sd-lora: task " + std::to_string(adapter.task) +
                 " left a zero update in some adapted matrix; its direction there is 0");
    {
        std::string line = "sd-lora: hand-over of task " + std::to_string(adapter.task) + ", per-matrix norms (" +
                           name_of(kDirectionNormNames, options_.direction_norm) + "):";
        for (double n : norms) line += " " + std::to_string(n);
        log::debug(line + "; mean " + std::to_string(mean(norms)) + ", alpha " +
                   std::to_string(read_scalar(adapter.magnitude)));
    }
    if (options_.handover == SDLoRAHandover::rescale || options_.handover == SDLoRAHandover::exact)
        adapter.magnitude.mul_(scale_ * mean_norm);
    adapter.finished = true;
}

// single-decoupled, tasks ≥ 1: task 0's direction trains again in the decoupled form. Every site's
// term gets scale 1 and its own magnitude tensor α_0 / n_s (refresh_single_direction), the same
// function as the closed form α_0 · (1/n_s) · B A.
void SDLoRA::open_single_direction() {
    TaskAdapter& adapter = adapters_.front();
    for (size_t s = 0; s < sites_.size(); ++s) {
        adapter.A[s].set_requires_grad(true);
        adapter.B[s].set_requires_grad(true);
        term_of(static_cast<int>(s), adapter.task)->scale = 1.0;
    }
    single_open_ = true;
    refresh_single_direction(false);
}

// m_s = α_0 / n_s (0 where n_s = 0, as the hand-over leaves a zero direction), built from the current
// factors: with `differentiable` (before a training step) the forward's graph holds the norm, so A, B
// and α_0 get the gradients of W0 + α_0 · B A / n_s; without (after a step, for evaluations) detached.
void SDLoRA::refresh_single_direction(bool differentiable) {
    TaskAdapter& adapter = adapters_.front();
    std::optional<torch::NoGradGuard> no_grad;
    if (!differentiable) no_grad.emplace();
    for (size_t s = 0; s < sites_.size(); ++s) {
        auto [norm, usable] = sd_lora_direction_norm_tensor(adapter.A[s], adapter.B[s], options_.direction_norm);
        term_of(static_cast<int>(s), adapter.task)->magnitude =
            torch::where(usable, adapter.magnitude / norm, torch::zeros_like(adapter.magnitude));
    }
}

// The end of a task ≥ 1 of single-decoupled: back to the closed form of a finished direction (frozen
// factors, scale 1/n_s, the shared α_0), so evaluations, the state and the adapter set see it as such.
void SDLoRA::close_single_direction() {
    TaskAdapter& adapter = adapters_.front();
    const std::vector<double> norms = direction_norms(adapter);
    for (size_t s = 0; s < sites_.size(); ++s) {
        adapter.A[s].set_requires_grad(false);
        adapter.B[s].set_requires_grad(false);
        LowRankTerm* term = term_of(static_cast<int>(s), adapter.task);
        term->scale = std::isfinite(norms[s]) && norms[s] > 0.0 ? 1.0 / norms[s] : 0.0;
        term->magnitude = adapter.magnitude;
    }
    single_open_ = false;
}

void SDLoRA::before_step(MethodContext& ctx) {
    if (single_open_) refresh_single_direction(true);
}

void SDLoRA::after_step(MethodContext& ctx) {
    if (single_open_) refresh_single_direction(false);
}

void SDLoRA::distill(MethodContext& ctx, TaskAdapter& adapter) {
    torch::NoGradGuard no_grad;
    std::vector<TaskAdapter*> old;
    for (auto& a : adapters_)
        if (a.finished && a.live && a.task < adapter.task) old.push_back(&a);
    last_dropped_ = false;
    if (old.empty()) return;
    const double alpha_t = read_scalar(adapter.magnitude);
    const bool preserve = options_.kd_update == KDUpdate::function_preserving;

    if (options_.kd_granularity == KDGranularity::global) {
        std::vector<FactoredDirection> basis;
        for (auto* a : old) basis.push_back(direction_of(*a));
        DirectionFit fit = fit_direction(basis, direction_of(adapter));
        last_residual_ = fit.relative_residual();
        if (last_residual_ > options_.kd_tau) return;
        auto beta = fit.beta.accessor<double, 1>();
        for (size_t k = 0; k < old.size(); ++k) old[k]->magnitude.add_((preserve ? alpha_t : 1.0) * beta[k]);
    } else {
        std::vector<torch::Tensor> betas;  // per site [K]
        double worst = 0.0;
        for (size_t s = 0; s < sites_.size(); ++s) {
            std::vector<FactoredDirection> basis;
            for (auto* a : old) basis.push_back({direction_of(*a)[s]});
            DirectionFit fit = fit_direction(basis, {direction_of(adapter)[s]});
            worst = std::max(worst, fit.relative_residual());
            betas.push_back(fit.beta);
        }
        last_residual_ = worst;
        if (worst > options_.kd_tau) return;
        for (auto* a : old)
            if (std::abs(read_scalar(a->magnitude)) < 1e-12) {
                if (ctx.warn)
                    ctx.warn("sd-lora-kd: task " + std::to_string(adapter.task) +
                             " not absorbed: an old magnitude is 0, so a per-matrix fold is undefined");
                return;
            }
        for (size_t s = 0; s < sites_.size(); ++s)
            for (size_t k = 0; k < old.size(); ++k) {
                const double alpha_k = read_scalar(old[k]->magnitude);
                const double beta = read_scalar(betas[s][static_cast<int64_t>(k)]);
                term_of(static_cast<int>(s), old[k]->task)->scale *= 1.0 + (preserve ? alpha_t : 1.0) * beta / alpha_k;
            }
    }
    remove_terms_of(adapter.task);
    adapter.live = false;
    adapter.magnitude.zero_();
    last_dropped_ = true;
}

void SDLoRA::end_task(MethodContext& ctx) {
    TaskAdapter& adapter = adapters_.back();
    const bool new_direction = !adapter.finished;  // false after task 0 with a one-direction ablation
    last_residual_ = current_direction_residual();
    last_dropped_ = false;
    // before-handover: this measurement is the task's accuracy-matrix row (evaluates_end_of_task).
    if (ctx.evaluate_seen)
        ctx.evaluate_seen(options_.accuracy_matrix == AccuracyMatrixPhase::before_handover
                              ? EvalPhase::end_of_task
                              : EvalPhase::before_handover);
    if (new_direction) hand_over(ctx, adapter);
    if (single_open_) close_single_direction();
    if (options_.knowledge_distillation) distill(ctx, adapter);
    if (options_.ablation == SDLoRAAblation::old_magnitudes_fixed && new_direction) {
        torch::NoGradGuard no_grad;  // the finished direction is held at magnitude 1 from now on
        adapter.magnitude.fill_(1.0);
        adapter.magnitude.set_requires_grad(false);
    }
    if (!options_.carry_magnitudes) {
        torch::NoGradGuard no_grad;
        for (auto& a : adapters_)
            if (a.live && a.magnitude.requires_grad()) a.magnitude.fill_(options_.magnitude_init);
    }
    if (ctx.evaluate_seen) ctx.evaluate_seen(EvalPhase::after_handover);

    if (options_.interpolation_points > 0) {
        if (ctx.task == 0) after_task0_ = snapshot_merged_weights(ctx.model);
        if (ctx.task == 1 && ctx.evaluate_tasks)
            run_merge_interpolation(ctx, after_task0_, snapshot_merged_weights(ctx.model),
                                    MergeInterpolationOptions{options_.interpolation_points, {0, 1}});
    }
}

std::vector<double> SDLoRA::magnitudes() const { return read_values(magnitudes_on_device()); }

torch::Tensor SDLoRA::magnitudes_on_device() const {
    torch::NoGradGuard no_grad;
    if (adapters_.empty()) return torch::zeros({0}, torch::kFloat32);
    std::vector<torch::Tensor> v;
    for (const auto& a : adapters_) v.push_back(a.live ? a.magnitude.detach() : torch::zeros_like(a.magnitude));
    return torch::stack(v);
}

std::vector<double> SDLoRA::ranks() const {
    std::vector<double> v;
    for (const auto& a : adapters_) v.push_back(a.live ? a.rank : 0);
    return v;
}

std::vector<MethodState> SDLoRA::state(const MethodContext& ctx) const {
    std::vector<MethodState> out = {{ctx.task, ctx.step, StateKey::magnitudes, magnitudes()},
                                    {ctx.task, ctx.step, StateKey::ranks, ranks()}};
    if (ctx.task >= 1) out.push_back({ctx.task, ctx.step, StateKey::direction_residual, {last_residual_}});
    return out;
}

std::vector<PendingMethodState> SDLoRA::step_state(const MethodContext& ctx) const {
    if (options_.state_every <= 0 || ctx.step % options_.state_every != 0) return {};
    std::vector<PendingMethodState> out = {{StateKey::magnitudes, magnitudes_on_device()}};
    if (ctx.task >= 1) out.push_back({StateKey::direction_residual, current_direction_residual_on_device()});
    return out;
}

nlohmann::json SDLoRA::describe(const MethodContext& ctx) const {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    return {{"sites", sites},
            {"ranks", ranks()},
            {"magnitudes", magnitudes()},
            {"scale", scale_},
            {"handover", name_of(kSDLoRAHandoverNames, options_.handover)},
            {"direction_norm", name_of(kDirectionNormNames, options_.direction_norm)},
            {"carry_magnitudes", options_.carry_magnitudes},
            {"magnitude_init", options_.magnitude_init},
            {"ablation", name_of(kSDLoRAAblationNames, options_.ablation)},
            {"accuracy_matrix", name_of(kAccuracyMatrixPhaseNames, options_.accuracy_matrix)}};
}

StateSnapshot SDLoRA::save_state(const MethodContext& ctx) const {
    StateSnapshot state;
    nlohmann::json sites = nlohmann::json::array(), adapters = nlohmann::json::array();
    for (const auto& s : sites_) sites.push_back(s.name());
    for (const auto& a : adapters_) {
        const std::string key = "task" + std::to_string(a.task) + ".";
        nlohmann::json scales = nlohmann::json::array();
        for (size_t s = 0; s < sites_.size(); ++s) {
            const LowRankTerm* term = a.live ? term_of(static_cast<int>(s), a.task) : nullptr;
            scales.push_back(term ? nlohmann::json(term->scale) : nlohmann::json(nullptr));
            state.put(key + "A." + std::to_string(s), a.A[s]);
            state.put(key + "B." + std::to_string(s), a.B[s]);
        }
        state.put(key + "magnitude", a.magnitude);
        adapters.push_back(
            {{"task", a.task}, {"rank", a.rank}, {"live", a.live}, {"finished", a.finished}, {"scales", scales}});
    }
    state.meta = {
        {"sites", sites}, {"adapters", adapters}, {"last_dropped", last_dropped_}, {"last_residual", last_residual_}};
    // Only the merge interpolation at task 1's end reads it: kept until then (a ViT-B/16 snapshot is ~85 MB).
    if (ctx.task < 1) put_weight_snapshot(state, "after_task0.", after_task0_);
    return state;
}

void SDLoRA::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    if (meta_at(state, "sites").size() != sites_.size())
        throw std::runtime_error("the method state has " + std::to_string(meta_at(state, "sites").size()) +
                                 " adapted sites, the model " + std::to_string(sites_.size()));
    for (const auto& a : adapters_) remove_terms_of(a.task);
    adapters_.clear();
    for (const auto& rec : meta_at(state, "adapters")) {
        TaskAdapter a;
        a.task = rec.at("task").get<int>();
        a.rank = rec.at("rank").get<int>();
        a.live = rec.at("live").get<bool>();
        a.finished = rec.at("finished").get<bool>();
        const std::string key = "task" + std::to_string(a.task) + ".";
        // old-magnitudes-fixed: a finished direction's magnitude stays 1, out of the optimizer.
        const bool fixed = options_.ablation == SDLoRAAblation::old_magnitudes_fixed && a.finished;
        a.magnitude = state.get(key + "magnitude", ctx.device).to(torch::kFloat32).requires_grad_(!fixed);
        for (size_t s = 0; s < sites_.size(); ++s) {
            torch::Tensor A = state.get(key + "A." + std::to_string(s), ctx.device);
            torch::Tensor B = state.get(key + "B." + std::to_string(s), ctx.device);
            if (A.dim() != 2 || B.dim() != 2 || A.size(1) != sites_[s].in || B.size(0) != sites_[s].rows ||
                A.size(0) != B.size(1))
                throw std::runtime_error("the factors of task " + std::to_string(a.task) + " do not fit site " +
                                         sites_[s].name());
            a.A.push_back(A.requires_grad_(!a.finished));
            a.B.push_back(B.requires_grad_(!a.finished));
        }
        if (a.live)
            for (size_t s = 0; s < sites_.size(); ++s) {
                LowRankTerm term;
                term.A = a.A[s];
                term.B = a.B[s];
                term.scale = rec.at("scales").at(s).get<double>();
                term.magnitude = a.magnitude;
                term.row_offset = sites_[s].row_offset;
                term.tag = tag(a.task);
                term.task = a.task;
                sites_[s].layer->add_term(std::move(term));
            }
        adapters_.push_back(std::move(a));
    }
    single_open_ = false;
    last_dropped_ = meta_at(state, "last_dropped").get<bool>();
    last_residual_ = meta_at(state, "last_residual").get<double>();
    after_task0_ = get_weight_snapshot(state, "after_task0.", ctx.device);
}

// ---- factories (registered_methods.def) -------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_sd_lora(const ExperimentConfig& c) {
    return std::make_unique<SDLoRA>(c, SDLoRAVariant::plain);
}
std::unique_ptr<AdapterMethod> make_sd_lora_rr(const ExperimentConfig& c) {
    return std::make_unique<SDLoRA>(c, SDLoRAVariant::rank_reduction);
}
std::unique_ptr<AdapterMethod> make_sd_lora_kd(const ExperimentConfig& c) {
    return std::make_unique<SDLoRA>(c, SDLoRAVariant::knowledge_distillation);
}

}  // namespace lorica
