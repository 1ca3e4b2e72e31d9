#include "engine/methods/lora_pm.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <torch/torch.h>

#include "engine/methods/method_state_io.h"
#include "engine/util/seed_mix.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

// Salt of the perturbation draws (mixed with the run seed, then the task and the step within it).
constexpr uint64_t kLoRAPMPerturbationSalt = 0x9E4A0000u;

// Σ over every entry of every site of a ⊙ b (⊙ c when given), accumulated in double.
double lora_pm_dot(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                   const std::vector<torch::Tensor>* c = nullptr) {
    double total = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        torch::Tensor p = a[i] * b[i];
        if (c) p = p * (*c)[i];
        total += read_scalar(p.sum(torch::kDouble));
    }
    return total;
}

}  // namespace

double lora_pm_coefficient(const std::vector<torch::Tensor>& fisher, const std::vector<torch::Tensor>& fisher_sum,
                           const std::vector<torch::Tensor>& residual, const std::vector<torch::Tensor>& delta,
                           bool clamp) {
    const double numerator = lora_pm_dot(fisher, delta, &delta) - lora_pm_dot(residual, delta);
    const double denominator = lora_pm_dot(fisher_sum, delta, &delta);
    if (!(denominator > 0.0) || !std::isfinite(numerator / denominator)) return 1.0;
    const double alpha = numerator / denominator;
    return clamp ? std::clamp(alpha, 0.0, 1.0) : alpha;
}

void lora_pm_advance_residual(std::vector<torch::Tensor>& residual, const std::vector<torch::Tensor>& fisher,
                              const std::vector<torch::Tensor>& fisher_sum, const std::vector<torch::Tensor>& delta,
                              double alpha) {
    for (size_t i = 0; i < residual.size(); ++i)
        residual[i].add_(fisher_sum[i] * delta[i], alpha).sub_(fisher[i] * delta[i]);
}

LoRAPM::LoRAPM(const ExperimentConfig& config)
    : MergedLoRA("lora-pm", LoRAPMOptions::from_config(config).merged), pm_(LoRAPMOptions::from_config(config)) {}

void LoRAPM::begin_task(MethodContext& ctx) {
    MergedLoRA::begin_task(ctx);
    base_scale_ = scale(ctx.config);
    step_in_task_ = 0;
}

int LoRAPM::perturbation(uint64_t seed, int task, int64_t step_in_task) const {
    const uint64_t bits = mix_seed(mix_seed(seed, kLoRAPMPerturbationSalt + static_cast<uint64_t>(task)),
                                   static_cast<uint64_t>(step_in_task));
    const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    if (u < pm_.p_plus) return 1;
    if (u < pm_.p_plus + pm_.p_minus) return -1;
    return 0;
}

void LoRAPM::set_term_scale(double factor) {
    const double s = factor == 1.0 ? base_scale_ : base_scale_ * factor;
    for (const auto& site : sites()) {
        LoRALinear layer = site.layer;  // the same layer, held mutably
        for (auto& t : layer->terms())
            if (t.tag == term_tag() && t.trainable_factors()) t.scale = s;
    }
}

void LoRAPM::before_step(MethodContext& ctx) {
    const int sign = pm_.epsilon > 0.0 ? perturbation(ctx.seed, ctx.task, step_in_task_) : 0;
    ++step_in_task_;
    if (sign != 0) set_term_scale(1.0 + sign * pm_.epsilon);
}

void LoRAPM::after_step(MethodContext& ctx) { set_term_scale(1.0); }

std::vector<torch::Tensor> LoRAPM::task_fisher(MethodContext& ctx) const {
    if (!ctx.task_batches) throw std::logic_error("lora-pm: the context offers no task_batches for the Fisher");
    // The adapted layers' weights take gradients for this pass only.
    std::map<const LoRALinearImpl*, torch::Tensor> weights;
    for (const auto& site : sites()) weights.emplace(site.layer.get(), site.layer->weight);
    std::vector<torch::Tensor> inputs;
    std::map<const LoRALinearImpl*, size_t> index;
    for (auto& [layer, w] : weights) {
        index[layer] = inputs.size();
        inputs.push_back(w);
        w.requires_grad_(true);
    }
    std::vector<torch::Tensor> fisher;
    for (const auto& site : sites())
        fisher.push_back(torch::zeros({site.rows, site.in}, site.layer->weight.options().requires_grad(false)));
    const bool was_training = ctx.model->is_training();
    ctx.model->eval();
    const int head = ctx.heads->size() - 1;
    int64_t batches = 0;
    try {
        torch::AutoGradMode grad(true);
        ctx.task_batches(pm_.fisher_batches, [&](const TaskBatch& batch) {
            torch::Tensor logits = ctx.heads->logits_of(ctx.model->features(batch.images), head);
            torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.labels);
            std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, inputs);
            torch::NoGradGuard no_grad;
            for (size_t i = 0; i < sites().size(); ++i) {
                const AdapterSite& site = sites()[i];
                torch::Tensor g = grads[index.at(site.layer.get())]
                                      .reshape({site.layer->options.out_features(), site.in})
                                      .slice(0, site.row_offset, site.row_offset + site.rows);
                fisher[i].add_(g * g);
            }
            ++batches;
        });
    } catch (...) {
        for (auto& [layer, w] : weights) w.requires_grad_(false);
        ctx.model->train(was_training);
        throw;
    }
    for (auto& [layer, w] : weights) w.requires_grad_(false);
    ctx.model->train(was_training);
    if (batches > 0)
        for (auto& f : fisher) f.div_(static_cast<double>(batches));
    return fisher;
}

double LoRAPM::merge_coefficient(MethodContext& ctx) {
    set_term_scale(1.0);
    const std::vector<torch::Tensor> fisher = task_fisher(ctx);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> delta;
    for (const auto& site : sites())
        for (const auto& t : site.layer->terms())
            if (t.tag == term_tag() && t.row_offset == site.row_offset && t.rows() == site.rows)
                delta.push_back(t.delta().detach());
    if (delta.size() != sites().size()) throw std::logic_error("lora-pm: a site lost its task term before the merge");
    if (fisher_sum_.empty()) {
        for (const auto& f : fisher) {
            fisher_sum_.push_back(torch::zeros_like(f));
            residual_.push_back(torch::zeros_like(f));
        }
    }
    for (size_t i = 0; i < fisher.size(); ++i) fisher_sum_[i].add_(fisher[i]);
    const double alpha = lora_pm_coefficient(fisher, fisher_sum_, residual_, delta, pm_.clamp_coefficient);
    lora_pm_advance_residual(residual_, fisher, fisher_sum_, delta, alpha);
    coefficients_.push_back(alpha);
    return alpha;
}

std::vector<MethodState> LoRAPM::state(const MethodContext& ctx) const {
    std::vector<MethodState> out = MergedLoRA::state(ctx);
    out.push_back({ctx.task, ctx.step, StateKey::magnitudes, coefficients_});
    return out;
}

nlohmann::json LoRAPM::describe(const MethodContext& ctx) const {
    nlohmann::json d = MergedLoRA::describe(ctx);
    d["epsilon"] = pm_.epsilon;
    d["p_plus"] = pm_.p_plus;
    d["p_minus"] = pm_.p_minus;
    d["merge_coefficients"] = coefficients_;
    return d;
}

AdapterSet LoRAPM::adapter_set(const MethodContext& ctx) const {
    AdapterSet set = MergedLoRA::adapter_set(ctx);
    set.meta["merge_coefficients"] = coefficients_;  // each task's factors already carry α* s as scale
    return set;
}

MethodStorage LoRAPM::storage(const MethodContext& ctx) const {
    MethodStorage out = MergedLoRA::storage(ctx);
    for (const auto& f : fisher_sum_) out.stored_params += 2 * f.numel();  // S and R
    out.stored_params += static_cast<int64_t>(coefficients_.size());
    return out;
}

StateSnapshot LoRAPM::save_state(const MethodContext& ctx) const {
    StateSnapshot state = MergedLoRA::save_state(ctx);
    for (size_t i = 0; i < fisher_sum_.size(); ++i) {
        state.put("pm.S" + std::to_string(i), fisher_sum_[i]);
        state.put("pm.R" + std::to_string(i), residual_[i]);
    }
    state.meta["pm"] = {{"coefficients", coefficients_}, {"sites", fisher_sum_.size()}};
    return state;
}

void LoRAPM::restore_state(MethodContext& ctx, const StateSnapshot& state) {
    MergedLoRA::restore_state(ctx, state);
    const nlohmann::json& pm = meta_at(state, "pm");
    coefficients_ = pm.at("coefficients").get<std::vector<double>>();
    const size_t n = pm.at("sites").get<size_t>();
    if (n != 0 && n != sites().size())
        throw std::runtime_error("lora-pm state: " + std::to_string(n) + " sites' Fisher sums for a model with " +
                                 std::to_string(sites().size()) + " adapted sites");
    fisher_sum_.clear();
    residual_.clear();
    for (size_t i = 0; i < n; ++i) {
        const AdapterSite& site = sites()[i];
        const torch::Tensor like = torch::empty({site.rows, site.in});
        fisher_sum_.push_back(get_shaped(state, "pm.S" + std::to_string(i), like).to(ctx.device));
        residual_.push_back(get_shaped(state, "pm.R" + std::to_string(i), like).to(ctx.device));
    }
}

// ---- factory (registered_methods.def) ---------------------------------------------------------------

std::unique_ptr<AdapterMethod> make_lora_pm(const ExperimentConfig& c) { return std::make_unique<LoRAPM>(c); }

}  // namespace lorica
