#pragma once
// Which WordNet noun synset a data set's class is (for the Wu–Palmer similarities of
// contextual_forgetting.h), as WordNet keys: a wnid ("n04133789" = 'n' + the data.noun offset) or a
// lemma ("sandal", first noun sense), both read by WordNet::resolve (wordnet.h).
//
//   ImageNet-1k   imagenet1k_wnids()[k] = the synset of output k of an ImageNet-1k classifier
//                 (the 1000 wnids sorted: timm's imagenet_synsets.txt, torchvision's folder order)
//   Fashion-MNIST fashion_mnist_wnids()[label]: T-shirt/top → jersey/T-shirt/tee_shirt, Trouser →
//                 trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker → gym_shoe/sneaker, Bag →
//                 bag (container), Ankle boot → boot
//   CIFAR-10/100  the class name as a lemma ("aquarium_fish" has no synset: reported by the caller)
//   image folders the folder name: a wnid when it is one (ImageNet-R/-A, mini-ImageNet), else a lemma
//                 after dropping a leading "<digits>." (CUB's "001.Black_footed_Albatross")

#include <span>
#include <string>
#include <string_view>

#include "engine/config/dataset_catalog.h"

namespace lorica {

std::span<const std::string_view> imagenet1k_wnids();     // [1000]
std::span<const std::string_view> fashion_mnist_wnids();  // [10], by label

// The WordNet key of class `label` named `name` in data set `dataset` (rules above); "" when the data
// set has no key for it (a Fashion-MNIST label out of range, an empty name).
std::string class_synset_key(DatasetId dataset, int label, std::string_view name);

}  // namespace lorica
