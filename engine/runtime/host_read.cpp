#include "engine/runtime/host_read.h"

#include <atomic>
#include <mutex>

#include <torch/torch.h>

namespace lorica {
namespace {

std::atomic<int64_t> g_host_reads{0};
std::atomic<int64_t> g_host_reads_in_step{0};
thread_local int t_step_depth = 0;

std::mutex& host_read_site_mutex() {
    static std::mutex m;
    return m;
}
std::string& host_read_last_step_site() {
    static std::string site;
    return site;
}

void count_host_read(const std::source_location& where) {
    g_host_reads.fetch_add(1, std::memory_order_relaxed);
    if (t_step_depth == 0) return;
    g_host_reads_in_step.fetch_add(1, std::memory_order_relaxed);
    std::string site = where.file_name();
    const auto slash = site.find("engine/");
    if (slash != std::string::npos) site = site.substr(slash);
    std::lock_guard<std::mutex> lock(host_read_site_mutex());
    host_read_last_step_site() = site + ":" + std::to_string(where.line());
}

}  // namespace

double read_scalar(const torch::Tensor& t, std::source_location where) {
    count_host_read(where);
    return t.item<double>();
}

int64_t read_int(const torch::Tensor& t, std::source_location where) {
    count_host_read(where);
    return t.item<int64_t>();
}

std::vector<double> read_values(const torch::Tensor& t, std::source_location where) {
    count_host_read(where);
    torch::Tensor host = t.detach().reshape({-1}).to(torch::kCPU).to(torch::kDouble).contiguous();
    const double* p = host.data_ptr<double>();
    return std::vector<double>(p, p + host.numel());
}

std::vector<int64_t> read_ints(const torch::Tensor& t, std::source_location where) {
    count_host_read(where);
    torch::Tensor host = t.detach().reshape({-1}).to(torch::kCPU).to(torch::kInt64).contiguous();
    const int64_t* p = host.data_ptr<int64_t>();
    return std::vector<int64_t>(p, p + host.numel());
}

torch::Tensor copy_to_host(const torch::Tensor& t, std::source_location where) {
    count_host_read(where);
    return t.to(torch::kCPU);
}

int64_t host_reads() { return g_host_reads.load(std::memory_order_relaxed); }
int64_t host_reads_in_step() { return g_host_reads_in_step.load(std::memory_order_relaxed); }

TrainingStepScope::TrainingStepScope() { ++t_step_depth; }
TrainingStepScope::~TrainingStepScope() { --t_step_depth; }

HostReadCount::HostReadCount() : reads_at_start_(host_reads()), in_step_at_start_(host_reads_in_step()) {}
int64_t HostReadCount::reads() const { return host_reads() - reads_at_start_; }
int64_t HostReadCount::in_step() const { return host_reads_in_step() - in_step_at_start_; }
std::string HostReadCount::last_in_step_site() {
    std::lock_guard<std::mutex> lock(host_read_site_mutex());
    return host_read_last_step_site();
}

}  // namespace lorica
