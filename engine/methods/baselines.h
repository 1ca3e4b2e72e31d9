#pragma once
// The baselines every adapter method is compared against.
//
// sequential-lora   one LoRA pair per adapted site (PEFT init, s = alpha / r), trained task after task
//                   and never reset (method.targets picks the sites: q,v by default). Records the
//                   merge interpolation between its solutions after tasks 0 and 1 (W0 + s·B A each;
//                   merge_interpolation.h); options `interpolation_points` (int ≥ 0, default 11, 0 = off)
//                   and `dropout` (PEFT's lora_dropout on the pair, default 0; lora_linear.h "Dropout").
// full-finetune     every backbone parameter trains on every task (lr = train.optimizer.lr).
// frozen-backbone   the backbone never changes; only the task heads train (a linear probe per task).
// The other two have no options (method.options must be empty).

#include <memory>

#include "engine/methods/adapter_method.h"
#include "engine/methods/catalog/baseline_options.h"
#include "engine/methods/merge_interpolation.h"
#include "engine/model/adapter_targets.h"

namespace lorica {

class SequentialLoRA final : public AdapterMethod {
public:
    explicit SequentialLoRA(const ExperimentConfig& config);
    std::string name() const override { return "sequential-lora"; }
    void begin_run(MethodContext& ctx) override;
    void begin_task(MethodContext& ctx) override {}
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    void end_task(MethodContext& ctx) override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    // State: A and B of every site ("A.<i>", "B.<i>"), the merged weights after task 0 ("after_task0.*", in the state after task 0 only: the
    // interpolation at task 1 reads it).
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

private:
    std::vector<AdapterSite> sites_;
    std::vector<torch::Tensor> factors_;  // A and B of every site
    int interpolation_points_ = 11;
    double dropout_ = 0.0;  // method.options.dropout: LowRankTerm::dropout of the pair
    WeightSnapshot after_task0_;
};

class FullFinetune final : public AdapterMethod {
public:
    explicit FullFinetune(const ExperimentConfig& config);
    std::string name() const override { return "full-finetune"; }
    void begin_task(MethodContext& ctx) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    // No state of its own: the checkpoint's backbone is all of it.
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;
};

class FrozenBackbone final : public AdapterMethod {
public:
    explicit FrozenBackbone(const ExperimentConfig& config);
    std::string name() const override { return "frozen-backbone"; }
    void begin_task(MethodContext& ctx) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override { return {}; }
    // No state of its own.
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;
};

// Freezes every backbone parameter (the foundation head included).
void freeze_backbone(Backbone model);

}  // namespace lorica
