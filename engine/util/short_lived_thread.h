#pragma once
// run_on_short_lived_thread(fn): runs fn on a new thread, waits for it, and returns its result or
// rethrows its exception on the caller's thread.
//
// Why: OpenMP (libgomp, which LibTorch's CPU kernels use) keeps a team of worker threads for every
// thread that ran a parallel region, for as long as that thread lives. When it manages more threads
// than there are cores, it stops spin-waiting and hands every parallel region over through a futex.
// Work that touches tensors before a training thread starts (the preflight loads and normalises
// the data set) therefore runs here: its team ends with its thread, and the training thread's team is
// the only one (on 2 cores, a team left on the main thread made every training step ≈ 1.8× slower).
#include <exception>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace lorica {

template <class Fn>
auto run_on_short_lived_thread(Fn&& fn) -> std::invoke_result_t<Fn&> {
    using Result = std::invoke_result_t<Fn&>;
    std::exception_ptr error;
    if constexpr (std::is_void_v<Result>) {
        std::thread([&] {
            try {
                fn();
            } catch (...) {
                error = std::current_exception();
            }
        }).join();
        if (error) std::rethrow_exception(error);
    } else {
        std::optional<Result> result;
        std::thread([&] {
            try {
                result.emplace(fn());
            } catch (...) {
                error = std::current_exception();
            }
        }).join();
        if (error) std::rethrow_exception(error);
        return std::move(*result);
    }
}

}  // namespace lorica
