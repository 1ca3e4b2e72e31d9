#pragma once
// kernel_choice: which GEMM library runs each product of a dense layer on the machine at hand, chosen by
// timing the candidates on the model's own shapes once per machine and cached with the CPU's identity.
//
// LibTorch ships two float32 CPU GEMMs: ATen's (at::linear / at::mm, MKL's sgemm) and oneDNN's
// (`mkldnn::_linear_pointwise`). Which is faster depends on the CPU (MKL skips its AVX-512 code on
// AMD processors on some machines and not on others), the shape and the thread count, so
// dense_linear (DenseBackend::automatic) asks this table instead of following a fixed rule.
//
// A linear layer y = x Wᵀ + b with x [rows, in], W [out, in], g = ∂L/∂y [rows, out] runs up to three
// products, each a ProductShape {role, rows, in, out}:
//
//   forward        x Wᵀ + b          [rows, in]·[in, out]     ATen: addmm;  oneDNN: x, W as they are
//   forward_gelu   gelu(x Wᵀ + b)    the same, no gradient    ATen: addmm + gelu;  oneDNN: GELU fused
//   grad_input     g W               [rows, out]·[out, in]    ATen: mm;  oneDNN: with Wᵀ made contiguous
//   grad_weight    gᵀ x              [out, rows]·[rows, in]   ATen: mm of a transposed view;  oneDNN: with
//                                                                gᵀ and xᵀ made contiguous
// (each candidate is timed as dense_linear calls it, copies included).
//
// Measuring (measure_product). Random inputs of the shape, both candidates alternately: one warm-up
// call each, then alternating samples, a sample being k calls with k·flops ≥ 5·10⁷ (so that
// microsecond products are timed over ~0.3 ms), at least 5 of each and until both together took
// 4 ms, at most 25; the time of a candidate is its fastest sample ÷ k (on a loaded machine the
// fastest sample is the one least disturbed). Large
// products are timed on a slice of their rows: measured rows = min(rows, max(512, 10⁹ / (2·in·out))),
// so one call costs at most ~1 GFLOP (ViT-B/16's 16 products at batch 64 take about 1–2 s
// together; the tiny ViT's about 0.1 s). The pick is the faster candidate, except that a
// difference under kKernelChoiceMargin (5 %) is a tie and goes to the fallback rule's library (on
// a machine where the libraries tie, runs keep the paths they had before tables; a close call
// measured on a busy machine does not flip them); the table records both times and the rows measured.
//
// The table (KernelTable) is kept per thread count (at::get_num_threads() of the calling thread) and
// cached in a JSON file: <cache>/kernel-choice/<machine key>.json (<cache> = default_cache_dir(),
// engine/util/paths.h), the key naming the CPU (model name, family/model/stepping), a hash of its
// GEMM-relevant ISA flags (avx*, fma, amx*), the LibTorch version and the thread count. A shape not in
// the table is measured when dense_linear first meets it (all roles the product needs at once, in
// its forward) and the file is rewritten (write to a temporary file, then rename). Measuring holds
// an flock on <file>.lock and reads the file again under it first, so processes that start together
// (a sweep's local shards) measure each shape once and all use that measurement's pick. Delete the file,
// or set LORICA_KERNEL_CHOICE=remeasure, to measure again; LORICA_KERNEL_CHOICE=rule turns
// measuring off (then kFallbackRule: oneDNN for the forward and grad_input, ATen for grad_weight,
// the choice before tables existed).
//
// Tests stay deterministic by giving a table (use_given_kernel_table): then nothing is measured or
// written, and a shape missing from the given table takes the fallback rule. Both kernels compute the
// same function to float rounding (≤ 1e-5 relative; tests/unit/engine/cpu_fast_paths_test.cpp).
//
// Thread safety: the tables are behind one mutex; a measurement runs under it (another thread that
// needs an unmeasured shape waits; one whose shapes are known only takes the lock to look up).

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lorica {

enum class GemmKernel { aten, onednn };
enum class ProductRole { forward, forward_gelu, grad_input, grad_weight };

const char* to_string(GemmKernel kernel);  // "aten", "onednn"
const char* to_string(ProductRole role);   // "forward", "forward_gelu", "grad_input", "grad_weight"

// One product of a linear layer x [rows, in] → [rows, out] (roles above).
struct ProductShape {
    ProductRole role = ProductRole::forward;
    int64_t rows = 0, in = 0, out = 0;
    auto operator<=>(const ProductShape&) const = default;
    double flops() const { return 2.0 * static_cast<double>(rows) * static_cast<double>(in) * out; }
};

// The candidates' times for one shape and the pick.
struct KernelTiming {
    ProductShape shape;
    int64_t measured_rows = 0;  // rows actually timed (≤ shape.rows, see "Measuring")
    double aten_ms = 0;         // per call at measured_rows
    double onednn_ms = 0;
    GemmKernel pick = GemmKernel::aten;
};

// The pick before tables existed, for a shape a given table lacks, and for a tie.
GemmKernel fallback_kernel(ProductRole role);
inline constexpr double kKernelChoiceMargin = 0.05;

class KernelTable {
public:
    std::optional<GemmKernel> pick(const ProductShape& shape) const;
    void set(const KernelTiming& timing) { entries_[timing.shape] = timing; }
    // Convenience for given tables: `kernel` for this shape, no times.
    void set(const ProductShape& shape, GemmKernel kernel) { set(KernelTiming{shape, shape.rows, 0, 0, kernel}); }
    const std::map<ProductShape, KernelTiming>& entries() const { return entries_; }
    bool empty() const { return entries_.empty(); }

    // {"entries": [{"role", "rows", "in", "out", "measured_rows", "aten_ms", "onednn_ms", "pick"}, ...]}
    nlohmann::json to_json() const;
    // Reads to_json()'s form; entries it cannot read are skipped (a stale or hand-edited file).
    static KernelTable from_json(const nlohmann::json& doc);

private:
    std::map<ProductShape, KernelTiming> entries_;
};

// What the cached tables are keyed by.
struct MachineIdentity {
    std::string cpu_model;      // /proc/cpuinfo "model name", else "unknown"
    std::string cpu_signature;  // "vendor family/model/stepping", e.g. "AuthenticAMD 25/17/1"
    std::string isa_flags;      // the GEMM-relevant flags, sorted, space-separated ("avx avx2 avx512f ... fma")
    std::string torch_version;  // the LibTorch headers' version, e.g. "2.11.0"
    int threads = 1;            // intra-op threads the table was measured with
    // A file name: "<cpu model, letters and digits>-<16 hex digits of the rest>-t<threads>".
    std::string key() const;
    nlohmann::json to_json() const;
};

// This machine, with `threads` (≤ 0: at::get_num_threads() of the calling thread).
MachineIdentity current_machine_identity(int threads = 0);
// <cache>/kernel-choice/<identity.key()>.json
std::string kernel_cache_path(const MachineIdentity& identity);

// Times both candidates on `shape` now (at the calling thread's thread count), with inputs drawn from a
// private generator (the global one is left alone). Requires LibTorch with oneDNN
// (onednn_linear_available(), dense_linear.h).
KernelTiming measure_product(const ProductShape& shape);

// The kernel for `shape` at the calling thread's thread count: ATen without oneDNN; the given table's
// pick (else the fallback rule); with LORICA_KERNEL_CHOICE=rule the fallback rule; else the measured table's, measuring `shape` and `also` (the other roles the caller
// will need, so that a backward never measures) first when the table lacks it.
GemmKernel chosen_kernel(const ProductShape& shape, const std::vector<ProductShape>& also = {});

// The measured table for the calling thread's thread count (loading the cache file if not loaded).
// `measure`: shapes to measure now when missing (and then to save). Returns the whole table.
KernelTable measured_kernel_table(const std::vector<ProductShape>& measure = {});

// The products of a linear layer in → out at `rows` input rows: training: forward, grad_input,
// grad_weight; evaluation: forward_gelu when GELU follows (a ViT's fc1), else forward.
std::vector<ProductShape> linear_layer_products(int64_t rows, int64_t in, int64_t out, bool training,
                                                bool gelu_follows = false);
// Rows measure_product times for `shape` (see "Measuring").
int64_t measured_rows_of(const ProductShape& shape);

// Fixes the table for every thread count (tests, benchmarks): nothing is measured, read or written.
void use_given_kernel_table(KernelTable table);
// Back to measured, cached tables (the default).
void use_measured_kernel_tables();

}  // namespace lorica
