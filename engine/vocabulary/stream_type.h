#pragma once
// StreamType: how a stream cuts its data into tasks (the config's stream.type; its spelling table is
// the one the config parser reads and a run's stored facts are written with, run_facts.h).
//
//   class_incremental   task t holds classes order[t*k .. t*k+k-1], head t ("class-incremental")
//   domain_incremental  every task holds classes order[0 .. k-1], each under its own domain transform,
//                       head 0 ("domain-incremental")
//   datasets            task t is the whole data set stream.datasets[t] with its data set's own head
//                       (an entry naming a data set seen before trains that head again:
//                       engine/stream/stream_spec.h) ("datasets": a sequence of data sets, as in the
//                       forgetting study's ImageNet → Cars → Flowers → Aircraft → CUB stream)

#include "engine/util/enum_names.h"

namespace lorica {

enum class StreamType { class_incremental, domain_incremental, datasets };
inline constexpr EnumNames<StreamType, 3> kStreamTypeNames{{{StreamType::class_incremental, "class-incremental"},
                                                            {StreamType::domain_incremental, "domain-incremental"},
                                                            {StreamType::datasets, "datasets"}}};

}  // namespace lorica
