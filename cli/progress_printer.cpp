#include "cli/progress_printer.h"

#include <cmath>

#include "engine/vocabulary/progress_estimate.h"

namespace lorica::cli {

std::string ProgressPrinter::prefix() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "seed %lld · run %d/%zu]", static_cast<long long>(run_.seed), run_.run_index + 1,
                  seeds_);
    if (run_.variant.empty()) return std::string("[") + buf;
    return "[" + run_.variant + " (" + std::to_string(run_.variant_index + 1) + "/" + std::to_string(variants_) +
           ") · " + buf;
}

std::string ProgressPrinter::eta(double seconds) const {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    int s = static_cast<int>(std::lround(seconds));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
    return buf;
}

void ProgressPrinter::on_event(const Event& event) {
    if (auto* e = std::get_if<ExperimentStarted>(&event)) {
        seeds_ = e->seeds.size();
        variants_ = e->variants.size();
        std::fprintf(out_, "experiment '%s' (config %s), %zu seed(s)", e->name.c_str(), e->config_hash.c_str(), seeds_);
        if (variants_ > 0) std::fprintf(out_, ", %zu variant(s)", variants_);
        std::fprintf(out_, "\n");
    } else if (auto* e = std::get_if<RunStarted>(&event)) {
        run_ = *e;
        clock_started_ = false;
        std::fprintf(out_, "%s method %s on %s (LibTorch %s), %d tasks, %lld steps planned\n", prefix().c_str(),
                     e->method.c_str(), e->device.c_str(), e->torch_version.c_str(), e->num_tasks,
                     static_cast<long long>(e->total_steps));
    } else if (auto* e = std::get_if<StreamDescribed>(&event)) {
        tasks_ = e->tasks;
    } else if (auto* e = std::get_if<FoundationProgress>(&event)) {
        if (e->from_cache)
            std::fprintf(out_, "%s foundation loaded from cache %s\n", prefix().c_str(), e->checkpoint.c_str());
        else if (e->step % (every_ * 4) == 0 || e->step == e->total_steps)
            std::fprintf(out_, "%s foundation  step %lld/%lld  loss %.4f\n", prefix().c_str(),
                         static_cast<long long>(e->step), static_cast<long long>(e->total_steps), e->loss);
    } else if (auto* e = std::get_if<TaskStarted>(&event)) {
        task_steps_ = e->steps;
        std::string name = e->task < static_cast<int>(tasks_.size()) ? tasks_[e->task].name : "";
        std::fprintf(out_, "%s task %d/%d started: %s, %lld steps, %lld trainable parameters\n", prefix().c_str(),
                     e->task + 1, run_.num_tasks, name.c_str(), static_cast<long long>(e->steps),
                     static_cast<long long>(e->trainable_parameters));
    } else if (auto* e = std::get_if<StepMetrics>(&event)) {
        if (!clock_started_) {  // the clock starts at the run's first stream step (after the foundation)
            clock_started_ = true;
            run_start_ = std::chrono::steady_clock::now();
            steps_at_clock_start_ = e->step - 1;  // > 0 for a resumed run
        }
        recent_ms_ = recent_ms_ == 0.0 ? e->step_ms : 0.9 * recent_ms_ + 0.1 * e->step_ms;
        if (e->step_in_task % every_ == 0 || e->step_in_task == task_steps_) {
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
            // e->step counts the run's steps from its start; those since the clock started are timed.
            const ProgressEstimate estimate =
                estimate_progress(e->step, run_.total_steps, e->step - steps_at_clock_start_, elapsed);
            const double fraction = estimate.fraction;
            const double remaining = estimate.eta_seconds;
            std::fprintf(
                out_,
                "%s task %d/%d  epoch %d/%d  step %lld/%lld  loss %.4f  lr %.1e  %.1f ms/step  run %2.0f%%  ETA %s\n",
                prefix().c_str(), e->task + 1, run_.num_tasks, e->epoch + 1, run_.facts.epochs_of(e->task),
                static_cast<long long>(e->step_in_task), static_cast<long long>(task_steps_), e->loss, e->lr,
                recent_ms_, 100.0 * fraction, eta(remaining).c_str());
        }
    } else if (auto* e = std::get_if<EvaluationDone>(&event)) {
        // Summarise end-of-task evaluations: one line per task boundary.
        int after = -2;
        double sum = 0.0;
        int n = 0;
        std::string per_task, foundation;
        for (const auto& r : e->rows) {
            if (r.phase != EvalPhase::end_of_task || r.total == 0) continue;
            after = r.after_task;
            const double pct = 100.0 * double(r.correct) / double(r.total);
            if (r.eval_task == kFoundationTask) {
                char buf[48];
                std::snprintf(buf, sizeof buf, "  foundation %.1f%%", pct);
                foundation = buf;
            } else if (r.head_mode == HeadMode::class_il) {
                char buf[32];
                std::snprintf(buf, sizeof buf, " t%d %.1f", r.eval_task, pct);
                per_task += buf;
                sum += pct;
                ++n;
            }
        }
        if (after >= 0 && n > 0)
            std::fprintf(out_, "%s after task %d: class-IL acc %.2f%%  (%s )%s\n", prefix().c_str(), after + 1, sum / n,
                         per_task.c_str(), foundation.c_str());
        else if (after == -1 && !foundation.empty())
            std::fprintf(out_, "%s foundation task before the stream:%s\n", prefix().c_str(), foundation.c_str());
    } else if (auto* e = std::get_if<Warning>(&event)) {
        std::fprintf(out_, "%s warning: %s\n", prefix().c_str(), e->message.c_str());
    } else if (auto* e = std::get_if<RunFinished>(&event)) {
        std::fprintf(out_, "%s run %s in %.1f s%s%s\n", prefix().c_str(), to_string(e->status), e->seconds,
                     e->message.empty() ? "" : ": ", e->message.c_str());
    }
    std::fflush(out_);
}

}  // namespace lorica::cli
