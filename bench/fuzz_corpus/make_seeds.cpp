// Writes the seed corpora of the libFuzzer targets (bench/fuzz_*.cpp): small valid inputs, and a few
// near-misses, for every reader, made with Lorica's own writers. Run by bench/run_fuzz.sh:
//
//   make_fuzz_seeds OUT_DIR PRESET_DIR     → OUT_DIR/<target>/<seed>
//
// Targets and their input formats (see each fuzz_*.cpp):
//   safetensors    a .safetensors file
//   idx            an IDX file, gzipped or plain
//   cifar          a CIFAR-10 / CIFAR-100 batch, or a class-names text
//   image          a PNG or JPEG file
//   config         a config JSON, NUL, then `--set` lines
//   peft_adapter   adapter_config.json, NUL, then adapter_model.safetensors

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <png.h>

#include "engine/data/image_decode.h"
#include "engine/io/safetensors.h"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using namespace lorica;

namespace {

fs::path g_out;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
    fs::create_directories(g_out / target);
    std::ofstream out(g_out / target / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
Bytes text_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }
Bytes join_nul(const std::string& text, const Bytes& rest) {
    Bytes out = text_bytes(text);
    out.push_back(0);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}
Bytes gzip(const Bytes& bytes) {
    z_stream z{};
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    Bytes out(deflateBound(&z, bytes.size()) + 32);
    z.next_in = const_cast<Bytef*>(bytes.data());
    z.avail_in = static_cast<uInt>(bytes.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}
Bytes pattern(std::size_t n, int seed) {
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((seed + 37 * i + i * i / 7) % 256);
    return out;
}

void safetensors_seeds() {
    write("safetensors", "one", serialize_safetensors({TensorData::from_floats("w", {2, 3}, {1, 2, 3, 4, 5, 6})}));
    write("safetensors", "dtypes",
          serialize_safetensors(
              {TensorData::from_floats("a", {2}, {1.5f, -2}, Dtype::F16),
               TensorData::from_floats("b", {1, 2}, {3, 4}, Dtype::BF16),
               TensorData::from_floats("c", {}, {7}, Dtype::F64), TensorData{"d", Dtype::I64, {1}, Bytes(8, 1)},
               TensorData{"e", Dtype::U8, {0, 3}, {}}, TensorData{"f", Dtype::BOOL, {3}, {0, 1, 2}},
               TensorData{"g", Dtype::F8_E4M3, {2}, {0x38, 0x7f}}},
              {{"format", "pt"}}));
    write("safetensors", "empty", serialize_safetensors({}));
    // Near-misses the writer refuses to make: a gap between tensors, a duplicate key.
    auto raw = [](const std::string& header, std::size_t data_bytes) {
        Bytes out(8);
        for (int i = 0; i < 8; ++i)
            out[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
        out.insert(out.end(), header.begin(), header.end());
        const Bytes data = pattern(data_bytes, 0);
        out.insert(out.end(), data.begin(), data.end());
        return out;
    };
    write(
        "safetensors", "gap",
        raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
            12));
    write(
        "safetensors", "dup",
        raw(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            4));
}

void idx_seeds() {
    auto idx = [](std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& body) {
        Bytes out;
        auto put = [&](std::uint32_t v) {
            for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
        };
        put(magic);
        for (auto d : dims) put(d);
        out.insert(out.end(), body.begin(), body.end());
        return out;
    };
    const Bytes labels = idx(0x801, {5}, {0, 1, 2, 3, 9});
    const Bytes images = idx(0x803, {2, 4, 3}, pattern(24, 1));
    write("idx", "labels", labels);
    write("idx", "labels.gz", gzip(labels));
    write("idx", "images", images);
    write("idx", "images.gz", gzip(images));
    write("idx", "images-truncated", Bytes(images.begin(), images.end() - 5));
    write("idx", "images-28x28.gz", gzip(idx(0x803, {1, 28, 28}, pattern(784, 3))));
}

void cifar_seeds() {
    auto batch = [](int label_bytes, const std::vector<Bytes>& labels) {
        Bytes out;
        for (std::size_t i = 0; i < labels.size(); ++i) {
            out.insert(out.end(), labels[i].begin(), labels[i].begin() + label_bytes);
            const Bytes px = pattern(3072, static_cast<int>(i));
            out.insert(out.end(), px.begin(), px.end());
        }
        return out;
    };
    write("cifar", "cifar10-one", batch(1, {{3}}));
    write("cifar", "cifar10-two", batch(1, {{0}, {9}}));
    write("cifar", "cifar100-one", batch(2, {{19, 99}}));
    write("cifar", "cifar100-two", batch(2, {{0, 0}, {7, 42}}));
    write("cifar", "names10", text_bytes("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"));
    std::string names20;
    for (int i = 0; i < 20; ++i) names20 += "super " + std::to_string(i) + (i % 3 ? "\r\n" : "  \n\n");
    write("cifar", "names20", text_bytes(names20));
}

void image_seeds() {
    auto image = [](int w, int h, int c, int seed) {
        DecodedImage img;
        img.width = w, img.height = h, img.channels = c;
        img.pixels = pattern(static_cast<std::size_t>(w) * h * c, seed);
        return img;
    };
    write("image", "gray.png", encode_png(image(7, 5, 1, 0)));
    write("image", "rgb.png", encode_png(image(16, 9, 3, 1)));
    write("image", "one.png", encode_png(image(1, 1, 1, 2)));
    write("image", "gray.jpg", encode_jpeg(image(8, 8, 1, 3), 90));
    write("image", "rgb.jpg", encode_jpeg(image(17, 11, 3, 4), 75));
    write("image", "rgb-q10.jpg", encode_jpeg(image(32, 32, 3, 5), 10));
    const Bytes jpg = encode_jpeg(image(16, 16, 3, 6), 50);
    write("image", "truncated.jpg", Bytes(jpg.begin(), jpg.begin() + static_cast<long>(jpg.size() * 2 / 3)));
    // Formats Lorica reads but does not write: alpha, 16-bit, palette (libpng's simplified writer).
    auto png = [](int w, int h, png_uint_32 format, const Bytes& pixels, const png_color* colormap, int entries) {
        png_image p;
        std::memset(&p, 0, sizeof p);
        p.version = PNG_IMAGE_VERSION;
        p.width = static_cast<png_uint_32>(w);
        p.height = static_cast<png_uint_32>(h);
        p.format = format;
        p.colormap_entries = static_cast<png_uint_32>(entries);
        png_alloc_size_t size = 0;
        png_image_write_to_memory(&p, nullptr, &size, 0, pixels.data(), 0, colormap);
        Bytes out(size);
        png_image_write_to_memory(&p, out.data(), &size, 0, pixels.data(), 0, colormap);
        out.resize(size);
        return out;
    };
    write("image", "rgba.png", png(6, 4, PNG_FORMAT_RGBA, pattern(6 * 4 * 4, 7), nullptr, 0));
    write("image", "gray-alpha.png", png(5, 3, PNG_FORMAT_GA, pattern(5 * 3 * 2, 8), nullptr, 0));
    write("image", "rgb16.png", png(4, 4, PNG_FORMAT_LINEAR_RGB, pattern(4 * 4 * 3 * 2, 9), nullptr, 0));
    const png_color palette[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {10, 20, 30}};
    Bytes indices = pattern(8 * 3, 10);
    for (auto& i : indices) i %= 4;
    write("image", "palette.png", png(8, 3, PNG_FORMAT_RGB_COLORMAP, indices, palette, 4));
}

void config_seeds(const fs::path& preset_dir) {
    const char* overrides[] = {
        "",
        "train.epochs=1\nmethod.rank=4\nseeds=[0,1]",
        "method.name=full-finetune\nmethod.options={}",
        "stream.tasks=2\ndata.train_per_class=10\nmethod.targets=[\"qkv\",\"blocks.*.attn.qkv:q\"]",
        "sweep={\"field\":\"method.rank\",\"values\":[1,2,4],\"alpha_per_rank\":2.0}",
        "variants=[{\"label\":\"a\",\"set\":{\"train.optimizer.lr\":0.001}},{\"label\":\"b\",\"set\":{\"method.alpha\":"
        "4}}]",
        "backbone.preset=vit_tiny_patch16_224\ndata.dataset=cifar100\ndata.cifar100_labels=coarse",
    };
    int n = 0;
    for (const auto& entry : fs::directory_iterator(preset_dir)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const char* o = overrides[n % std::size(overrides)];
        write("config", entry.path().stem().string(), join_nul(text, text_bytes(o)));
        ++n;
    }
    write("config", "empty-object", join_nul("{}", text_bytes("device=cpu\nthreads=2")));
    write("config", "minimal", join_nul("{\"name\":\"x\",\"stream\":{\"tasks\":2}}", {}));
}

void peft_seeds() {
    const std::string module0 = "base_model.model.blocks.0.attn.qkv", module1 = "base_model.model.blocks.1.mlp.fc1";
    auto factors = [](const std::string& m, int r, int in, int out, Dtype dtype) {
        std::vector<float> a(static_cast<std::size_t>(r) * in), b(static_cast<std::size_t>(out) * r);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.01f * static_cast<float>(i);
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = -0.02f * static_cast<float>(i);
        return std::vector<TensorData>{TensorData::from_floats(m + ".lora_A.weight", {r, in}, a, dtype),
                                       TensorData::from_floats(m + ".lora_B.weight", {out, r}, b, dtype)};
    };
    auto both = [&](std::vector<TensorData> x, const std::vector<TensorData>& y) {
        x.insert(x.end(), y.begin(), y.end());
        return x;
    };
    const std::string config =
        R"({"peft_type":"LORA","task_type":null,"base_model_name_or_path":"lorica/vit-tiny-patch7-28","r":2,"lora_alpha":4.0,)"
        R"("target_modules":["blocks.0.attn.qkv","blocks.1.mlp.fc1"],"rank_pattern":{"blocks.1.mlp.fc1":3},)"
        R"("alpha_pattern":{"fc1":6},"lora_dropout":0.0,"bias":"none","fan_in_fan_out":false,"use_rslora":false,)"
        R"("use_dora":false,"modules_to_save":null,"init_lora_weights":true,"inference_mode":true})";
    write("peft_adapter", "two-modules",
          join_nul(config, serialize_safetensors(
                               both(factors(module0, 2, 4, 12, Dtype::F32), factors(module1, 3, 4, 8, Dtype::F32)),
                               {{"format", "pt"}, {"lorica.method", "sd-lora"}})));
    write("peft_adapter", "rslora-bf16",
          join_nul(R"({"peft_type":"LORA","r":1,"lora_alpha":2,"use_rslora":true})",
                   serialize_safetensors(factors(module0, 1, 3, 5, Dtype::BF16))));
    write("peft_adapter", "rank-mismatch",
          join_nul(R"({"peft_type":"LORA","r":4,"lora_alpha":4})",
                   serialize_safetensors(factors(module1, 2, 2, 2, Dtype::F16))));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: make_fuzz_seeds OUT_DIR PRESET_DIR\n";
        return 2;
    }
    g_out = argv[1];
    safetensors_seeds();
    idx_seeds();
    cifar_seeds();
    image_seeds();
    config_seeds(argv[2]);
    peft_seeds();
    return 0;
}
