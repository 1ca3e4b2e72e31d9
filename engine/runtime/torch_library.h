#pragma once
// Which LibTorch a running Lorica uses, and LORICA_TORCH_LIB: an installed Lorica on the user's own
// LibTorch with CUDA.
//
// The Debian package carries only LibTorch's CPU libraries (/usr/lib/lorica). To train on a GPU, point
// LORICA_TORCH_LIB at the lib/ folder of a LibTorch with CUDA of the same version as Lorica's, e.g.
//   python3 -m venv ~/torch && ~/torch/bin/pip install torch==2.11.0
//   LORICA_TORCH_LIB=~/torch/lib/python3.11/site-packages/torch/lib lorica-cli run ...
// use_torch_library_from_env(), called first in main(), checks that folder, re-executes the program
// once with the folder first on LD_LIBRARY_PATH (so every LibTorch library comes from there, not from
// /usr/lib/lorica) and loads the folder's libtorch_cuda.so, which registers CUDA with LibTorch.
// The header is torch-free: the GUI's main() includes it.

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace lorica {

// A LORICA_TORCH_LIB folder that cannot be used; the message names the variable, the folder and what
// is wrong with it. Front ends print it and exit with code 2.
class TorchLibraryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The LibTorch version a lib/ folder says it holds, without the local part: "2.11.0" from
// <dir>/../version.py (pip wheel: __version__ = '2.11.0+cu130') or <dir>/../build-version (LibTorch
// archive: 2.11.0+cu130). nullopt when neither file is there or names a version.
std::optional<std::string> torch_version_of_library_dir(const std::filesystem::path& dir);

// Throws TorchLibraryError unless `dir` is a folder holding libtorch_cpu.so, libc10.so and
// libtorch_cuda.so of LibTorch `expected_version` ("2.11.0").
void check_torch_library_dir(const std::filesystem::path& dir, const std::string& expected_version);

// The absolute path of a loaded shared library whose file name is `file_name` ("libtorch_cpu.so"), or ""
// when none of that name is loaded.
std::string loaded_library_path(const std::string& file_name);

// When $LORICA_TORCH_LIB is set and not empty: checks the folder (check_torch_library_dir against the
// LibTorch Lorica was built with), re-executes this program (argv) with the folder first on
// LD_LIBRARY_PATH unless that was done already, then checks that libtorch_cpu.so came from the folder
// and loads its libtorch_cuda.so. Returns the folder in use, "" when the variable is unset. Throws
// TorchLibraryError; call it before anything else touches LibTorch.
std::string use_torch_library_from_env(char** argv);

}  // namespace lorica
