#pragma once
// Fixtures for the benchmark-preset tests: tiny data sets in the exact layouts the ViT-B/16 presets
// expect (same class count, same folder / file-list / binary format, a few generated images per class),
// a small ViT at 224 px in place of ViT-B/16 (with its weights written as a timm-layout safetensors
// file, so the presets' required backbone.weights is exercised too), and a runner that assembles a
// preset as lorica-cli does, runs the preflight and the experiment in-process, and keeps the events.
//
// Layouts written (see each preset's "requires" and docs/benchmarks.md):
//   pre-split folders   <root>/train/<class>/<i>.jpg, <root>/test/<class>/<i>.jpg   (ImageNet-R/A, CUB-200)
//   DomainNet           <root>/<domain>/<class>/<file>.jpg, the six <domain>_{train,test}.txt lists
//                       ("<domain>/<class>/<file>.jpg <label>"), joined into domainnet_{split}.txt
//                       as docs/benchmarks.md tells the user to
//   CIFAR-100 binary    <root>/train.bin, <root>/test.bin: records of coarse byte, fine byte, 3,072 pixels

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/presets.h"
#include "engine/data/image_decode.h"
#include "engine/io/timm_weights.h"
#include "engine/model/vit.h"
#include "engine/services/preflight.h"
#include "engine/services/training_job.h"
#include "engine/vocabulary/event_listener.h"
#include "tests/support/temp_dir.h"

namespace lorica::testing {

namespace fs = std::filesystem;

// The small ViT swapped in for ViT-B/16: 224 px input, patch 32 (7×7 tokens), dim 32, one block.
inline std::vector<std::string> small_vit_overrides() {
    return {"backbone.image_size=224", "backbone.patch_size=32", "backbone.dim=32",
            "backbone.depth=1",        "backbone.heads=2",       "backbone.mlp_ratio=2.0"};
}

// A deterministic small image: a class-dependent colour gradient with a per-image offset.
inline DecodedImage tiny_image(int cls, int index, int size = 20) {
    DecodedImage img;
    img.width = img.height = size;
    img.channels = 3;
    img.pixels.resize(static_cast<size_t>(size) * size * 3);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            uint8_t* p = &img.pixels[(static_cast<size_t>(y) * size + x) * 3];
            p[0] = static_cast<uint8_t>((cls * 37 + x * 9 + index * 5) % 256);
            p[1] = static_cast<uint8_t>((cls * 91 + y * 11) % 256);
            p[2] = static_cast<uint8_t>((cls * 53 + (x + y) * 4 + index * 17) % 256);
        }
    return img;
}

inline void write_jpeg(const fs::path& path, int cls, int index) {
    fs::create_directories(path.parent_path());
    write_image_file(path.string(), encode_jpeg(tiny_image(cls, index)));
}

// <root>/train/<class>/<i>.jpg and <root>/test/<class>/<i>.jpg for every class name.
inline void write_presplit_folders(const fs::path& root, const std::vector<std::string>& classes, int train_per_class,
                                   int test_per_class) {
    for (size_t c = 0; c < classes.size(); ++c) {
        for (int i = 0; i < train_per_class; ++i)
            write_jpeg(root / "train" / classes[c] / (std::to_string(i) + ".jpg"), static_cast<int>(c), i);
        for (int i = 0; i < test_per_class; ++i)
            write_jpeg(root / "test" / classes[c] / (std::to_string(i) + ".jpg"), static_cast<int>(c), 100 + i);
    }
}

// WordNet-id-like folder names (ImageNet-R / ImageNet-A), sorted as their labels are.
inline std::vector<std::string> wnid_classes(int n) {
    std::vector<std::string> out;
    for (int c = 0; c < n; ++c) {
        char name[16];
        std::snprintf(name, sizeof name, "n%08d", 1440000 + 7 * c);
        out.push_back(name);
    }
    return out;
}

// CUB-200's folder names: "001.<name>" ... "200.<name>".
inline std::vector<std::string> cub_classes() {
    std::vector<std::string> out;
    for (int c = 1; c <= 200; ++c) {
        char name[32];
        std::snprintf(name, sizeof name, "%03d.Bird_%03d", c, c);
        out.push_back(name);
    }
    return out;
}

inline const std::vector<std::string>& domainnet_domains() {
    static const std::vector<std::string> d = {"clipart", "infograph", "painting", "quickdraw", "real", "sketch"};
    return d;
}

// DomainNet with 345 classes: class c has one training and one test image, in domain c mod 6, listed
// in that domain's published-format lists; then the lists joined per split (the documented step).
inline void write_domainnet(const fs::path& root) {
    const auto& domains = domainnet_domains();
    std::map<std::string, std::ofstream> lists;
    fs::create_directories(root);
    for (const auto& d : domains)
        for (const char* split : {"train", "test"}) lists[d + "_" + split].open(root / (d + "_" + split + ".txt"));
    for (int c = 0; c < 345; ++c) {
        const std::string& d = domains[c % domains.size()];
        const std::string cls = "class_" + std::to_string(c);
        for (const char* split : {"train", "test"}) {
            const std::string rel = d + "/" + cls + "/" + d + "_" + std::to_string(c) + "_" + split + ".jpg";
            write_jpeg(root / rel, c, split[1] == 'r' ? 0 : 100);
            lists[d + "_" + split] << rel << " " << c << "\n";
        }
    }
    for (auto& [name, out] : lists) out.close();
    for (const char* split : {"train", "test"}) {
        std::ofstream joined(root / (std::string("domainnet_") + split + ".txt"));
        for (const auto& d : domains) joined << std::ifstream(root / (d + "_" + split + ".txt")).rdbuf();
    }
}

// CIFAR-100 binary files: `per_class_train` / `per_class_test` records of each of the 100 fine
// classes (coarse label = fine / 5), 32×32 pixels with a class pattern.
inline void write_cifar100_binary(const fs::path& root, int per_class_train, int per_class_test) {
    fs::create_directories(root);
    auto write = [&](const fs::path& file, int per_class, int salt) {
        std::ofstream out(file, std::ios::binary);
        for (int c = 0; c < 100; ++c)
            for (int i = 0; i < per_class; ++i) {
                out.put(static_cast<char>(c / 5));
                out.put(static_cast<char>(c));
                for (int p = 0; p < 3072; ++p) out.put(static_cast<char>((c * 29 + p * 3 + i * 7 + salt) % 256));
            }
    };
    write(root / "train.bin", per_class_train, 0);
    write(root / "test.bin", per_class_test, 101);
}

// The small ViT's parameters as a timm-layout safetensors file (no head: the presets run without a
// foundation task, so the model has none).
inline void write_small_vit_weights(const fs::path& path) {
    BackboneConfig b = backbone_preset("vit_base_patch16_224");
    b.image_size = 224, b.patch_size = 32, b.dim = 32, b.depth = 1, b.heads = 2, b.mlp_ratio = 2.0;
    VisionTransformer model(ViTOptions::from_config(b, 0));
    save_timm_weights(path.string(), model);
}

// The published class orders (tests/data/class_orders.json): "n<C>_seed<S>" → order.
inline std::vector<int> published_order(int classes, int64_t seed) {
    static const nlohmann::json orders = read_json_file(std::string(LORICA_TEST_DATA_DIR) + "/class_orders.json");
    return orders.at("n" + std::to_string(classes) + "_seed" + std::to_string(seed)).get<std::vector<int>>();
}

// What a preset run left: the stream as described, and the end-of-task accuracy matrix per run.
struct PresetRun {
    RunStatus status = RunStatus::failed;
    std::vector<RunStarted> runs;
    std::vector<std::vector<TaskInfo>> streams;  // one per run
    // per run: (after_task, eval_task) → end-of-task row in `head_mode`
    std::vector<std::map<std::pair<int, int>, EvalRow>> matrices;
    std::vector<RunFinished> finished;
};

// Assembles preset `name` with `overrides` (as `lorica-cli run --preset name --set ...` does), runs the
// preflight and then the experiment on this thread's TrainingJob, and collects the events.
inline PresetRun run_preset(const std::string& name, const std::vector<std::string>& overrides, HeadMode head_mode) {
    CheckedExperiment checked = preflight_experiment(assemble_config_document("", name, overrides));
    auto recorder = std::make_shared<EventRecorder>();
    PresetRun out;
    {
        TrainingJob job(std::move(checked), recorder);
        out.status = job.wait();
    }
    for (const Event& e : recorder->events()) {
        if (const auto* r = std::get_if<RunStarted>(&e)) {
            out.runs.push_back(*r);
            out.matrices.emplace_back();
            out.streams.emplace_back();
        } else if (const auto* s = std::get_if<StreamDescribed>(&e)) {
            if (!out.streams.empty()) out.streams.back() = s->tasks;
        } else if (const auto* d = std::get_if<EvaluationDone>(&e)) {
            for (const EvalRow& row : d->rows)
                if (!out.matrices.empty() && row.phase == EvalPhase::end_of_task && row.head_mode == head_mode &&
                    row.eval_task >= 0)
                    out.matrices.back()[{row.after_task, row.eval_task}] = row;
        } else if (const auto* f = std::get_if<RunFinished>(&e)) {
            out.finished.push_back(*f);
        }
    }
    return out;
}

// The checks every preset run must pass: it finished; its stream has `tasks` tasks of
// `classes_per_task` classes each, cut from the published order of seed `seed` over `num_classes`;
// and the accuracy matrix is complete: a row for every (t, j ≤ t), with `test_per_class` test images
// per class of task j, and no row beyond.
inline void expect_complete_run(const PresetRun& run, size_t run_index, int tasks, int classes_per_task,
                                int num_classes, int64_t seed, int test_per_class) {
    ASSERT_LT(run_index, run.runs.size());
    ASSERT_LT(run_index, run.finished.size());
    EXPECT_EQ(run.finished[run_index].status, RunStatus::finished) << run.finished[run_index].message;
    EXPECT_EQ(run.runs[run_index].num_tasks, tasks);
    const std::vector<TaskInfo>& stream = run.streams[run_index];
    ASSERT_EQ(static_cast<int>(stream.size()), tasks);
    const std::vector<int> order = published_order(num_classes, seed);
    for (int t = 0; t < tasks; ++t) {
        const std::vector<int> expected(order.begin() + t * classes_per_task,
                                        order.begin() + (t + 1) * classes_per_task);
        EXPECT_EQ(stream[t].classes, expected) << "task " << t;
        EXPECT_EQ(stream[t].test_samples, int64_t(classes_per_task) * test_per_class) << "task " << t;
    }
    const auto& matrix = run.matrices[run_index];
    EXPECT_EQ(static_cast<int>(matrix.size()), tasks * (tasks + 1) / 2);
    for (int t = 0; t < tasks; ++t)
        for (int j = 0; j <= t; ++j) {
            auto it = matrix.find({t, j});
            ASSERT_NE(it, matrix.end()) << "no accuracy for task " << j << " after task " << t;
            EXPECT_EQ(it->second.total, int64_t(classes_per_task) * test_per_class) << t << "," << j;
            EXPECT_GE(it->second.correct, 0);
            EXPECT_LE(it->second.correct, it->second.total);
        }
}

}  // namespace lorica::testing
