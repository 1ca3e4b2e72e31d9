#include "engine/data/image_header_check.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "engine/data/data_error.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_header.h"

namespace lorica {

void check_image_headers(const std::vector<ImageEntry>& entries) {
    const int64_t n = static_cast<int64_t>(entries.size());
    const int threads = static_cast<int>(std::clamp<int64_t>(std::thread::hardware_concurrency(), 1,
                                                             std::min<int64_t>(8, std::max<int64_t>(1, n / 64))));
    std::atomic<bool> failed{false};  // once set, the remaining indices are skipped
    std::string failure;              // the first failure's message
    std::mutex failure_mutex;
    DecodePool pool(threads - 1);
    pool.for_each_index(n, [&](int64_t i) {
        if (failed) return;
        try {
            (void)read_image_header(entries[static_cast<size_t>(i)].path);
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            if (!failed.exchange(true)) failure = e.what();
        }
    });
    if (failed) throw DataError("image folder: " + failure);
}

}  // namespace lorica
