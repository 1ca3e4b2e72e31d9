#pragma once
// The foundation task's evaluation images for foundation.source = weights (foundation.data): the
// pre-training task of a weights file, e.g. the ImageNet-1k validation set for timm's ImageNet heads.
// Loaded as a streamed RawDataset whose test split holds every image (no training split); its labels
// are outputs of the weights' head.
//
// Layouts under foundation.data.root:
//   file list   foundation.data.file_list (one file, relative to root or absolute): lines
//               "<path relative to root> <label index>", the label indexing the head's outputs directly;
//               class_names[label] = the parent folder of its first image
//   folders     root/<class>/<image> (every image is evaluated):
//               synset layout: a folder named like a WordNet id ("n" + 8 digits) maps to its index in
//               the standard sorted ImageNet-1k synset list (synset_tables.h: the head's output order),
//               so a validation folder with only some of the 1000 synsets keeps the head's labels;
//               class_names = the 1000 synset ids. Every folder must then be an ImageNet-1k synset.
//               otherwise: label = position of the folder in the sorted folder list (the head's own
//               order, as torchvision's ImageFolder), class_names = the folder names.
// Errors are ConfigError naming foundation.data.root (or .file_list): a missing root, no class
// folders, an empty class folder, a folder that is not an ImageNet-1k synset (named), a bad list line,
// an unreadable image header (the file named).

#include "engine/config/experiment_config.h"
#include "engine/data/raw_dataset.h"

namespace lorica {

// `channels`: backbone.in_channels (1 or 3), what the images decode to.
RawDataset load_foundation_data(const FoundationDataConfig& data, int channels);

// Whether `name` has the shape of a WordNet noun id ("n" followed by 8 digits).
bool looks_like_wnid(const std::string& name);

}  // namespace lorica
