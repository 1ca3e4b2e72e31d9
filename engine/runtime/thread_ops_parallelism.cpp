#include "engine/runtime/thread_ops_parallelism.h"

#include <dlfcn.h>

namespace lorica {

void run_ops_on_this_thread_only() {
    thread_local bool done = false;
    if (done) return;
    done = true;
    // Looked up at run time: the engine does not link libgomp itself (LibTorch does), and a LibTorch
    // built without OpenMP has none (its own pool then honours c10::ParallelGuard).
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) set(1);
}

}  // namespace lorica
