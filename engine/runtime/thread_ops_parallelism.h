#pragma once
// Intra-op parallelism of the calling thread.
//
// LibTorch's CPU operators split their work over an intra-op thread team (at::parallel_for). A
// thread that is itself one of N parallel workers (a decoder of the DecodePool, a preparing thread)
// must run its operators on one core, or N workers each start a team and fight the training step
// for the cores. c10::ParallelGuard alone does not do it with LibTorch's OpenMP backend: its
// in_parallel_region() asks omp_in_parallel() only, so at::parallel_for still starts a team (seen:
// one decoder on 2 cores spent 78 % of its time in libgomp, and a prepare took ~8× the CPU time).
// The team size is a per-thread OpenMP setting (at::get_num_threads() reads it for the calling
// thread), so setting it to 1 here leaves every other thread's — and the default of threads
// started later — as it is (at::set_num_threads would change those).

namespace lorica {

// Makes LibTorch operators called from this thread run on this thread only (the OpenMP team size of
// this thread set to 1 where LibTorch uses OpenMP). Idempotent; cheap after the first call.
void run_ops_on_this_thread_only();

}  // namespace lorica
