#include "app/setup_worker.h"

#include "engine/util/short_lived_thread.h"

namespace lorica::app {

SetupWorker::SetupWorker(QObject* parent)
    : NewestRequestWorker(
          std::vector<bool>(kLanes, true), QStringLiteral("setup-worker"),
          [](const std::function<void()>& job) { run_on_short_lived_thread(job); }, parent) {}

}  // namespace lorica::app
