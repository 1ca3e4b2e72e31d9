#include "engine/train/evaluator.h"

#include <torch/torch.h>

#include "engine/runtime/device_transfer.h"
#include "engine/train/module_mode_guard.h"
#include "engine/train/precision.h"
#include "engine/runtime/host_read.h"

namespace lorica {

Evaluator::Evaluator(const StreamData& data, const EvalConfig& config, torch::Device device, CancelToken* cancel)
    : data_(data), config_(config), device_(device), cancel_(cancel) {}

torch::Tensor Evaluator::features(Backbone model, SampleSource& images) {
    torch::NoGradGuard no_grad;  // not InferenceMode: streamed sources and cached adapter terms outlive the evaluation
    const ModuleModeGuard eval_mode(*model, false);  // the caller's mode again on return and on exceptions
    std::vector<torch::Tensor> parts;
    std::vector<torch::Tensor> batches;  // sequential ranges, planned so a streamed source decodes ahead
    for (int64_t start = 0; start < images.size(); start += config_.batch_size)
        batches.push_back(index_range(start, std::min(images.size(), start + config_.batch_size)));
    images.plan(batches, BatchMode::test, 0);
    for (const auto& index : batches) {
        if (cancel_) cancel_->checkpoint();
        auto batch = images.batch_on(index, BatchMode::test, 0, device_);
        AutocastScope autocast(precision_, device_);
        parts.push_back(model->features(batch).to(torch::kFloat));  // the heads take fp32 features
    }
    return torch::cat(parts, 0);
}

std::vector<EvalRow> Evaluator::evaluate_tasks(Backbone model, TaskHeads& heads, const std::vector<int>& tasks,
                                               int last_head, int after_task, int64_t step, EvalPhase phase) {
    torch::NoGradGuard no_grad;  // not InferenceMode: streamed sources and cached adapter terms outlive the evaluation
    // Data-set label of every class-IL logit of heads 0..last_head.
    // (Data-set streams: offset into the union of the data sets' label spaces.)
    std::vector<int64_t> global_classes;
    for (int h = 0; h <= last_head; ++h)
        for (const auto& t : data_.tasks)
            if (t.spec.head == h) {
                for (int c : t.spec.classes) global_classes.push_back(int64_t{c} + t.spec.label_offset);
                break;
            }
    auto global_map = torch::tensor(global_classes, torch::kInt64).to(device_);

    std::vector<EvalRow> rows;
    for (int j : tasks) {
        const TaskData& task = data_.tasks.at(j);
        torch::Tensor f = features(model, *task.test.samples);
        torch::Tensor labels = task.test.labels.to(device_);
        const int64_t total = labels.size(0);
        if (config_.class_il) {
            auto pred = global_map.index_select(0, heads->logits_upto(f, last_head).argmax(1));
            auto union_labels = task.spec.label_offset == 0 ? labels : labels + task.spec.label_offset;
            rows.push_back(
                {after_task, j, step, phase, HeadMode::class_il, read_int((pred == union_labels).sum()), total});
        }
        if (config_.task_il) {
            std::vector<int64_t> own(task.spec.classes.begin(), task.spec.classes.end());
            auto own_map = torch::tensor(own, torch::kInt64).to(device_);
            auto pred = own_map.index_select(0, heads->logits_of(f, task.spec.head).argmax(1));
            rows.push_back({after_task, j, step, phase, HeadMode::task_il, read_int((pred == labels).sum()), total});
        }
    }
    return rows;
}

EvaluationDone Evaluator::evaluate_foundation(Backbone model, int after_task, int64_t step, EvalPhase phase) {
    EvaluationDone out;
    const auto& classes = data_.spec.foundation_classes;
    const auto& head_classes = data_.spec.foundation_head_classes;
    if (classes.empty() || head_classes.empty() || !model->head) return out;
    torch::NoGradGuard no_grad;  // not InferenceMode: streamed sources and cached adapter terms outlive the evaluation
    torch::Tensor f = features(model, *data_.foundation_test.samples);
    std::vector<int64_t> cls(head_classes.begin(), head_classes.end());  // the label of each head output
    auto map = torch::tensor(cls, torch::kInt64).to(device_);
    auto pred = map.index_select(0, model->head->forward(f).argmax(1));
    auto labels = data_.foundation_test.labels.to(device_);
    auto hit = (pred == labels);
    out.rows.push_back(
        {after_task, kFoundationTask, step, phase, HeadMode::class_il, read_int(hit.sum()), labels.size(0)});
    if (phase == EvalPhase::end_of_task) {
        // Samples lost since the previous end-of-task evaluation (pred_before == y && pred_after != y).
        const bool has_previous = previous_foundation_hit_.defined() && previous_foundation_hit_.size(0) == hit.size(0);
        auto lost = has_previous ? previous_foundation_hit_.logical_and(hit.logical_not()) : torch::Tensor();
        // Samples lost since the pre-stream evaluation (pred_start == y && pred_after != y).
        const bool has_start = start_foundation_hit_.defined() && start_foundation_hit_.size(0) == hit.size(0);
        auto lost_start = has_start ? start_foundation_hit_.logical_and(hit.logical_not()) : torch::Tensor();
        for (int c : classes) {
            auto of_class = labels == c;
            ClassEvalRow row{after_task, kFoundationTask, c, read_int((hit & of_class).sum()), read_int(of_class.sum()),
                             -1};
            if (has_previous) row.newly_wrong = read_int((lost & of_class).sum());
            if (has_start) row.lost_since_start = read_int((lost_start & of_class).sum());
            out.class_rows.push_back(row);
        }
        previous_foundation_hit_ = hit;
        if (after_task < 0) start_foundation_hit_ = hit;
    }
    return out;
}

}  // namespace lorica
