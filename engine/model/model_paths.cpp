#include "engine/model/model_paths.h"

namespace lorica {

ModelPaths& model_paths() {
    static ModelPaths paths;
    return paths;
}

bool attention_uses_explicit_kernel(int64_t tokens, int64_t head_dim) {
    const AttentionKernel k = model_paths().attention;
    if (k != AttentionKernel::automatic) return k == AttentionKernel::explicit_;
    return tokens * head_dim <= kExplicitAttentionMaxWork;
}

}  // namespace lorica
