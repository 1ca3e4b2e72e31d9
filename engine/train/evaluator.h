#pragma once
// Accuracy of the current model on test sets: the rows of the accuracy matrix.
//
// For a stream task j evaluated when heads [0, last_head] exist:
//   class-IL: argmax over the concatenated logits of heads 0..last_head, mapped back to the data set's
//             label (correct when it equals the true label; no task id used)
//   task-IL:  argmax over head(j)'s logits only
//   data-set streams: labels are compared in the union label space (TaskSpec::label_offset + label)
// For the foundation task: argmax of the backbone's own frozen `head` (output k = data-set label
// spec.foundation_head_classes[k]; for foundation.source = weights the head's outputs themselves),
// with per-class counts (per class of spec.foundation_classes) and, from
// the second end-of-task evaluation on, per class the samples newly misclassified since the previous
// end-of-task evaluation (methods.md, "contextual forgetting").
// Runs under NoGradGuard with the model in eval mode (given back the train/eval mode it had, also when
// the evaluation throws: ModuleModeGuard), in batches of eval.batch_size (host batches
// copied pinned and non-blocking to a GPU, device_transfer.h), the backbone's forward under the
// run's train.precision (precision.h; fp32 features for the heads).

#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/data/stream_data.h"
#include "engine/model/task_heads.h"
#include "engine/model/backbone.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/events.h"

namespace lorica {

class Evaluator {
public:
    Evaluator(const StreamData& data, const EvalConfig& config, torch::Device device, CancelToken* cancel = nullptr);

    // Rows for each task in `tasks`, heads 0..last_head available. One row per enabled head mode.
    std::vector<EvalRow> evaluate_tasks(Backbone model, TaskHeads& heads, const std::vector<int>& tasks, int last_head,
                                        int after_task, int64_t step, EvalPhase phase);

    // The foundation task through the backbone's head: one class-IL row (= task-IL: one head) and
    // per-class rows. Returns nothing when the stream has no foundation task.
    EvaluationDone evaluate_foundation(Backbone model, int after_task, int64_t step, EvalPhase phase);

    // Arithmetic of the backbone's forward (default fp32: no autocast).
    void set_precision(Precision precision) { precision_ = precision; }

    // The per-sample hits the next end-of-task foundation evaluation compares against (bool [N] on the
    // device, undefined before the first one): carried across tasks, so a resumed run restores it.
    const torch::Tensor& foundation_hits() const { return previous_foundation_hit_; }
    void set_foundation_hits(const torch::Tensor& hits) {
        previous_foundation_hit_ = hits.defined() ? hits.to(device_) : hits;
    }
    // The pre-stream foundation evaluation's per-sample hits (bool [N], undefined before it), the
    // reference of ClassEvalRow::lost_since_start: carried by a resumed run's checkpoint too.
    const torch::Tensor& foundation_start_hits() const { return start_foundation_hit_; }
    void set_foundation_start_hits(const torch::Tensor& hits) {
        start_foundation_hit_ = hits.defined() ? hits.to(device_) : hits;
    }

private:
    // the N images of a source, test transform, in order → features [N, dim] on the device
    torch::Tensor features(Backbone model, SampleSource& images);

    const StreamData& data_;
    EvalConfig config_;
    torch::Device device_;
    CancelToken* cancel_;
    Precision precision_ = Precision::fp32;
    // Per-sample hits [N_foundation_test] of the last end-of-task foundation evaluation, for
    // ClassEvalRow::newly_wrong; undefined before the first one.
    torch::Tensor previous_foundation_hit_;
    // Per-sample hits of the pre-stream foundation evaluation (after_task −1), for
    // ClassEvalRow::lost_since_start; undefined before it (a resumed run restores it).
    torch::Tensor start_foundation_hit_;
};

}  // namespace lorica
