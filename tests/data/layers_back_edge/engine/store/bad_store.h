#pragma once
// A store header that includes the trainer: the back-edge layers.check_detects_back_edge expects.
#include "engine/train/stream_trainer.h"
#include <torch/types.h>
