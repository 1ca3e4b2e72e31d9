#pragma once
// Task preview: what each task of a stream holds, as the model will see it, for the set-up panel.
//
// For every stream task: its classes (data-set labels and names), its domain, and `samples` training
// images picked evenly over the task's training set (positions i · size / samples, i = 0 .. samples − 1;
// the set is ordered class by class, so every class shows). The images come from the engine's own data
// path (build_stream_data): domain transform and (x − mean) / std applied, exactly the tensors the
// trainer batches. In-memory data sets give the training tensors themselves; streamed ones (image
// folders, CIFAR above 32 px) their test transform (resize + centre crop, no random crop), so the
// preview does not change from one request to the next.
//
// Two forms of each image:
//   normalised  float [n, c, h, w], row-major: the model's input values
//   display     uint8 RGB [n, h, w, 3]: un-normalised (x · std + mean, i.e. the domain-transformed
//               pixels in [0, 1]) clamped to [0, 1] and scaled to 0..255; one channel is shown grey.
//
// TaskPreviewer keeps the last raw data set it loaded (keyed by the data section and backbone size),
// so previews of another stream over the same data set do not reload it. Not thread-safe: one
// previewer per thread. Torch-free header (the GUI includes it).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"

namespace lorica {

struct TaskPreview {
    int task = 0;
    std::string domain;
    std::vector<int> classes;               // data-set labels, in the task's order
    std::vector<std::string> class_names;   // one per entry of `classes`
    int64_t train_size = 0;                 // training images of the task
    std::vector<int64_t> sample_positions;  // positions in the task's training set, [n]
    std::vector<int> sample_labels;         // data-set label of each sample, [n]
    int channels = 0, height = 0, width = 0;
    std::vector<float> normalised;     // [n, channels, height, width]
    std::vector<uint8_t> display_rgb;  // [n, height, width, 3]
    int samples() const { return static_cast<int>(sample_positions.size()); }
};

struct StreamPreview {
    std::string dataset;
    int64_t seed = 0;  // the class order's seed (stream.class_order_seed, else the first run seed)
    std::vector<TaskPreview> tasks;
};

class TaskPreviewer {
public:
    TaskPreviewer();
    ~TaskPreviewer();
    TaskPreviewer(const TaskPreviewer&) = delete;
    TaskPreviewer& operator=(const TaskPreviewer&) = delete;

    // Every task of `config`'s stream with `samples_per_task` images each. Throws ConfigError /
    // DataError as loading the data set or cutting the stream does (naming the field or file).
    StreamPreview preview(const ExperimentConfig& config, int samples_per_task);

private:
    struct Cache;
    std::unique_ptr<Cache> cache_;
};

// The sample positions `preview` picks in a training set of `size` images.
std::vector<int64_t> preview_positions(int64_t size, int samples);

}  // namespace lorica
