#pragma once
// The config's enum spelling tables (EnumNames, name_of, value_of, allowed_names) live in
// engine/util/enum_names.h, below the vocabulary, so the shared vocabulary (stream_type.h) spells its
// enums with the same tables. This header keeps the config's include path.

#include "engine/util/enum_names.h"
