#include "engine/train/step_loss_log.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace lorica {

StepLossLog::StepLossLog(int64_t every, EventListener& events) : losses_(every), events_(events) {}

void StepLossLog::record(StepMetrics metrics, const torch::Tensor& loss, std::vector<PendingMethodState> states) {
    if (pending_.empty())
        block_start_ = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double, std::milli>(metrics.step_ms));
    pending_.push_back(metrics);
    std::vector<StateKey> keys;
    std::vector<torch::Tensor> values;
    for (auto& s : states) {
        keys.push_back(s.key);
        values.push_back(std::move(s.values));
    }
    pending_keys_.push_back(std::move(keys));
    if (losses_.push(loss, values)) flush();
}

void StepLossLog::flush() {
    if (pending_.empty()) return;
    const std::vector<StepReadout> values = losses_.read_steps();
    const auto n = static_cast<int64_t>(pending_.size());
    const double block_ms = std::chrono::duration<double, std::milli>(Clock::now() - block_start_).count();
    std::vector<StepMetrics> steps = std::move(pending_);
    std::vector<std::vector<StateKey>> keys = std::move(pending_keys_);
    pending_.clear();
    pending_keys_.clear();
    for (int64_t i = 0; i < n; ++i) {
        StepMetrics& s = steps[i];
        s.loss = values[i].loss;
        if (!std::isfinite(s.loss)) {
            std::string where = "task " + std::to_string(s.task) + ", epoch " + std::to_string(s.epoch + 1) +
                                ", step " + std::to_string(s.step_in_task);
            std::string message =
                where + ": loss is " + std::to_string(s.loss) + " (lower train.optimizer.lr or set train.grad_clip)";
            if (n > 1)
                message += "; read back with steps " + std::to_string(steps.front().step_in_task) + "–" +
                           std::to_string(steps.back().step_in_task);
            throw std::runtime_error(message);
        }
        if (n > 1) s.step_ms = block_ms / static_cast<double>(n);
        sum_ += s.loss;
        ++count_;
        events_.on_event(s);
        for (size_t k = 0; k < keys[i].size(); ++k)
            events_.on_event(MethodState{s.task, s.step, keys[i][k], values[i].values[k]});
    }
}

double StepLossLog::take_mean() {
    const double mean = count_ ? sum_ / static_cast<double>(count_) : 0.0;
    sum_ = 0.0;
    count_ = 0;
    return mean;
}

}  // namespace lorica
