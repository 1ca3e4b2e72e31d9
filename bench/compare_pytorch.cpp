// Lorica against plain PyTorch eager on the default tiny ViT (image 28, patch 7, 1 channel, dim 64,
// depth 3, heads 4, mlp 4), same weights, same batch, same thread count, timed alternately in one run.
//
// Cases (training step = forward + backward + method's after_backward + AdamW step, batch 128; the
// Lorica side is the methods' own code: make_method, begin_run / begin_task / begin_pass,
// prepare_task / make_pass_optimizer / train_step (the trainer's task set-up and step), TaskHeads):
//   sequential-lora   rank 8 on q, v (B set to small random values, as after some training)
//   sd-lora-task5     SD-LoRA at task 5: five finished directions with their magnitudes, the sixth learning
//   lori-s            LoRI-S's sparse pass: frozen random A, B's gradient masked (sparsity 0.9), clipped
//   full-finetune     every backbone parameter
//   frozen-backbone   the head only
//   eval-512          evaluation forward, batch 512, no grad (the frozen-backbone model)
//   inflora           InfLoRA at task 0: A from the input features of two batches of 32 random images
//                     (MethodContext::task_batches), frozen; B trains (set to small random values), scale 1
//   o-lora            O-LoRA at task 3: three finished pairs per site (frozen, folded), the new pair
//                     training with λ₁ Σ |A_old A_newᵀ| (the default λ₁ 0.5, λ₂ 0) added to the loss
//   ewc-lora          EWC-LoRA at task 1: Ω from task 0's Fisher (the same two random batches), task 0's
//                     update folded into W, the new pair training with (λ/2) Σ Ω ⊙ (s B A)² (λ 1e7)
//   lora-pm           LoRA-P&M at task 0: each step's perturbation (the task's terms at scale s · (1 ± ε)
//                     or s) as the method draws it; the Python side is given the same draws, step by step
// (the four new cases: default method options, targets q, v, rank 8; the Python side merges O-LoRA's old
// pairs into its frozen weight and adds the same extra losses; "model GFLOP" counts the model only, not
// the O-LoRA / EWC-LoRA penalties)
// and two ResNet cases (BatchNorm statistics frozen, eval-mode BatchNorm on both sides; sequential LoRA
// rank 8, alpha 16, through the same method code; PyTorch side: PEFT's Conv2d LoRA form):
//   resnet50-conv3    timm's resnet50 at 224 px, 3 channels, batch 32, LoRA on every layer*.*.conv3 (the
//                     forgetting study's sites; 1×1 convs 64..512 → 256..2048)
//   tiny-resnet       the tiny ResNet (resnet.h) at 28 px, 1 channel, batch 128, LoRA on every block's
//                     conv1 and conv2 (3×3)
// ResNet steps are timed with --resnet-steps steps after one warm-up step (resnet50 takes seconds a
// step on one core); --cases picks cases by name (comma-separated; default all).
//
// The C++ side writes every case (weights, adapter factors, masks, magnitudes, optimizer groups, the
// batch) to a safetensors file; bench/compare_pytorch.py, started once as a child process, builds the
// same model in idiomatic PyTorch from it (timm-style attention with F.scaled_dot_product_attention,
// LoRA side branches, torch.optim.AdamW). Before timing anything, both sides run three training steps
// of every case from the same state and must agree on each loss within --tolerance (1e-5) and on the
// eval batch's loss; otherwise the bench prints the losses and exits 1 without a ratio.
//
// Timing: for each thread count, --rounds rounds; each round times every case on both sides (the
// order of the two sides alternates between rounds) and a 1024³ float32 GEMM on the Lorica side,
// each as the mean of --steps steps after --warmup steps. Printed: the median per side, the ratio
// PyTorch ÷ Lorica (> 1: Lorica is faster), and the step's model FLOP/s ÷ the GEMM's FLOP/s
// (counting in docs/cpu-speed.md, `step_flops` below).
//
//   ./build/bench/compare_pytorch [--python PATH] [--script PATH] [--threads 1,2] [--rounds 7]
//                                 [--steps 10] [--warmup 3] [--tolerance 1e-5] [--dir /tmp]
//                                 [--paths fast|previous] [--dense automatic|aten|onednn]
//                                 [--terms automatic|folded|factored] [--attention automatic|fused|explicit]
//                                 [--cases name,...] [--resnet-steps 2]
// With the automatic dense backend, each thread count's table ends with the GEMM library chosen per
// product (engine/model/kernel_choice.h: measured on first use or read from the machine's cache file);
// --dense onednn is the rule before tables (oneDNN forward and grad_input, ATen grad_weight).
// --paths previous runs the Lorica side on the paths the fast ones replace (ATen linear, factored
// LoRA terms, fused attention; engine/model/model_paths.h), for a before/after in one run; the
// other three set one choice each (after --paths).
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "engine/io/tensor_io.h"
#include "engine/methods/adapter_method.h"
#include "engine/methods/ewc_lora.h"
#include "engine/methods/lora_pm.h"
#include "engine/methods/o_lora.h"
#include "engine/methods/method_registry.h"
#include "engine/model/adapter_targets.h"
#include "engine/model/backbone_factory.h"
#include "engine/model/dense_linear.h"
#include "engine/model/kernel_choice.h"
#include "engine/model/model_paths.h"
#include "engine/model/task_heads.h"
#include "engine/model/resnet.h"
#include "engine/model/vit.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/optimizer_factory.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"

#ifndef LORICA_SOURCE_DIR
#define LORICA_SOURCE_DIR "."
#endif

using namespace lorica;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kBatch = 128, kEvalBatch = 512, kClasses = 10;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double mean_ms(const std::function<void()>& fn, int warmup, int steps) {
    for (int i = 0; i < warmup; ++i) fn();
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) fn();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps;
}

// The Python side: one child process, one command a line on its stdin, one answer a line on its stdout.
class PythonSide {
public:
    PythonSide(const std::string& python, const std::string& script) {
        int to_child[2], from_child[2];
        if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("compare_pytorch: pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("compare_pytorch: fork failed");
        if (pid_ == 0) {
            dup2(to_child[0], 0);
            dup2(from_child[1], 1);
            close(to_child[1]);
            close(from_child[0]);
            execlp(python.c_str(), python.c_str(), script.c_str(), static_cast<char*>(nullptr));
            std::perror(("compare_pytorch: cannot run " + python).c_str());
            _exit(127);
        }
        close(to_child[0]);
        close(from_child[1]);
        in_ = fdopen(to_child[1], "w");
        out_ = fdopen(from_child[0], "r");
    }
    ~PythonSide() {
        std::fputs("quit\n", in_);
        std::fclose(in_);
        std::fclose(out_);
        waitpid(pid_, nullptr, 0);
    }
    // Sends one command; returns the answer's words after checking that the first is `expect`.
    std::vector<std::string> ask(const std::string& command, const std::string& expect) {
        std::fputs((command + "\n").c_str(), in_);
        std::fflush(in_);
        std::string line;
        for (int c; (c = std::fgetc(out_)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
        std::istringstream words(line);
        std::vector<std::string> out;
        for (std::string w; words >> w;) out.push_back(w);
        if (out.empty() || out[0] != expect)
            throw std::runtime_error("compare_pytorch: python answered \"" + line + "\" to \"" + command + "\"");
        out.erase(out.begin());
        return out;
    }
    double ms(const std::string& command) { return std::stod(ask(command, "ms").at(0)); }

private:
    pid_t pid_ = -1;
    FILE* in_ = nullptr;
    FILE* out_ = nullptr;
};

// One method set up through its own code, with a stream head of kClasses classes and its optimizer.
struct LoricaCase {
    std::string name;
    ExperimentConfig config;
    Backbone model{nullptr};
    bool resnet = false;
    torch::Tensor x, y;  // ResNet cases: their own batch (ViT cases: the shared one)
    TaskHeads heads{nullptr};
    std::unique_ptr<MethodContext> ctx;
    std::unique_ptr<AdapterMethod> method;
    TaskPreparation prep;      // the stream head 0, as the trainer prepares a task
    PassOptimizer pass;        // the method's groups + the heads' group, and its optimizer
    GradScaler scaler{false};  // fp32
    std::vector<std::pair<torch::Tensor, torch::Tensor>> masks;  // LoRI-S: (B, mask) per site
    bool eval_only = false;

    torch::Tensor loss(const torch::Tensor& x, const torch::Tensor& y) {
        return torch::nn::functional::cross_entropy(heads->logits_of(model->features(x), 0), y);
    }
    double step(const torch::Tensor& x, const torch::Tensor& y) {  // StreamTrainer's step (training_step.h), fp32
        return train_step({*ctx, *method, scaler}, prep, pass, x, y).item<double>();
    }
};

void fill_random(torch::Tensor t, double stddev) {
    torch::NoGradGuard no_grad;
    t.copy_(torch::randn_like(t) * stddev);
}

std::unique_ptr<LoricaCase> make_case(const std::string& name) {
    auto c = std::make_unique<LoricaCase>();
    c->name = name;
    std::string method = name;
    if (name == "sd-lora-task5") method = "sd-lora";
    if (name == "eval-512") method = "frozen-backbone", c->eval_only = true;
    c->resnet = name == "resnet50-conv3" || name == "tiny-resnet";
    const bool big = name == "resnet50-conv3";
    if (c->resnet) {
        method = "sequential-lora";
        c->config.backbone = backbone_preset(big ? "resnet50" : "tiny-resnet");
        c->config.method.rank = 8;
        c->config.method.alpha = 16.0;  // the study's lora_alpha = 2·r
        c->config.method.targets = big ? std::vector<std::string>{"conv3"} : std::vector<std::string>{"conv1", "conv2"};
        torch::manual_seed(11);
        const int64_t batch = big ? 32 : kBatch, size = c->config.backbone.image_size;
        c->x = torch::randn({batch, c->config.backbone.in_channels, size, size});
        c->y = torch::randint(0, kClasses, {batch});
    }
    c->config.method.name = method;
    if (method == "sd-lora") c->config.method.options = {{"interpolation_points", 0}, {"state_every", 0}};
    if (method == "sequential-lora") c->config.method.options = {{"interpolation_points", 0}};
    torch::manual_seed(0);
    c->model = make_backbone(c->config.backbone, 0);
    if (c->resnet) {  // BatchNorm as after pre-training: statistics and affine away from their init; the
                      // last BatchNorm of each block small, not 0, so that the adapted conv3 matters
        torch::NoGradGuard no_grad;
        for (auto& item : c->model->named_parameters()) {
            const std::string& k = item.key();
            const bool last_bn = k.starts_with("layer") && k.ends_with(big ? "bn3.weight" : "bn2.weight");
            if (k.ends_with(".weight") && k.find("bn") != std::string::npos)
                item.value().normal_(last_bn ? 0.2 : 1.0, last_bn ? 0.02 : 0.1);
            if (k.ends_with(".bias")) item.value().normal_(0.0, 0.05);
        }
        for (auto& item : c->model->named_buffers()) {
            if (item.key().ends_with("running_mean")) item.value().normal_(0.0, 0.1);
            if (item.key().ends_with("running_var")) item.value().uniform_(0.5, 1.5);
        }
    } else {  // non-zero biases, cls token and LayerNorm affine so that every parameter's path is compared
        torch::NoGradGuard no_grad;
        for (auto& item : c->model->named_parameters()) {
            const std::string& k = item.key();
            if (k.find("bias") != std::string::npos || k == "cls_token") item.value().normal_(0.0, 0.02);
            if (k.find("norm") != std::string::npos && k.find("weight") != std::string::npos)
                item.value().normal_(1.0, 0.05);
        }
    }
    c->heads = TaskHeads(c->model->feature_dim());
    c->heads->add_head(kClasses, 1, torch::kCPU);
    c->ctx = std::make_unique<MethodContext>(
        MethodContext{c->model, c->heads, c->config, 0, 6, 0, torch::kCPU, 0, {}, {}, {}, {}});
    const bool new_method = name == "inflora" || name == "o-lora" || name == "ewc-lora" || name == "lora-pm";
    if (new_method) {  // the task's images for InfLoRA's input features and the end-of-task Fishers: two
                       // batches of 32 random images of the case's shape
        torch::manual_seed(5);
        const auto& bb = c->config.backbone;
        std::vector<TaskBatch> batches;
        for (int i = 0; i < 2; ++i)
            batches.push_back(
                {torch::randn({32, bb.in_channels, bb.image_size, bb.image_size}), torch::randint(0, kClasses, {32})});
        c->ctx->task_batches = [batches](int64_t max_batches, const std::function<void(const TaskBatch&)>& visit) {
            for (size_t i = 0; i < batches.size() && (max_batches <= 0 || static_cast<int64_t>(i) < max_batches); ++i)
                visit(batches[i]);
        };
    }
    c->method = make_method(c->config);
    c->method->begin_run(*c->ctx);
    // Finished tasks before the timed one (a non-zero update in every matrix, then the hand-over):
    // SD-LoRA five (five directions with their magnitudes), O-LoRA three (three old A per site in the
    // orthogonality loss), EWC-LoRA one (Ω from its Fisher, the update folded into W).
    const int finished = name == "sd-lora-task5" ? 5 : name == "o-lora" ? 3 : name == "ewc-lora" ? 1 : 0;
    if (finished > 0) {
        for (int t = 0; t < finished; ++t) {
            c->ctx->task = t;
            c->method->begin_task(*c->ctx);
            for (auto& [layer_name, layer] : c->model->lora_layers())
                for (auto& term : layer->terms())
                    if (term.trainable_factors()) fill_random(term.B, 0.05);
            c->method->end_task(*c->ctx);
        }
        c->ctx->task = finished;
    }
    c->method->begin_task(*c->ctx);
    if (name == "lori-s") {  // the dense calibration pass stands in for random B; pass 1 masks
        for (auto& [layer_name, layer] : c->model->lora_layers())
            for (auto& term : layer->terms()) fill_random(term.B, 0.05);
        c->method->begin_pass(*c->ctx, 1);
        StateSnapshot state = c->method->save_state(*c->ctx);
        auto sites = resolve_adapter_sites(c->model, c->config.method.targets);
        for (size_t i = 0; i < sites.size(); ++i)
            for (auto& term : sites[i].layer->terms())
                if (term.row_offset == sites[i].row_offset)
                    c->masks.emplace_back(term.B, state.get("mask." + std::to_string(i)));
    }
    // The current adapter as after some training (B = 0 would leave A's gradient 0 on the first step).
    if (name == "sequential-lora" || name == "sd-lora-task5" || c->resnet || new_method)
        for (auto& [layer_name, layer] : c->model->lora_layers())
            for (auto& term : layer->terms())
                if (term.trainable_factors()) fill_random(term.B, 0.05);
    c->prep = prepare_task(c->heads, c->config.train, 0);
    c->pass = make_pass_optimizer(*c->method, *c->ctx, c->prep, c->config.train.optimizer);
    return c;
}

// Writes the case for the Python side; returns the file.
std::string write_case(LoricaCase& c, const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& x_eval,
                       const torch::Tensor& y_eval, const std::string& dir, int64_t training_steps) {
    std::vector<std::pair<std::string, torch::Tensor>> tensors{
        {"x", x}, {"y", y}, {"x_eval", x_eval}, {"y_eval", y_eval}};
    std::vector<std::pair<torch::Tensor, std::string>> names;  // every tensor an optimizer group may hold
    for (auto& item : c.model->named_parameters()) {
        tensors.emplace_back("model." + item.key(), item.value().detach());
        names.emplace_back(item.value(), "model." + item.key());
    }
    for (auto& item : c.model->named_buffers())  // BatchNorm statistics
        tensors.emplace_back("model." + item.key(), item.value().detach());
    auto head = c.heads->head(0);
    tensors.emplace_back("model.head.weight", head->weight.detach());
    tensors.emplace_back("model.head.bias", head->bias.detach());
    names.emplace_back(head->weight, "model.head.weight");
    names.emplace_back(head->bias, "model.head.bias");
    nlohmann::json meta;
    meta["case"] = c.name;
    const auto& b = c.config.backbone;
    if (c.resnet) {
        meta["resnet"] = c.model->description();
        meta["resnet"]["classes"] = kClasses;
    } else {
        meta["vit"] = {
            {"image", b.image_size}, {"patch", b.patch_size}, {"in_channels", b.in_channels}, {"dim", b.dim},
            {"depth", b.depth},      {"heads", b.heads},      {"mlp_ratio", b.mlp_ratio},     {"classes", kClasses}};
    }
    std::vector<torch::Tensor> magnitudes;
    meta["terms"] = nlohmann::json::object();
    for (auto& [layer_name, layer] : c.model->lora_layers()) {
        for (size_t j = 0; j < layer->terms().size(); ++j) {
            const LowRankTerm& t = layer->terms()[j];
            const std::string key = "term." + layer_name + "." + std::to_string(j);
            int g = -1;
            if (t.magnitude.defined()) {
                auto it =
                    std::find_if(magnitudes.begin(), magnitudes.end(), [&](auto& m) { return m.is_same(t.magnitude); });
                g = static_cast<int>(it - magnitudes.begin());
                if (it == magnitudes.end()) magnitudes.push_back(t.magnitude);
            }
            tensors.emplace_back(key + ".A", t.A.detach());
            tensors.emplace_back(key + ".B", t.B.detach());
            names.emplace_back(t.A, key + ".A");
            names.emplace_back(t.B, key + ".B");
            for (auto& [mb, mask] : c.masks)
                if (mb.is_same(t.B)) tensors.emplace_back(key + ".mask", mask);
            meta["terms"][layer_name].push_back({{"index", j},
                                                 {"row_offset", t.row_offset},
                                                 {"scale", t.scale},
                                                 {"magnitude", g},
                                                 {"A_trainable", t.A.requires_grad()},
                                                 {"B_trainable", t.B.requires_grad()}});
        }
    }
    meta["magnitudes"] = magnitudes.size();
    meta["trainable_magnitudes"] = nlohmann::json::array();
    for (size_t g = 0; g < magnitudes.size(); ++g) {
        tensors.emplace_back("magnitude." + std::to_string(g), magnitudes[g].detach().reshape({1}));
        names.emplace_back(magnitudes[g], "magnitude." + std::to_string(g));
        if (magnitudes[g].requires_grad()) meta["trainable_magnitudes"].push_back(g);
    }
    meta["trainable_model"] = nlohmann::json::array();
    for (auto& item : c.model->named_parameters())
        if (item.value().requires_grad()) meta["trainable_model"].push_back(item.key());
    if (head->weight.requires_grad()) meta["trainable_model"].push_back("head.weight");
    if (head->bias.requires_grad()) meta["trainable_model"].push_back("head.bias");
    meta["groups"] = nlohmann::json::array();
    for (const auto& g : c.pass.groups) {
        if (g.params.empty()) continue;
        nlohmann::json params = nlohmann::json::array();
        for (const auto& p : g.params) {
            auto it = std::find_if(names.begin(), names.end(), [&](auto& n) { return n.first.is_same(p); });
            if (it == names.end())
                throw std::runtime_error("compare_pytorch: " + c.name + ": unnamed trainable tensor in group " +
                                         g.name);
            params.push_back(it->second);
        }
        meta["groups"].push_back(
            {{"name", g.name}, {"params", params}, {"lr", g.lr}, {"weight_decay", g.weight_decay}});
    }
    // The methods' extra loss terms and LoRA-P&M's perturbations, for the Python side to add the same.
    auto layer_name_of = [&](const AdapterSite& site) {
        for (auto& [layer_name, layer] : c.model->lora_layers())
            if (layer.get() == site.layer.get()) return layer_name;
        throw std::runtime_error("compare_pytorch: " + c.name + ": site " + site.name() + " has no layer");
    };
    if (const auto* m = dynamic_cast<const OLoRA*>(c.method.get())) {  // λ₁ Σ |A_old A_tᵀ| + λ₂ Σ ‖A_t‖ + ‖B_t‖
        nlohmann::json sites = nlohmann::json::array();
        for (const auto& site : m->sites())
            sites.push_back({{"layer", layer_name_of(site)}, {"row_offset", site.row_offset}});
        meta["o_lora"] = {
            {"lambda_orth", m->options().lambda_orth}, {"lambda_l2", m->options().lambda_l2}, {"sites", sites}};
    }
    if (const auto* m = dynamic_cast<const EWCLoRA*>(c.method.get())) {  // (λ/2) Σ Ω ⊙ (s B A)²
        nlohmann::json sites = nlohmann::json::array();
        for (size_t i = 0; i < m->sites().size(); ++i) {
            sites.push_back({{"layer", layer_name_of(m->sites()[i])}, {"row_offset", m->sites()[i].row_offset}});
            tensors.emplace_back("omega." + std::to_string(i), m->importance().at(i));
        }
        meta["ewc"] = {{"lambda", m->options().lambda}, {"sites", sites}};
    }
    if (const auto* m = dynamic_cast<const LoRAPM*>(c.method.get())) {
        // The draws the method makes for the case's next `training_steps` steps (its steps in the task
        // start at 0 here): both sides scale the task's terms by 1 + sign · ε on the same steps.
        nlohmann::json signs = nlohmann::json::array();
        for (int64_t k = 0; k < training_steps; ++k) signs.push_back(m->perturbation(c.ctx->seed, c.ctx->task, k));
        meta["perturb"] = {{"epsilon", m->pm_options().epsilon}, {"signs", signs}};
    }
    meta["clip_per_tensor"] = c.name == "lori-s" ? c.config.method.options.value("clip_per_tensor", 1.0) : 0.0;
    const std::string path = dir + "/compare_pytorch_" + c.name + ".safetensors";
    save_tensors(path, tensors, {{"case", meta.dump()}});
    return path;
}

// Model matmul FLOPs of one step (docs/cpu-speed.md). A matmul [M, K]·[K, N] costs 2·M·N·K forward;
// backward 2·M·N·K for the input's gradient when the input needs one (something upstream trains) and
// 2·M·N·K for the weight's gradient when the weight (or the adapter folded into it) trains.
struct FlopCount {
    double forward = 0, backward = 0;
    void mm(double m, double n, double k, bool input_grad, bool weight_grad) {
        forward += 2 * m * n * k;
        backward += (input_grad ? 2 * m * n * k : 0) + (weight_grad ? 2 * m * n * k : 0);
    }
};

FlopCount step_flops(LoricaCase& c, int64_t batch, bool train) {
    if (c.resnet) return {};  // counted for the ViT cases only
    const auto& b = c.config.backbone;
    const double tokens = std::pow(b.image_size / b.patch_size, 2) + 1, rows = batch * tokens, dim = b.dim;
    const double hidden = b.dim * b.mlp_ratio, head_dim = dim / b.heads;
    FlopCount f;
    auto trains = [&](const torch::Tensor& t) { return train && t.requires_grad(); };
    const auto& model = *c.model->as<VisionTransformerImpl>();
    bool act = trains(model.patch_embed->proj->weight) || trains(model.pos_embed);  // residual stream needs grad
    f.mm(batch * (tokens - 1), dim, b.patch_size * b.patch_size * b.in_channels, false,
         trains(model.patch_embed->proj->weight));
    auto linear = [&](LoRALinear& l, bool input_grad) {  // returns whether the output needs grad
        const double in = l->options.in_features(), out = l->options.out_features();
        bool weight_grad = trains(l->weight), out_grad = input_grad || weight_grad;
        std::vector<const LowRankTerm*> frozen;
        for (const auto& t : l->terms()) {
            if (!t.trainable_factors()) {
                if (t.magnitude.defined() && trains(t.magnitude)) weight_grad = out_grad = true;
                continue;
            }
            const bool a = trains(t.A), bb = trains(t.B);
            f.mm(rows, t.rank(), in, input_grad, a);              // h = x Aᵀ
            f.mm(rows, t.rows(), t.rank(), input_grad || a, bb);  // z = h Bᵀ
            out_grad = out_grad || a || bb;
        }
        f.mm(rows, out, in, input_grad, weight_grad);
        return out_grad;
    };
    auto& vit = *c.model->as<VisionTransformerImpl>();
    for (size_t i = 0; i < vit.blocks->size(); ++i) {
        auto* block = (*vit.blocks)[i]->as<BlockImpl>();
        const bool qkv_grad = linear(block->attn->qkv, act);
        f.mm(batch * b.heads * tokens, tokens, head_dim, qkv_grad, qkv_grad);  // q kᵀ (both operands)
        f.mm(batch * b.heads * tokens, head_dim, tokens, qkv_grad, qkv_grad);  // attention · v
        act = linear(block->attn->proj, qkv_grad) || act;
        act = linear(block->mlp->fc2, linear(block->mlp->fc1, act)) || act;
    }
    auto head = c.heads->head(0);
    f.mm(batch, kClasses, dim, act, trains(head->weight));
    return f;
}

// The products' GEMM library at `threads` threads as the Lorica side used them (measured on first use,
// or read from the machine's cache file).
void print_kernel_table(int threads) {
    const MachineIdentity id = current_machine_identity(threads);
    std::printf("  GEMM kernel per product at %d thread%s (%s):\n", threads, threads == 1 ? "" : "s",
                kernel_cache_path(id).c_str());
    const KernelTable table = measured_kernel_table();
    for (const auto& [shape, t] : table.entries())
        std::printf("    %-13s [%5lld, %4lld]x[%4lld, %4lld]  aten %7.3f ms  onednn %7.3f ms  -> %s\n",
                    to_string(shape.role), static_cast<long long>(shape.rows), static_cast<long long>(shape.in),
                    static_cast<long long>(shape.in), static_cast<long long>(shape.out), t.aten_ms, t.onednn_ms,
                    to_string(t.pick));
}

}  // namespace

int main(int argc, char** argv) {
    std::string python = "python3", script = std::string(LORICA_SOURCE_DIR) + "/bench/compare_pytorch.py";
    std::string threads_arg = "1,2", dir = "/tmp";
    int rounds = 7, steps = 10, warmup = 3, resnet_steps = 2;
    std::string cases_arg;
    double tolerance = 1e-5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--python")
            python = v;
        else if (a == "--script")
            script = v;
        else if (a == "--threads")
            threads_arg = v;
        else if (a == "--rounds")
            rounds = std::max(1, std::stoi(v));
        else if (a == "--steps")
            steps = std::max(1, std::stoi(v));
        else if (a == "--warmup")
            warmup = std::max(0, std::stoi(v));
        else if (a == "--tolerance")
            tolerance = std::stod(v);
        else if (a == "--dir")
            dir = v;
        else if (a == "--cases")
            cases_arg = v;
        else if (a == "--resnet-steps")
            resnet_steps = std::max(1, std::stoi(v));
        else if (a == "--paths" && (v == "fast" || v == "previous")) {
            if (v == "previous")
                model_paths() = ModelPaths{DenseBackend::aten, TermPath::factored, AttentionKernel::fused};
        } else if (a == "--dense" && (v == "automatic" || v == "aten" || v == "onednn")) {
            model_paths().dense = v == "aten"     ? DenseBackend::aten
                                  : v == "onednn" ? DenseBackend::onednn
                                                  : DenseBackend::automatic;
        } else if (a == "--terms" && (v == "automatic" || v == "folded" || v == "factored")) {
            model_paths().terms = v == "folded"     ? TermPath::folded
                                  : v == "factored" ? TermPath::factored
                                                    : TermPath::automatic;
        } else if (a == "--attention" && (v == "automatic" || v == "fused" || v == "explicit")) {
            model_paths().attention = v == "fused"      ? AttentionKernel::fused
                                      : v == "explicit" ? AttentionKernel::explicit_
                                                        : AttentionKernel::automatic;
        } else {
            std::fprintf(stderr, "compare_pytorch: unknown option or value: %s %s\n", a.c_str(), v.c_str());
            return 2;
        }
    }
    std::vector<int> thread_counts;
    for (std::stringstream ss(threads_arg); ss.good();) {
        std::string t;
        std::getline(ss, t, ',');
        if (!t.empty()) thread_counts.push_back(std::stoi(t));
    }
    const ModelPaths& paths = model_paths();
    std::printf(
        "compare_pytorch: tiny ViT (28/7/1, dim 64, depth 3, heads 4, mlp 4), batch %lld (eval %lld), LibTorch %s\n"
        "Lorica paths: dense %s, LoRA terms %s, attention %s\n",
        static_cast<long long>(kBatch), static_cast<long long>(kEvalBatch), TORCH_VERSION,
        paths.dense == DenseBackend::aten     ? "aten"
        : paths.dense == DenseBackend::onednn ? "onednn (forward, grad_input; grad_weight aten)"
                                              : "automatic (measured per product: engine/model/kernel_choice.h)",
        paths.terms == TermPath::factored ? "factored"
        : paths.terms == TermPath::folded ? "folded"
                                          : "automatic",
        paths.attention == AttentionKernel::fused       ? "fused"
        : paths.attention == AttentionKernel::explicit_ ? "explicit"
                                                        : "automatic");
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({kBatch, 1, 28, 28}), y = torch::randint(0, kClasses, {kBatch});
    const torch::Tensor x_eval = torch::randn({kEvalBatch, 1, 28, 28}),
                        y_eval = torch::randint(0, kClasses, {kEvalBatch});

    std::vector<std::string> names{"sequential-lora", "sd-lora-task5", "lori-s",         "full-finetune",
                                   "frozen-backbone", "eval-512",      "inflora",        "o-lora",
                                   "ewc-lora",        "lora-pm",       "resnet50-conv3", "tiny-resnet"};
    if (!cases_arg.empty()) {
        std::vector<std::string> chosen;
        for (std::stringstream ss(cases_arg); ss.good();) {
            std::string n;
            std::getline(ss, n, ',');
            if (std::find(names.begin(), names.end(), n) == names.end()) {
                std::fprintf(stderr, "compare_pytorch: unknown case %s\n", n.c_str());
                return 2;
            }
            chosen.push_back(n);
        }
        names = chosen;
    }
    std::vector<std::unique_ptr<LoricaCase>> cases;
    PythonSide py(python, script);
    for (const auto& n : names) {
        cases.push_back(make_case(n));
        LoricaCase& c = *cases.back();
        if (!c.x.defined()) c.x = x, c.y = y;
        // Training steps each side takes on the case: the loss check's three, then warm-up + timed steps
        // for every round of every thread count.
        const int64_t training_steps =
            3 + static_cast<int64_t>(thread_counts.size()) * rounds * (c.resnet ? 1 + resnet_steps : warmup + steps);
        py.ask("load " + write_case(c, c.x, c.y, x_eval, y_eval, dir, training_steps), "ok");
    }

    // Same function first: three training steps (loss before each update) and the eval batch's loss.
    at::set_num_threads(thread_counts.front());
    bool agree = true;
    for (auto& c : cases) {
        std::vector<double> ours, theirs;
        if (c->eval_only) {
            torch::NoGradGuard no_grad;
            c->model->eval();
            ours.push_back(c->loss(x_eval, y_eval).item<double>());
            theirs.push_back(std::stod(py.ask("evalloss " + c->name, "evalloss").at(0)));
        } else {
            for (int s = 0; s < 3; ++s) ours.push_back(c->step(c->x, c->y));
            for (const auto& w : py.ask("losses " + c->name + " 3", "losses")) theirs.push_back(std::stod(w));
        }
        double worst = 0;
        for (size_t s = 0; s < ours.size(); ++s) worst = std::max(worst, std::abs(ours[s] - theirs.at(s)));
        std::printf("  loss check %-16s", c->name.c_str());
        for (size_t s = 0; s < ours.size(); ++s) std::printf("  %.7f / %.7f", ours[s], theirs[s]);
        std::printf("   max |Δ| %.2e %s\n", worst, worst <= tolerance ? "ok" : "MISMATCH");
        agree = agree && worst <= tolerance;
    }
    if (!agree) {
        std::printf(
            "compare_pytorch: the two sides do not compute the same losses (tolerance %.1e); no ratio printed\n",
            tolerance);
        return 1;
    }

    const torch::Tensor ga = torch::randn({1024, 1024}), gb = torch::randn({1024, 1024});
    for (int threads : thread_counts) {
        at::set_num_threads(threads);
        std::vector<std::vector<double>> ours(cases.size()), theirs(cases.size());
        std::vector<double> gemm_ms, onednn_ms;
        for (int r = 0; r < rounds; ++r) {
            gemm_ms.push_back(mean_ms([&] { (void)ga.mm(gb); }, 1, 3));
            onednn_ms.push_back(mean_ms(
                [&] {
                    torch::NoGradGuard g;
                    (void)dense_linear(ga, gb, {}, DenseActivation::none, DenseBackend::onednn);
                },
                1, 3));
            for (size_t i = 0; i < cases.size(); ++i) {
                LoricaCase& c = *cases[i];
                auto lorica = [&] {
                    if (c.eval_only) {
                        torch::NoGradGuard no_grad;
                        return mean_ms([&] { (void)c.heads->logits_of(c.model->features(x_eval), 0); }, warmup, steps);
                    }
                    if (c.resnet) return mean_ms([&] { c.step(c.x, c.y); }, 1, resnet_steps);
                    return mean_ms([&] { c.step(x, y); }, warmup, steps);
                };
                const std::string cmd = (c.eval_only ? "evaltime " : "time ") + c.name + " " + std::to_string(threads) +
                                        " " + std::to_string(c.resnet ? 1 : warmup) + " " +
                                        std::to_string(c.resnet ? resnet_steps : steps);
                if (r % 2 == 0) {
                    ours[i].push_back(lorica());
                    theirs[i].push_back(py.ms(cmd));
                } else {
                    theirs[i].push_back(py.ms(cmd));
                    ours[i].push_back(lorica());
                }
            }
        }
        // The machine's GEMM: the faster of LibTorch's two float32 GEMMs (MKL's at::mm, oneDNN) on 1024³.
        const double mkl = median(gemm_ms), onednn = median(onednn_ms), gemm = std::min(mkl, onednn);
        const double gemm_flops = 2.0 * 1024 * 1024 * 1024 / (gemm * 1e-3);
        std::printf(
            "\n%d thread%s, median of %d rounds x %d steps (ResNet cases: %d steps); GEMM 1024^3: at::mm %.2f ms, "
            "oneDNN %.2f ms -> %.1f GFLOP/s\n",
            threads, threads == 1 ? "" : "s", rounds, steps, resnet_steps, mkl, onednn, gemm_flops / 1e9);
        std::printf("  %-16s %11s %11s %8s %12s %14s %14s\n", "case", "Lorica ms", "PyTorch ms", "ratio", "model GFLOP",
                    "Lorica/GEMM", "PyTorch/GEMM");
        for (size_t i = 0; i < cases.size(); ++i) {
            LoricaCase& c = *cases[i];
            const FlopCount f = step_flops(c, c.eval_only ? kEvalBatch : kBatch, !c.eval_only);
            const double total = f.forward + f.backward, a = median(ours[i]), b = median(theirs[i]);
            if (c.resnet) {  // FLOPs counted for the ViT cases only
                std::printf("  %-16s %11.2f %11.2f %8.2f %12s %14s %14s\n", c.name.c_str(), a, b, b / a, "-", "-", "-");
                continue;
            }
            std::printf("  %-16s %11.2f %11.2f %8.2f %12.3f %14.2f %14.2f\n", c.name.c_str(), a, b, b / a, total / 1e9,
                        total / (a * 1e-3) / gemm_flops, total / (b * 1e-3) / gemm_flops);
        }
        if (paths.dense == DenseBackend::automatic) print_kernel_table(threads);
    }
    std::printf(
        "\nratio = PyTorch time / Lorica time (> 1: Lorica faster); X/GEMM = model FLOP/s of the step / GEMM FLOP/s\n");
    return 0;
}
