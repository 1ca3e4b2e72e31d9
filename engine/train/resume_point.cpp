#include "engine/train/resume_point.h"

#include <filesystem>
#include <fstream>

#include <ATen/Context.h>
#include <torch/torch.h>

#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/io/timm_weights.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

nlohmann::json read_checkpoint_json(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw CheckpointFileError(path.string(), "missing");
    try {
        return nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw CheckpointFileError(path.string(), std::string("damaged (not JSON): ") + e.what());
    }
}

at::Generator device_generator(torch::Device device) { return at::globalContext().defaultGenerator(device); }

}  // namespace

ResumePoint read_resume_point(const std::string& task_dir) {
    ResumePoint point;
    point.task_dir = task_dir;
    point.run_dir = fs::path(task_dir).parent_path().string();
    if (!fs::is_directory(task_dir))
        throw CheckpointFileError(task_dir, "missing (the task checkpoint directory is gone)");
    point.state = read_resume_state(task_dir);  // checks every file of the manifest first
    point.checkpoint = read_checkpoint_json(fs::path(task_dir) / "checkpoint.json");
    return point;
}

ResumeState capture_resume_state(int task, int64_t step, const std::string& config_hash, int64_t seed,
                                 const AdapterMethod& method, const MethodContext& ctx, const Evaluator& evaluator,
                                 int64_t analysis_points) {
    ResumeState s;
    s.task = task;
    s.step = step;
    s.config_hash = config_hash;
    s.seed = seed;
    s.method = method.name();
    s.method_format = method.state_format();
    s.analysis_points = analysis_points;
    s.method_state = method.save_state(ctx);
    {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        s.cpu_generator = gen.get_state();
    }
    if (!ctx.device.is_cpu()) {
        at::Generator gen = device_generator(ctx.device);
        std::lock_guard<std::mutex> lock(gen.mutex());
        s.device_generator = gen.get_state();
    }
    if (evaluator.foundation_hits().defined()) s.foundation_hits = copy_to_host(evaluator.foundation_hits());
    if (evaluator.foundation_start_hits().defined())
        s.foundation_start_hits = copy_to_host(evaluator.foundation_start_hits());
    return s;
}

void write_resume_files(const std::string& task_dir, const ResumeState& state) {
    const fs::path dir(task_dir);
    const nlohmann::json info = read_checkpoint_json(dir / "checkpoint.json");
    const std::string task = dir.filename().string();
    std::vector<std::string> files = {task + "/checkpoint.json", task + "/heads.safetensors",
                                      task + "/adapter_set.safetensors", info.at("backbone").get<std::string>()};
    write_resume_state(task_dir, state, files);
}

void load_checkpoint_weights(const ResumePoint& point, Backbone model, TaskHeads& heads, torch::Device device) {
    const fs::path run_dir(point.run_dir);
    const fs::path backbone = run_dir / point.checkpoint.at("backbone").get<std::string>();
    try {
        load_timm_weights(model, backbone.string(),
                          TimmLoadOptions{/*interpolate_pos_embed*/ false, /*load_head*/ true});
    } catch (const std::exception& e) {
        throw CheckpointFileError(backbone.string(), e.what());
    }
    model->to(device);
    const fs::path heads_path = fs::path(point.task_dir) / "heads.safetensors";
    try {
        SafetensorsFile file = SafetensorsFile::open(heads_path.string());
        const auto classes = point.checkpoint.at("head_classes").get<std::vector<int64_t>>();
        torch::NoGradGuard no_grad;
        for (size_t h = 0; h < classes.size(); ++h) {
            const int index = heads->add_head(classes[h], 0, device);
            torch::Tensor w = view_to_float_tensor(file.tensor("heads." + std::to_string(h) + ".weight"));
            torch::Tensor b = view_to_float_tensor(file.tensor("heads." + std::to_string(h) + ".bias"));
            heads->head(index)->weight.copy_(w);
            heads->head(index)->bias.copy_(b);
        }
    } catch (const CheckpointFileError&) {
        throw;
    } catch (const std::exception& e) {
        throw CheckpointFileError(heads_path.string(), e.what());
    }
}

void restore_carried_state(const ResumePoint& point, AdapterMethod& method, MethodContext& ctx, Evaluator& evaluator) {
    const std::string file = (fs::path(point.task_dir) / kResumeStateFile).string();
    const ResumeState& s = point.state;
    if (s.method != method.name())
        throw CheckpointFileError(
            file, "holds the state of method '" + s.method + "', the run's config is '" + method.name() + "'");
    if (s.method_format != method.state_format())
        throw CheckpointFileError(file, "method state format " + std::to_string(s.method_format) + " of " + s.method +
                                            "; this Lorica's " + method.name() + " writes and reads format " +
                                            std::to_string(method.state_format()) +
                                            " (its state changed: the run cannot be continued)");
    try {
        method.restore_state(ctx, s.method_state);
    } catch (const std::exception& e) {
        throw CheckpointFileError(file, std::string("method state does not fit: ") + e.what());
    }
    {
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(s.cpu_generator);
    }
    if (!ctx.device.is_cpu() && s.device_generator.defined()) {
        at::Generator gen = device_generator(ctx.device);
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(s.device_generator);
    }
    evaluator.set_foundation_hits(s.foundation_hits);
    evaluator.set_foundation_start_hits(s.foundation_start_hits);
}

}  // namespace lorica
