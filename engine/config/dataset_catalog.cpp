#include "engine/config/dataset_catalog.h"

#include <stdexcept>

namespace lorica {

std::string_view DatasetInfo::name() const {
    for (const auto& [value, spelling] : kDatasetNames)
        if (value == id) return spelling;
    return "?";
}

const DatasetClasses& DatasetInfo::classes_of(Cifar100Labels labels) const {
    return labels == Cifar100Labels::coarse && coarse.count > 0 ? coarse : classes;
}

std::vector<std::string> DatasetInfo::files() const {
    std::vector<std::string> out = train_files;
    out.insert(out.end(), test_files.begin(), test_files.end());
    return out;
}

namespace {

DatasetInfo catalogue_entry(DatasetId id, std::string title) {
    DatasetInfo d;
    d.id = id;
    d.title = std::move(title);
    return d;
}

}  // namespace

const std::vector<DatasetInfo>& dataset_catalog() {
    static const std::vector<DatasetInfo> catalog = [] {
        std::vector<DatasetInfo> out;
        DatasetInfo fashion = catalogue_entry(DatasetId::fashion_mnist, "Fashion-MNIST");
        fashion.classes = {
            10,
            {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
            ""};
        fashion.channels = 1;
        fashion.image_size = 28;
        fashion.train_images = 60000;
        fashion.test_images = 10000;
        fashion.needs_root = false;
        fashion.train_files = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"};
        fashion.test_files = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
        fashion.compressed_suffix = ".gz";
        out.push_back(fashion);

        DatasetInfo cifar10 = catalogue_entry(DatasetId::cifar10, "CIFAR-10");
        cifar10.classes = {10,
                           {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"},
                           "batches.meta.txt"};
        cifar10.channels = 3;
        cifar10.image_size = 32;
        cifar10.train_images = 50000;
        cifar10.test_images = 10000;
        cifar10.subfolder = "cifar-10-batches-bin";
        cifar10.train_files = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                               "data_batch_5.bin"};
        cifar10.test_files = {"test_batch.bin"};
        out.push_back(cifar10);

        DatasetInfo cifar100 = catalogue_entry(DatasetId::cifar100, "CIFAR-100");
        cifar100.classes = {
            100,
            {"apple",      "aquarium_fish", "baby",         "bear",       "beaver",      "bed",         "bee",
             "beetle",     "bicycle",       "bottle",       "bowl",       "boy",         "bridge",      "bus",
             "butterfly",  "camel",         "can",          "castle",     "caterpillar", "cattle",      "chair",
             "chimpanzee", "clock",         "cloud",        "cockroach",  "couch",       "crab",        "crocodile",
             "cup",        "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",      "fox",
             "girl",       "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",        "lawn_mower",
             "leopard",    "lion",          "lizard",       "lobster",    "man",         "maple_tree",  "motorcycle",
             "mountain",   "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",      "otter",
             "palm_tree",  "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",       "poppy",
             "porcupine",  "possum",        "rabbit",       "raccoon",    "ray",         "road",        "rocket",
             "rose",       "sea",           "seal",         "shark",      "shrew",       "skunk",       "skyscraper",
             "snail",      "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",   "sweet_pepper",
             "table",      "tank",          "telephone",    "television", "tiger",       "tractor",     "train",
             "trout",      "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
             "woman",      "worm"},
            "fine_label_names.txt"};
        cifar100.coarse = {20,
                           {"aquatic_mammals",
                            "fish",
                            "flowers",
                            "food_containers",
                            "fruit_and_vegetables",
                            "household_electrical_devices",
                            "household_furniture",
                            "insects",
                            "large_carnivores",
                            "large_man-made_outdoor_things",
                            "large_natural_outdoor_scenes",
                            "large_omnivores_and_herbivores",
                            "medium_mammals",
                            "non-insect_invertebrates",
                            "people",
                            "reptiles",
                            "small_mammals",
                            "trees",
                            "vehicles_1",
                            "vehicles_2"},
                           "coarse_label_names.txt"};
        cifar100.channels = 3;
        cifar100.image_size = 32;
        cifar100.train_images = 50000;
        cifar100.test_images = 10000;
        cifar100.subfolder = "cifar-100-binary";
        cifar100.train_files = {"train.bin"};
        cifar100.test_files = {"test.bin"};
        out.push_back(cifar100);

        DatasetInfo folder = catalogue_entry(DatasetId::image_folder, "image folder");
        out.push_back(folder);
        return out;
    }();
    return catalog;
}

const DatasetInfo& dataset_info(DatasetId id) {
    for (const DatasetInfo& d : dataset_catalog())
        if (d.id == id) return d;
    throw std::logic_error("dataset_info: a data set without a catalogue entry");
}

const DatasetInfo* find_dataset(std::string_view name) {
    const std::optional<DatasetId> id = value_of(kDatasetNames, name);
    return id ? &dataset_info(*id) : nullptr;
}

int dataset_num_classes(DatasetId id, Cifar100Labels labels) { return dataset_info(id).classes_of(labels).count; }

const std::vector<std::string>& dataset_class_names(DatasetId id, Cifar100Labels labels) {
    return dataset_info(id).classes_of(labels).names;
}

}  // namespace lorica
