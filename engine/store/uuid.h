#pragma once
// Random (version 4) UUIDs: the stable identity of a run and of an experiment across databases.
//
// Purpose: a run's integer id is only unique inside one database file; its UUID is unique
// everywhere, so runs written into separate shards (one per cluster job) can be merged into one
// store, and merging the same shard twice recognises every run it already holds (shard_merge.h).
// Jobs of one sweep share one experiment UUID, so the merge groups them into one experiment.
//
// Format: 36 characters, lower-case hex, "xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx" with Y in {8,9,a,b}
// (RFC 9562 version 4, variant 10). The schema's backfill (schema.cpp, migration 4) writes the same
// format from SQLite's randomblob().

#include <string>
#include <string_view>

namespace lorica {

// A fresh random version-4 UUID (122 random bits from a std::random_device-seeded generator, one
// per thread).
std::string new_uuid();

// True when `text` has the 8-4-4-4-12 hex layout of a UUID (any version, either case).
bool is_uuid(std::string_view text);

}  // namespace lorica
