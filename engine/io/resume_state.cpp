#include "engine/io/resume_state.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>
#include <zlib.h>

#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMetaKey = "lorica.resume";
constexpr const char* kGeneratorTensor = "trainer.cpu_generator";
constexpr const char* kDeviceGeneratorTensor = "trainer.device_generator";
constexpr const char* kHitsTensor = "trainer.foundation_hits";
constexpr const char* kStartHitsTensor = "trainer.foundation_start_hits";
constexpr const char* kMethodPrefix = "method.";

// A tensor of the file with its own dtype (F32, I64, U8, BOOL as written by tensor_to_data).
torch::Tensor view_to_tensor(const TensorView& view) {
    torch::ScalarType type;
    switch (view.dtype) {
        case Dtype::F32:
            type = torch::kFloat32;
            break;
        case Dtype::I64:
            type = torch::kInt64;
            break;
        case Dtype::U8:
            type = torch::kUInt8;
            break;
        case Dtype::BOOL:
            type = torch::kBool;
            break;
        default:
            return view_to_float_tensor(view);
    }
    torch::Tensor t = torch::empty(view.shape, torch::TensorOptions().dtype(type));
    if (!view.bytes.empty()) std::memcpy(t.data_ptr(), view.bytes.data(), view.bytes.size());
    return t;
}

void write_text_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) throw std::runtime_error(tmp.string() + ": write failed");
    }
    fs::rename(tmp, path);
}

}  // namespace

void StateSnapshot::put(const std::string& name, const torch::Tensor& tensor) {
    tensors[name] = tensor.detach().to(torch::kCPU).clone();
}

torch::Tensor StateSnapshot::get(const std::string& name, torch::Device device) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("no tensor '" + name + "' in the method state");
    return it->second.to(device).clone();
}

uint32_t file_crc32(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CheckpointFileError(path, "missing or unreadable");
    uLong crc = crc32(0L, Z_NULL, 0);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const std::streamsize n = in.gcount();
        if (n > 0) crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
    }
    return static_cast<uint32_t>(crc);
}

void write_resume_state(const std::string& task_dir, const ResumeState& state,
                        const std::vector<std::string>& checked_files) {
    const fs::path dir(task_dir);
    const fs::path run_dir = dir.parent_path();
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    tensors.emplace_back(kGeneratorTensor, state.cpu_generator);
    if (state.device_generator.defined()) tensors.emplace_back(kDeviceGeneratorTensor, state.device_generator);
    if (state.foundation_hits.defined()) tensors.emplace_back(kHitsTensor, state.foundation_hits);
    if (state.foundation_start_hits.defined()) tensors.emplace_back(kStartHitsTensor, state.foundation_start_hits);
    for (const auto& [name, t] : state.method_state.tensors) tensors.emplace_back(kMethodPrefix + name, t);
    const nlohmann::json meta = {{"format", kResumeStateFormat},
                                 {"task", state.task},
                                 {"step", state.step},
                                 {"config_hash", state.config_hash},
                                 {"seed", state.seed},
                                 {"method", state.method},
                                 {"method_format", state.method_format},
                                 {"analysis_points", state.analysis_points},
                                 {"method_meta", state.method_state.meta}};
    save_tensors((dir / kResumeStateFile).string(), tensors, {{kMetaKey, meta.dump()}});

    nlohmann::json files = nlohmann::json::object();
    std::vector<std::string> all = checked_files;
    all.push_back((fs::path(dir.filename()) / kResumeStateFile).string());
    for (const auto& rel : all) {
        const fs::path path = run_dir / rel;
        files[rel] = {{"bytes", static_cast<int64_t>(fs::file_size(path))}, {"crc32", file_crc32(path.string())}};
    }
    write_text_atomically(dir / kResumeManifestFile,
                          nlohmann::json{{"format", kResumeStateFormat}, {"files", files}}.dump(2) + "\n");
}

ResumeState read_resume_state(const std::string& task_dir) {
    const fs::path dir(task_dir);
    const fs::path run_dir = dir.parent_path();
    const fs::path manifest_path = dir / kResumeManifestFile;
    nlohmann::json manifest;
    {
        std::ifstream in(manifest_path);
        if (!in)
            throw CheckpointFileError(manifest_path.string(),
                                      "missing: the checkpoint has no resume state (written before resume existed, or "
                                      "the run stopped while writing it)");
        try {
            manifest = nlohmann::json::parse(in);
        } catch (const std::exception& e) {
            throw CheckpointFileError(manifest_path.string(), std::string("damaged (not JSON): ") + e.what());
        }
    }
    try {
        if (manifest.at("format").get<int>() != kResumeStateFormat)
            throw CheckpointFileError(manifest_path.string(), "format " + manifest.at("format").dump() +
                                                                  ", this Lorica reads format " +
                                                                  std::to_string(kResumeStateFormat));
        for (const auto& [rel, expect] : manifest.at("files").items()) {
            const fs::path path = run_dir / rel;
            std::error_code ec;
            const auto bytes = fs::file_size(path, ec);
            if (ec) throw CheckpointFileError(path.string(), "missing");
            if (static_cast<int64_t>(bytes) != expect.at("bytes").get<int64_t>())
                throw CheckpointFileError(
                    path.string(),
                    "damaged: " + std::to_string(bytes) + " bytes, the checkpoint wrote " + expect.at("bytes").dump());
            if (file_crc32(path.string()) != expect.at("crc32").get<uint32_t>())
                throw CheckpointFileError(path.string(),
                                          "damaged: its CRC-32 differs from the one written with the checkpoint");
        }
    } catch (const nlohmann::json::exception& e) {
        throw CheckpointFileError(manifest_path.string(), std::string("damaged: ") + e.what());
    }

    const fs::path state_path = dir / kResumeStateFile;
    ResumeState state;
    try {
        SafetensorsFile file = SafetensorsFile::open(state_path.string());
        auto it = file.metadata().find(kMetaKey);
        if (it == file.metadata().end())
            throw CheckpointFileError(state_path.string(), "no \"lorica.resume\" metadata");
        const nlohmann::json meta = nlohmann::json::parse(it->second);
        if (meta.at("format").get<int>() != kResumeStateFormat)
            throw CheckpointFileError(state_path.string(), "format " + meta.at("format").dump() +
                                                               ", this Lorica reads format " +
                                                               std::to_string(kResumeStateFormat));
        state.task = meta.at("task").get<int>();
        state.step = meta.at("step").get<int64_t>();
        state.config_hash = meta.at("config_hash").get<std::string>();
        state.seed = meta.at("seed").get<int64_t>();
        state.method = meta.at("method").get<std::string>();
        state.method_format = meta.at("method_format").get<int>();
        state.analysis_points = meta.at("analysis_points").get<int64_t>();
        state.method_state.meta = meta.at("method_meta");
        for (const auto& view : file.tensors()) {
            if (view.name == kGeneratorTensor)
                state.cpu_generator = view_to_tensor(view);
            else if (view.name == kDeviceGeneratorTensor)
                state.device_generator = view_to_tensor(view);
            else if (view.name == kHitsTensor)
                state.foundation_hits = view_to_tensor(view);
            else if (view.name == kStartHitsTensor)
                state.foundation_start_hits = view_to_tensor(view);
            else if (view.name.rfind(kMethodPrefix, 0) == 0)
                state.method_state.tensors[view.name.substr(std::strlen(kMethodPrefix))] = view_to_tensor(view);
        }
        if (!state.cpu_generator.defined())
            throw CheckpointFileError(state_path.string(), "no tensor \"trainer.cpu_generator\"");
    } catch (const CheckpointFileError&) {
        throw;
    } catch (const std::exception& e) {
        throw CheckpointFileError(state_path.string(), std::string("damaged: ") + e.what());
    }
    return state;
}

}  // namespace lorica
