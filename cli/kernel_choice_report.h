#pragma once
// `lorica-cli --version --verbose`: after the versions, the GEMM library chosen for each product of
// the model on this machine (engine/model/kernel_choice.h): the CPU identity, the cache file and, per
// measured product shape, both candidates' times and the pick. Without a cache file it measures the
// default experiment's products first (and says so), which writes the file runs then use.

#include <string>

namespace lorica::cli {

// Whether the command line carries -v or --verbose (read before CLI11 has parsed it: the version flag
// answers as soon as it is seen).
bool asks_verbose(int argc, char** argv);

// The text described above, ending in a newline.
std::string kernel_choice_report();

}  // namespace lorica::cli
