#pragma once
// What a task checkpoint holds beyond its weights so that the run can continue from it exactly
// (`lorica-cli resume`, engine/services/run_resume.h).
//
// Files in task_<t>/ (next to run_checkpoint.h's checkpoint.json, heads and adapter set):
//   resume_state.safetensors   metadata "lorica.resume": {format, task, step, config_hash, seed, method,
//                              method_format, analysis_points, method_meta}; tensors
//                                "trainer.cpu_generator"    torch's global CPU generator state (uint8)
//                                "trainer.device_generator" the accelerator's generator state (CUDA runs)
//                                "trainer.foundation_hits"  the evaluator's carried per-sample hits (bool)
//                                "trainer.foundation_start_hits"  the pre-stream evaluation's hits (bool;
//                                                           absent in checkpoints written before it was kept)
//                                "method.<name>"            the method's own tensors (StateSnapshot)
//   resume.json                written last, atomically: {format, files: {path relative to the run
//                              directory: {bytes, crc32}}} for every file the resume reads. A task
//                              directory without it is not resumable (the writer died mid-checkpoint).
//
// Errors: CheckpointFileError names the file (missing, damaged — size or CRC-32 differs from the
// manifest —, unreadable, or of another format version).

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace lorica {

inline constexpr const char* kResumeStateFile = "resume_state.safetensors";
inline constexpr const char* kResumeManifestFile = "resume.json";
inline constexpr int kResumeStateFormat = 1;

// A state as JSON plus named tensors (a method's save_state, the trainer's carried state).
struct StateSnapshot {
    nlohmann::json meta = nlohmann::json::object();
    std::map<std::string, torch::Tensor> tensors;  // on the CPU, dtype kept (float32, int64, uint8, bool)

    // Stores a detached CPU copy of `tensor` under `name` (replacing one of that name).
    void put(const std::string& name, const torch::Tensor& tensor);
    bool has(const std::string& name) const { return tensors.count(name) != 0; }
    // The tensor `name`, moved to `device`; throws std::runtime_error("no tensor '<name>' ...") when absent.
    torch::Tensor get(const std::string& name, torch::Device device = torch::kCPU) const;
};

// A file of a checkpoint that cannot be used; `file()` is its path.
class CheckpointFileError : public std::runtime_error {
public:
    CheckpointFileError(std::string file, const std::string& problem)
        : std::runtime_error(file + ": " + problem), file_(std::move(file)) {}
    const std::string& file() const { return file_; }

private:
    std::string file_;
};

struct ResumeState {
    int task = 0;             // the task the checkpoint follows
    int64_t step = 0;         // global stream step at its end
    std::string config_hash;  // of the run's effective config
    int64_t seed = 0;
    std::string method;                   // AdapterMethod::name()
    int method_format = 0;                // AdapterMethod::state_format() that wrote method_state
    int64_t analysis_points = 0;          // analysis points the run had emitted up to the checkpoint
    StateSnapshot method_state;           // AdapterMethod::save_state
    torch::Tensor cpu_generator;          // at::getDefaultCPUGenerator().get_state() (uint8)
    torch::Tensor device_generator;       // the accelerator's default generator state (uint8), undefined on the CPU
    torch::Tensor foundation_hits;        // Evaluator::foundation_hits(), undefined when none
    torch::Tensor foundation_start_hits;  // Evaluator::foundation_start_hits(), undefined when none
};

// Writes task_dir/resume_state.safetensors, then task_dir/resume.json with the size and CRC-32 of it
// and of every file in `checked_files` (paths relative to the run directory, the parent of task_dir).
void write_resume_state(const std::string& task_dir, const ResumeState& state,
                        const std::vector<std::string>& checked_files);

// Checks task_dir/resume.json's files (present, same size and CRC-32) and reads the state.
// Throws CheckpointFileError naming the first file that is missing, damaged or unreadable.
ResumeState read_resume_state(const std::string& task_dir);

// CRC-32 (zlib) of a file's bytes; throws CheckpointFileError when it cannot be read.
uint32_t file_crc32(const std::string& path);

}  // namespace lorica
