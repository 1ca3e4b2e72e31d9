// The bad-input catalogue: the real lorica-cli binary given bad arguments, configs and files of every
// kind Lorica reads. Every case must exit with code 2, name the field or file in its message, and
// leave the results database untouched (same bytes, same row counts, no WAL left behind), because
// bad input is found before anything is written (engine/services/preflight.h, docs/bad-input.md).
// A control case (the catalogue's base config, run for real) exits 0, so the cases fail for the one
// thing each one breaks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "engine/data/image_decode.h"
#include "engine/io/timm_weights.h"
#include "engine/model/vit.h"
#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Case {
    std::string name;
    std::vector<std::string> args;
    std::vector<std::string> expected;  // each must appear in the output (field or file names)
};

// Every file the cases read, built once in a temporary directory.
class Catalogue {
public:
    explicit Catalogue(const fs::path& dir) : dir_(dir) {
        write_tiny_fashion_mnist(dir / "fm", 10, 12, 6);
        base_ = tiny_run_config(dir / "fm", dir / "cache");
        write_text(dir / "base.json", base_.dump(2));
        make_idx_variants();
        make_cifar();
        make_image_folders();
        make_weights();
        make_adapter_dirs();
        make_databases();
    }

    const fs::path& dir() const { return dir_; }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::string db() const { return path("results.db"); }

    // A config file: the base config with `edit` applied; returns its path.
    std::string config(const std::string& name, const std::function<void(json&)>& edit) const {
        json doc = base_;
        edit(doc);
        write_text(dir_ / "configs" / (name + ".json"), doc.dump(2));
        return path("configs/" + name + ".json");
    }

    // `lorica-cli run --config <base with edit> --db <results.db>`.
    std::vector<std::string> run(const std::string& name, const std::function<void(json&)>& edit) const {
        return {"run", "--config", config(name, edit), "--db", db()};
    }

    int64_t count_rows() const {
        Database d(db(), OpenMode::read_only);
        return d.query_int64(
            "SELECT (SELECT count(*) FROM experiments) + (SELECT count(*) FROM runs) + "
            "(SELECT count(*) FROM step_metrics) + (SELECT count(*) FROM eval_rows)");
    }

private:
    void make_idx_variants() {
        auto copy_fm = [&](const std::string& name) {
            fs::create_directories(dir_ / name);
            for (const auto& e : fs::directory_iterator(dir_ / "fm"))
                fs::copy_file(e.path(), dir_ / name / e.path().filename());
            return dir_ / name;
        };
        {  // images file cut in the middle of its body
            const fs::path d = copy_fm("fm_truncated");
            const std::string bytes = read_bytes(d / "train-images-idx3-ubyte");
            write_text(d / "train-images-idx3-ubyte", bytes.substr(0, bytes.size() / 2));
        }
        {  // labels file with an images magic number
            const fs::path d = copy_fm("fm_magic");
            std::string bytes = read_bytes(d / "train-labels-idx1-ubyte");
            bytes[3] = 0x03;
            write_text(d / "train-labels-idx1-ubyte", bytes);
        }
        {  // a label outside 0..9
            const fs::path d = copy_fm("fm_label");
            std::string bytes = read_bytes(d / "t10k-labels-idx1-ubyte");
            bytes[8 + 5] = 12;
            write_text(d / "t10k-labels-idx1-ubyte", bytes);
        }
        {  // test labels file missing
            const fs::path d = copy_fm("fm_missing");
            fs::remove(d / "t10k-labels-idx1-ubyte");
        }
        {  // not gzip data behind a .gz name
            const fs::path d = copy_fm("fm_gzip");
            fs::remove(d / "train-images-idx3-ubyte");
            write_text(d / "train-images-idx3-ubyte.gz", std::string("\x1f\x8b\x08\x00garbage-not-deflate", 23));
        }
    }

    void make_cifar() {
        // CIFAR-10 binary layout: records of 1 label byte + 3072 pixel bytes; 2 records per batch.
        auto batch = [](int records) {
            std::string out;
            for (int r = 0; r < records; ++r) {
                out.push_back(static_cast<char>(r % 10));
                out.append(3072, static_cast<char>(r * 17));
            }
            return out;
        };
        for (const std::string name : {"cifar_truncated", "cifar_missing", "cifar_label"}) {
            for (int b = 1; b <= 5; ++b)
                write_text(dir_ / name / ("data_batch_" + std::to_string(b) + ".bin"), batch(2));
            write_text(dir_ / name / "test_batch.bin", batch(2));
        }
        write_text(dir_ / "cifar_truncated" / "data_batch_3.bin", batch(2).substr(0, 3073 + 1000));
        fs::remove(dir_ / "cifar_missing" / "test_batch.bin");
        std::string bad = batch(2);
        bad[3073] = 42;  // second record's label
        write_text(dir_ / "cifar_label" / "data_batch_2.bin", bad);
    }

    void make_image_folders() {
        // root/<class>/<image>.png: 4 classes × 10 images (every 5th is a test image).
        auto folder = [&](const std::string& name) {
            for (int c = 0; c < 4; ++c)
                for (int i = 0; i < 10; ++i) {
                    DecodedImage img;
                    img.width = img.height = 32;
                    img.channels = 1;
                    img.pixels.resize(32 * 32);
                    for (size_t p = 0; p < img.pixels.size(); ++p)
                        img.pixels[p] = static_cast<uint8_t>((p * (c + 1) + i) % 256);
                    fs::create_directories(dir_ / name / ("class" + std::to_string(c)));
                    write_image_file(
                        (dir_ / name / ("class" + std::to_string(c)) / ("img" + std::to_string(i) + ".png")).string(),
                        encode_png(img));
                }
            return dir_ / name;
        };
        folder("images_ok");
        write_text(folder("images_bad_png") / "class2" / "img3.png",
                   std::string("\x89PNG\r\n\x1a\n", 8) + "not a png body");
        write_text(folder("images_bad_jpeg") / "class1" / "img0.jpg",
                   std::string("\xff\xd8\xff\xe0", 4) + "not a jpeg body");
        fs::create_directories(dir_ / "images_empty_class" / "class0");
        folder("images_empty_class");
        for (const auto& e : fs::directory_iterator(dir_ / "images_empty_class" / "class3")) fs::remove(e.path());
        // File lists next to images_ok: one line without a label, one naming a missing file.
        write_text(dir_ / "images_ok" / "nolabel_train.txt", "class0/img0.png 0\nclass1/img0.png\n");
        write_text(dir_ / "images_ok" / "nolabel_test.txt", "class0/img4.png 0\n");
        write_text(dir_ / "images_ok" / "missing_train.txt", "class0/img0.png 0\nclass1/nothere.png 1\n");
        write_text(dir_ / "images_ok" / "missing_test.txt", "class0/img4.png 0\n");
    }

    void make_weights() {
        torch::NoGradGuard no_grad;
        // The base backbone (dim 32, depth 2, heads 2, 28 × 28 × 1, patch 7) with a 2-class head.
        VisionTransformer good(ViTOptions().dim(32).depth(2).heads(2).head_classes(2));
        save_timm_weights(path("good.safetensors"), good);
        VisionTransformer other(ViTOptions().dim(16).depth(2).heads(2).head_classes(2));
        save_timm_weights(path("dim16.safetensors"), other);
        const std::string bytes = read_bytes(path("good.safetensors"));
        write_text(dir_ / "truncated.safetensors", bytes.substr(0, bytes.size() - 1000));
        write_text(dir_ / "header_only.safetensors", bytes.substr(0, 6));
        write_text(dir_ / "garbage.safetensors", std::string(4096, 'x'));
    }

    void make_adapter_dirs() {
        write_text(dir_ / "peft_bad_json" / "adapter_config.json", "{\"peft_type\": \"LORA\", \"r\": ");
        write_text(dir_ / "peft_no_weights" / "adapter_config.json",
                   R"({"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["qkv"]})");
        write_text(dir_ / "peft_bad_weights" / "adapter_config.json",
                   R"({"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["qkv"]})");
        write_text(dir_ / "peft_bad_weights" / "adapter_model.safetensors", std::string(100, '\0'));
        fs::create_directories(dir_ / "not_an_adapter");
        write_text(dir_ / "ckpt_bad" / "checkpoint.json", "[1, 2");
    }

    void make_databases() {
        {
            RunStore store = RunStore::open(db());
            ExperimentStarted e;
            e.name = "stored";
            const int64_t exp = store.insert_experiment(e);
            RunStarted r;
            r.method = "sequential-lora";
            r.num_tasks = 2;
            const int64_t run = store.insert_run(exp, r);
            StepMetrics s;
            s.step = 1;
            s.loss = 0.5;
            store.insert_step_metrics(run, {s, s});
            store.finish_run(run, RunStatus::finished, "");
        }
        std::string junk;
        for (int i = 0; i < 200; ++i) junk += "this is not a SQLite database, just text. ";
        write_text(dir_ / "corrupt.db", junk);
        write_text(dir_ / "truncated.db", read_bytes(db()).substr(0, 100));
        write_text(dir_ / "matrix_bad.csv", "90,\nfifty,80\n");
    }

    fs::path dir_;
    json base_;
};

// An image-folder data section on `root` (4 classes × 8 training, 2 test images), no foundation step.
json image_folder(json& doc, const std::string& root) {
    doc["foundation"] = {{"enabled", false}};
    return {{"dataset", "image-folder"}, {"root", root}, {"train_per_class", 4}, {"test_per_class", 2}};
}

std::vector<Case> catalogue_cases(const Catalogue& c) {
    const std::string db = c.db();
    std::vector<Case> cases = {
        // ---- arguments (CLI11) ----
        {"missing --config file", {"run", "--config", c.path("nothere.json"), "--db", db}, {"nothere.json"}},
        {"unknown option", {"run", "--confgi", "x.json", "--db", db}, {"--confgi"}},
        {"no command", {}, {"subcommand"}},
        {"unknown command", {"train", "--db", db}, {"unknown command 'train'"}},
        {"bad --status value", {"runs", "--db", db, "--status", "exploded"}, {"exploded"}},
        {"negative --progress-every",
         {"run", "--config", c.path("base.json"), "--db", db, "--progress-every", "-4"},
         {"progress-every"}},
        {"--config and --preset together",
         {"run", "--config", c.path("base.json"), "--preset", "default", "--db", db},
         {"--preset"}},
        {"unknown preset", {"run", "--preset", "no-such-preset", "--db", db}, {"no-such-preset"}},
        {"override without '='",
         {"run", "--config", c.path("base.json"), "--set", "train.epochs", "--db", db},
         {"key=value"}},
        {"override with an empty key part",
         {"run", "--config", c.path("base.json"), "--set", "train..epochs=1", "--db", db},
         {"train..epochs"}},
        {"override of an unknown field",
         {"run", "--config", c.path("base.json"), "--set", "train.epochz=1", "--db", db},
         {"train.epochz"}},
        // ---- config JSON: syntax and types ----
        {"truncated JSON",
         {"run", "--config", c.path("truncated.json"), "--db", db},
         {"truncated.json", "not valid JSON"}},
        {"empty config file", {"run", "--config", c.path("empty.json"), "--db", db}, {"empty.json"}},
        {"config is a list", {"run", "--config", c.path("list.json"), "--db", db}, {"list.json", "object"}},
        {"section of the wrong type",
         c.run("train_list", [](json& d) { d["train"] = json::array(); }),
         {"train", "object"}},
        {"string for an integer",
         c.run("epochs_string", [](json& d) { d["train"]["epochs"] = "three"; }),
         {"train.epochs"}},
        {"float for an integer", c.run("rank_float", [](json& d) { d["method"]["rank"] = 2.5; }), {"method.rank"}},
        {"seeds not a list", c.run("seeds_string", [](json& d) { d["seeds"] = "0"; }), {"seeds"}},
        {"boolean as a string", c.run("bool_string", [](json& d) { d["eval"]["task_il"] = "yes"; }), {"eval.task_il"}},
        // ---- unknown fields at every level ----
        {"unknown top-level field", c.run("top_unknown", [](json& d) { d["trian"] = json::object(); }), {"trian"}},
        {"unknown data field", c.run("data_unknown", [](json& d) { d["data"]["roots"] = "x"; }), {"data.roots"}},
        {"unknown augment field",
         c.run("augment_unknown",
               [](json& d) {
                   d["data"]["augment"] = {{"flip", true}};
               }),
         {"data.augment.flip"}},
        {"unknown optimizer field",
         c.run("optimizer_unknown",
               [](json& d) {
                   d["train"]["optimizer"] = {{"lrr", 0.1}};
               }),
         {"train.optimizer.lrr"}},
        {"unknown method option",
         c.run("option_unknown",
               [](json& d) {
                   d["method"]["options"] = {{"bogus", 1}};
               }),
         {"method.options.bogus"}},
        {"unknown variant field",
         c.run("variant_unknown",
               [](json& d) {
                   d["variants"] = {{{"label", "a"}, {"lable", "b"}, {"set", json::object()}}};
               }),
         {"variants[0].lable"}},
        {"unknown field in a variant's set",
         c.run("variant_set_unknown",
               [](json& d) {
                   d["variants"] = {{{"label", "a"}, {"set", {{"train.epohcs", 1}}}}};
               }),
         {"variants[0].set", "epohcs"}},
        // ---- out-of-range numbers ----
        {"negative threads", c.run("threads", [](json& d) { d["threads"] = -3; }), {"threads", "-3"}},
        {"negative learning rate",
         c.run("lr",
               [](json& d) {
                   d["train"]["optimizer"] = {{"lr", -1.0}};
               }),
         {"train.optimizer.lr"}},
        {"zero batch size", c.run("batch", [](json& d) { d["train"]["batch_size"] = 0; }), {"train.batch_size"}},
        {"rank 0", c.run("rank0", [](json& d) { d["method"]["rank"] = 0; }), {"method.rank"}},
        {"integer past int range",
         c.run("classes_wrap", [](json& d) { d["foundation"]["classes"] = 4294967298LL; }),
         {"foundation.classes"}},
        {"more tasks than classes", c.run("tasks", [](json& d) { d["stream"]["tasks"] = 6; }), {"stream.tasks"}},
        {"patch size not dividing the image",
         c.run("patch", [](json& d) { d["backbone"]["patch_size"] = 5; }),
         {"backbone.patch_size"}},
        {"warm-up fraction above 1",
         c.run("warmup",
               [](json& d) {
                   d["train"]["schedule"] = {{"warmup_fraction", 1.5}};
               }),
         {"train.schedule.warmup_fraction"}},
        {"NaN-like huge alpha", c.run("alpha", [](json& d) { d["method"]["alpha"] = 1e300; }), {"method.alpha"}},
        // ---- unknown names ----
        {"unknown method",
         c.run("method", [](json& d) { d["method"]["name"] = "lora-max"; }),
         {"method.name", "lora-max"}},
        {"unknown backbone preset",
         c.run("preset", [](json& d) { d["backbone"]["preset"] = "vit_huge"; }),
         {"backbone.preset", "vit_huge"}},
        {"unknown dataset",
         c.run("dataset", [](json& d) { d["data"]["dataset"] = "mnist"; }),
         {"data.dataset", "mnist"}},
        {"unknown device", c.run("device", [](json& d) { d["device"] = "tpu"; }), {"device", "tpu"}},
        {"malformed cuda device", c.run("device_cuda", [](json& d) { d["device"] = "cuda:x"; }), {"device", "cuda:x"}},
        {"unknown domain", c.run("domain", [](json& d) { d["stream"]["domains"] = {"rot45"}; }), {"stream.domains[0]"}},
        {"unknown optimizer",
         c.run("optimizer",
               [](json& d) {
                   d["train"]["optimizer"] = {{"name", "lamb"}};
               }),
         {"train.optimizer.name", "lamb"}},
        // ---- several problems, one message ----
        {"three problems at once",
         c.run("three",
               [](json& d) {
                   d["threads"] = -3;
                   d["train"]["optimizer"] = {{"lr", -1.0}};
                   d["eval"]["colour"] = "red";
               }),
         {"3 problems", "threads", "train.optimizer.lr", "eval.colour"}},
        {"config and data problems at once",
         c.run("config_and_data",
               [&](json& d) {
                   d["threads"] = -3;
                   d["data"]["train_per_class"] = 500;
               }),
         {"2 problems", "threads", "data.train_per_class"}},
        // ---- IDX files ----
        {"missing data root",
         c.run("root", [&](json& d) { d["data"]["root"] = c.path("no-such-dir"); }),
         {"data.root", "no-such-dir"}},
        {"truncated IDX images",
         c.run("idx_trunc", [&](json& d) { d["data"]["root"] = c.path("fm_truncated"); }),
         {"fm_truncated/train-images-idx3-ubyte"}},
        {"IDX labels with a wrong magic",
         c.run("idx_magic", [&](json& d) { d["data"]["root"] = c.path("fm_magic"); }),
         {"fm_magic/train-labels-idx1-ubyte"}},
        {"IDX label out of range",
         c.run("idx_label", [&](json& d) { d["data"]["root"] = c.path("fm_label"); }),
         {"fm_label/t10k-labels-idx1-ubyte"}},
        {"IDX labels file missing",
         c.run("idx_missing", [&](json& d) { d["data"]["root"] = c.path("fm_missing"); }),
         {"fm_missing/t10k-labels-idx1-ubyte"}},
        {"IDX corrupt gzip",
         c.run("idx_gzip", [&](json& d) { d["data"]["root"] = c.path("fm_gzip"); }),
         {"train-images-idx3-ubyte.gz"}},
        // ---- per-class counts ----
        {"more training images per class than the data set has",
         c.run("train_count", [](json& d) { d["data"]["train_per_class"] = 20; }),
         {"data.train_per_class", "at most 6"}},
        {"more test images per class than the data set has",
         c.run("test_count", [](json& d) { d["data"]["test_per_class"] = 7; }),
         {"data.test_per_class", "at most 6"}},
        {"foundation takes more than the data set has",
         c.run("foundation_count", [](json& d) { d["foundation"]["train_per_class"] = 13; }),
         {"foundation.train_per_class", "at most 12"}},
        {"data.normalize_mean per channel",
         c.run("normalize",
               [](json& d) {
                   d["data"]["normalize_mean"] = {0.5, 0.5, 0.5};
                   d["data"]["normalize_std"] = {0.5, 0.5, 0.5};
               }),
         {"data.normalize_mean", "1 channels"}},
        // ---- CIFAR batches ----
        {"truncated CIFAR batch",
         c.run("cifar_trunc",
               [&](json& d) {
                   d["data"] = {{"dataset", "cifar10"}, {"root", c.path("cifar_truncated")}};
                   d["backbone"] = {{"image_size", 32}, {"patch_size", 8}, {"in_channels", 3},
                                    {"dim", 32},        {"depth", 2},      {"heads", 2}};
               }),
         {"cifar_truncated/data_batch_3.bin"}},
        {"missing CIFAR test batch",
         c.run("cifar_missing",
               [&](json& d) {
                   d["data"] = {{"dataset", "cifar10"}, {"root", c.path("cifar_missing")}};
                   d["backbone"] = {{"image_size", 32}, {"patch_size", 8}, {"in_channels", 3},
                                    {"dim", 32},        {"depth", 2},      {"heads", 2}};
               }),
         {"test_batch.bin"}},
        {"CIFAR label out of range",
         c.run("cifar_label",
               [&](json& d) {
                   d["data"] = {{"dataset", "cifar10"}, {"root", c.path("cifar_label")}};
                   d["backbone"] = {{"image_size", 32}, {"patch_size", 8}, {"in_channels", 3},
                                    {"dim", 32},        {"depth", 2},      {"heads", 2}};
               }),
         {"cifar_label/data_batch_2.bin"}},
        {"CIFAR without data.root",
         c.run("cifar_root",
               [](json& d) {
                   d["data"] = {{"dataset", "cifar10"}};
               }),
         {"data.root"}},
        // ---- image folders and file lists ----
        {"corrupt PNG in an image folder",
         c.run("png", [&](json& d) { d["data"] = image_folder(d, c.path("images_bad_png")); }),
         {"images_bad_png/class2/img3.png"}},
        {"corrupt JPEG in an image folder",
         c.run("jpeg", [&](json& d) { d["data"] = image_folder(d, c.path("images_bad_jpeg")); }),
         {"class1/img0.jpg"}},
        {"empty class folder",
         c.run("empty_class", [&](json& d) { d["data"] = image_folder(d, c.path("images_empty_class")); }),
         {"class3"}},
        {"file list line without a label",
         c.run("list_nolabel",
               [&](json& d) {
                   d["data"] = image_folder(d, c.path("images_ok"));
                   d["data"]["file_list"] = "nolabel_{split}.txt";
               }),
         {"nolabel_train.txt"}},
        {"file list naming a missing image",
         c.run("list_missing",
               [&](json& d) {
                   d["data"] = image_folder(d, c.path("images_ok"));
                   d["data"]["file_list"] = "missing_{split}.txt";
               }),
         {"nothere.png"}},
        {"file list itself missing",
         c.run("list_absent",
               [&](json& d) {
                   d["data"] = image_folder(d, c.path("images_ok"));
                   d["data"]["file_list"] = "absent_{split}.txt";
               }),
         {"absent_train.txt"}},
        // ---- backbone weights (safetensors) ----
        {"missing weights file",
         c.run("w_missing", [&](json& d) { d["backbone"]["weights"] = c.path("none.safetensors"); }),
         {"backbone.weights", "none.safetensors"}},
        {"truncated weights file",
         c.run("w_trunc", [&](json& d) { d["backbone"]["weights"] = c.path("truncated.safetensors"); }),
         {"backbone.weights", "truncated.safetensors"}},
        {"weights file shorter than its header length",
         c.run("w_header", [&](json& d) { d["backbone"]["weights"] = c.path("header_only.safetensors"); }),
         {"header_only.safetensors"}},
        {"weights file of garbage",
         c.run("w_garbage", [&](json& d) { d["backbone"]["weights"] = c.path("garbage.safetensors"); }),
         {"garbage.safetensors"}},
        {"weights of another width",
         c.run("w_shape", [&](json& d) { d["backbone"]["weights"] = c.path("dim16.safetensors"); }),
         {"backbone.weights", "dim16.safetensors", "wrong size"}},
        {"weights path is a directory",
         c.run("w_dir", [&](json& d) { d["backbone"]["weights"] = c.path("fm"); }),
         {"backbone.weights", "directory"}},
        // ---- adapter targets ----
        {"target block beyond the depth",
         c.run("target_depth", [](json& d) { d["method"]["targets"] = {"blocks.7.attn.qkv"}; }),
         {"method.targets", "blocks.7.attn.qkv"}},
        {"slice of a layer that is not qkv",
         c.run("target_slice", [](json& d) { d["method"]["targets"] = {"blocks.*.mlp.fc1:q"}; }),
         {"method.targets"}},
        {"target with bad characters",
         c.run("target_chars", [](json& d) { d["method"]["targets"] = {"Blocks/0"}; }),
         {"method.targets[0]"}},
        // ---- method switches ----
        {"explicit options checked against the new method",
         {"run", "--config",
          c.config("switch",
                   [](json& d) {
                       d["method"] = {{"name", "sd-lora"}, {"options", {{"handover", "rescale"}}}};
                   }),
          "--set", "method.name=full-finetune", "--set", "method.options.handover=rescale", "--db", db},
         {"method.options.handover"}},
        // ---- inspect: safetensors, PEFT adapter and checkpoint directories ----
        {"inspect a missing path", {"inspect", c.path("nothing-here")}, {"nothing-here"}},
        {"inspect a truncated safetensors file",
         {"inspect", c.path("truncated.safetensors")},
         {"truncated.safetensors"}},
        {"inspect an adapter dir with broken JSON", {"inspect", c.path("peft_bad_json")}, {"adapter_config.json"}},
        {"inspect an adapter dir without weights",
         {"inspect", c.path("peft_no_weights")},
         {"adapter_model.safetensors"}},
        {"inspect an adapter dir with corrupt weights",
         {"inspect", c.path("peft_bad_weights")},
         {"adapter_model.safetensors"}},
        {"inspect a directory that is no adapter", {"inspect", c.path("not_an_adapter")}, {"not_an_adapter"}},
        {"inspect a checkpoint with broken JSON", {"inspect", c.path("ckpt_bad")}, {"checkpoint.json"}},
        // ---- databases ----
        {"runs on a corrupt database", {"runs", "--db", c.path("corrupt.db")}, {"corrupt.db"}},
        {"show on a corrupt database", {"show", "1", "--db", c.path("corrupt.db")}, {"corrupt.db"}},
        {"runs on a truncated database", {"runs", "--db", c.path("truncated.db")}, {"truncated.db"}},
        {"runs on a missing database", {"runs", "--db", c.path("absent.db")}, {"absent.db"}},
        {"show a run that does not exist", {"show", "999", "--db", db}, {"999"}},
        {"show a malformed target", {"show", "exp:abc", "--db", db}, {"exp:abc"}},
        {"run into a corrupt database",
         {"run", "--config", c.path("base.json"), "--db", c.path("corrupt.db")},
         {"corrupt.db"}},
        {"export a run that does not exist", {"export", "999", "--out", c.path("out-export"), "--db", db}, {"999"}},
        {"metrics of a missing matrix", {"metrics", "--matrix", c.path("nomatrix.csv")}, {"nomatrix.csv"}},
        {"metrics of a malformed matrix", {"metrics", "--matrix", c.path("matrix_bad.csv")}, {"matrix_bad.csv"}},
    };
    return cases;
}

}  // namespace

TEST(BadInputCatalogue, EveryCaseExitsTwoNamingTheFieldOrFileAndLeavesTheDatabaseUntouched) {
    TempDir dir("bad-input");
    Catalogue c(dir.path);
    write_text(dir.path / "truncated.json", read_bytes(dir.path / "base.json").substr(0, 100));
    write_text(dir.path / "empty.json", "");
    write_text(dir.path / "list.json", "[1, 2, 3]");
    const std::string db_bytes = read_bytes(c.db());
    const int64_t rows = c.count_rows();
    ASSERT_GT(rows, 0);
    const CliLimits env{std::nullopt, {{"XDG_DATA_HOME", (dir.path / "xdg").string()}}};

    const std::vector<Case> cases = catalogue_cases(c);
    EXPECT_GE(cases.size(), 40u);
    for (const Case& k : cases) {
        SCOPED_TRACE("case: " + k.name);
        const CliResult r = run_cli_to(k.args, dir.path / "out.txt", env);
        EXPECT_EQ(r.exit_code, 2) << r.output;
        for (const auto& e : k.expected)
            EXPECT_NE(r.output.find(e), std::string::npos) << "'" << e << "' not in: " << r.output;
        EXPECT_EQ(r.output.find("Segmentation"), std::string::npos) << r.output;
        EXPECT_TRUE(read_bytes(c.db()) == db_bytes) << "the database changed";
        EXPECT_FALSE(fs::exists(c.db() + "-wal") && fs::file_size(c.db() + "-wal") > 0) << "a WAL was left behind";
        EXPECT_FALSE(fs::exists(c.path("absent.db"))) << "a reading command created a database";
    }
    EXPECT_EQ(c.count_rows(), rows);
    std::printf("bad-input catalogue: %zu cases\n", cases.size());

    // Control: the base config every case breaks in one place runs and stores its run.
    const CliResult ok = run_cli_to({"run", "--config", c.path("base.json"), "--db", c.path("control.db")},
                                    dir.path / "control.txt", env);
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_EQ(RunStore::open(c.path("control.db")).list_runs().size(), 1u);
}

TEST(BadInputCatalogue, BadRunInputCreatesNoDatabase) {
    TempDir dir("bad-input-nodb");
    write_tiny_fashion_mnist(dir.path / "fm", 10, 12, 6);
    json doc = tiny_run_config(dir.path / "fm", dir.path / "cache");
    doc["data"]["train_per_class"] = 100;
    write_text(dir.path / "c.json", doc.dump());
    const CliResult r =
        run_cli_to({"run", "--config", (dir.path / "c.json").string(), "--db", (dir.path / "new.db").string()},
                   dir.path / "out.txt", {std::nullopt, {{"XDG_DATA_HOME", (dir.path / "xdg").string()}}});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("data.train_per_class"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir.path / "new.db")) << "bad input must not create the results database";
}

TEST(BadInputCatalogue, MethodSwitchOnTheDefaultPresetDropsTheOldOptionsWithANote) {
    TempDir dir("bad-input-switch");
    const CliResult r = run_cli_to({"config", "--set", "method.name=full-finetune"}, dir.path / "out.txt",
                                   {std::nullopt, {{"XDG_DATA_HOME", (dir.path / "xdg").string()}}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("note: method.name changed from 'sd-lora' to 'full-finetune'"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("handover"), std::string::npos) << "the note names the dropped option: " << r.output;
    const auto start = r.output.find("{\n");  // the printed config (the note holds a '{' too)
    ASSERT_NE(start, std::string::npos) << r.output;
    const json printed = json::parse(r.output.substr(start));
    EXPECT_EQ(printed["method"]["name"], "full-finetune");
    EXPECT_EQ(printed["method"]["options"], json::object());
}
