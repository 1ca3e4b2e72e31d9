#include "engine/methods/merge_interpolation.h"

#include <stdexcept>
#include <utility>

#include <torch/torch.h>

#include "engine/vocabulary/analysis_keys.h"

namespace lorica {
namespace {

// Puts every touched layer back as it was: the original weight tensor's values and its terms.
class LayerRestorer {
public:
    void save(LoRALinear layer) {
        torch::NoGradGuard no_grad;
        Saved s{layer, layer->weight.detach().clone(), {}};
        std::swap(s.terms, layer->terms());  // the layer runs as a plain linear layer meanwhile
        saved_.push_back(std::move(s));
    }
    ~LayerRestorer() {
        torch::NoGradGuard no_grad;
        for (auto& s : saved_) {
            s.layer->weight.copy_(s.weight);
            std::swap(s.layer->terms(), s.terms);
        }
    }

private:
    struct Saved {
        LoRALinear layer;
        torch::Tensor weight;
        std::vector<LowRankTerm> terms;
    };
    std::vector<Saved> saved_;
};

double accuracy_percent(const std::vector<EvalRow>& rows, int task, HeadMode mode) {
    for (const auto& r : rows)
        if (r.eval_task == task && r.head_mode == mode && r.total > 0) return 100.0 * r.correct / r.total;
    return -1.0;
}

}  // namespace

WeightSnapshot snapshot_merged_weights(Backbone model) {
    WeightSnapshot snap;
    for (auto& [name, layer] : model->lora_layers())
        if (!layer->terms().empty()) snap.merged[name] = layer->merged_weight();
    return snap;
}

std::vector<AnalysisPoint> run_merge_interpolation(MethodContext& ctx, const WeightSnapshot& w1,
                                                   const WeightSnapshot& w2, const MergeInterpolationOptions& options) {
    std::vector<AnalysisPoint> points;
    if (options.points <= 0 || options.tasks.empty()) return points;
    for (int t : options.tasks)
        if (t > ctx.task)
            throw std::invalid_argument("merge interpolation: task " + std::to_string(t) + " is not seen yet");

    // Layers present in either snapshot; a layer missing from one snapshot had no terms there (W0).
    struct Endpoints {
        LoRALinear layer;
        torch::Tensor w1, w2;  // [out, in]
    };
    std::vector<Endpoints> layers;
    for (auto& [name, layer] : ctx.model->lora_layers()) {
        auto a = w1.merged.find(name), b = w2.merged.find(name);
        if (a == w1.merged.end() && b == w2.merged.end()) continue;
        torch::Tensor plain = layer->weight.detach();
        layers.push_back({layer, a != w1.merged.end() ? a->second : plain.clone(),
                          b != w2.merged.end() ? b->second : plain.clone()});
    }

    const bool class_il = ctx.config.eval.class_il && !ctx.config.stream.task_incremental;
    const HeadMode mode = class_il ? HeadMode::class_il : HeadMode::task_il;
    {
        LayerRestorer restore;
        for (auto& e : layers) restore.save(e.layer);
        for (int i = 0; i < options.points; ++i) {
            const double lambda = options.points == 1 ? 0.0 : static_cast<double>(i) / (options.points - 1);
            {
                torch::NoGradGuard no_grad;
                for (auto& e : layers) e.layer->weight.copy_(e.w1 * (1.0 - lambda) + e.w2 * lambda);
            }
            auto rows = ctx.evaluate_tasks(options.tasks);
            for (int t : options.tasks) {
                const double acc = accuracy_percent(rows, t, mode);
                if (acc < 0) continue;
                points.push_back({AnalysisKey::merge_interpolation, SeriesKey::of_task(t), lambda, acc});
            }
        }
    }
    if (ctx.emit) ctx.emit(AnalysisDone{points});
    return points;
}

}  // namespace lorica
