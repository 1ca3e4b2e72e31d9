// The data-set catalogue (engine/config/dataset_catalog.h): class counts agree with the class names,
// CIFAR-100's label sets (100 fine, 20 coarse), the JSON names, the file layouts the loaders open, the
// config's class checks reading the catalogue, a stored run's class names, and which data sets are
// held in memory and which streamed (data_residence.h).
#include <gtest/gtest.h>

#include <string>

#include "engine/config/data_residence.h"
#include "engine/config/dataset_catalog.h"
#include "engine/config/experiment_config.h"
#include "engine/eval/class_forgetting.h"

using namespace lorica;
using nlohmann::json;

TEST(DatasetCatalog, EveryDataSetOnceWithItsClassesNamed) {
    ASSERT_EQ(dataset_catalog().size(), kDatasetNames.size());
    for (std::size_t i = 0; i < kDatasetNames.size(); ++i) {
        const DatasetInfo& d = dataset_catalog()[i];
        EXPECT_EQ(d.id, kDatasetNames[i].first);
        EXPECT_EQ(d.name(), kDatasetNames[i].second);
        EXPECT_EQ(find_dataset(d.name()), &d);
        EXPECT_EQ(&dataset_info(d.id), &d);
        for (const DatasetClasses* c : {&d.classes, &d.coarse})
            if (!c->names.empty()) EXPECT_EQ(static_cast<int>(c->names.size()), c->count) << d.name();
    }
    EXPECT_EQ(find_dataset("cifar-100"), nullptr);
}

TEST(DatasetCatalog, ClassCountsAndCifar100LabelSets) {
    EXPECT_EQ(dataset_num_classes(DatasetId::fashion_mnist), 10);
    EXPECT_EQ(dataset_num_classes(DatasetId::cifar10), 10);
    EXPECT_EQ(dataset_num_classes(DatasetId::cifar100, Cifar100Labels::fine), 100);
    EXPECT_EQ(dataset_num_classes(DatasetId::cifar100, Cifar100Labels::coarse), 20);
    EXPECT_EQ(dataset_num_classes(DatasetId::image_folder), 0);
    // The label set applies to CIFAR-100 only.
    EXPECT_EQ(dataset_num_classes(DatasetId::cifar10, Cifar100Labels::coarse), 10);
    EXPECT_EQ(dataset_class_names(DatasetId::fashion_mnist)[5], "Sandal");
    EXPECT_EQ(dataset_class_names(DatasetId::cifar10)[0], "airplane");
    EXPECT_EQ(dataset_class_names(DatasetId::cifar100)[99], "worm");
    EXPECT_EQ(dataset_class_names(DatasetId::cifar100, Cifar100Labels::coarse)[19], "vehicles_2");
    EXPECT_EQ(dataset_info(DatasetId::cifar100).classes_of(Cifar100Labels::coarse).names_file,
              "coarse_label_names.txt");
    EXPECT_TRUE(dataset_class_names(DatasetId::image_folder).empty());
}

TEST(DatasetCatalog, FileLayouts) {
    const auto files = [](DatasetId id) { return dataset_info(id).files(); };
    EXPECT_EQ(files(DatasetId::fashion_mnist),
              (std::vector<std::string>{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                        "t10k-labels-idx1-ubyte"}));
    EXPECT_EQ(dataset_info(DatasetId::fashion_mnist).compressed_suffix, ".gz");
    EXPECT_FALSE(dataset_info(DatasetId::fashion_mnist).needs_root);
    EXPECT_EQ(files(DatasetId::cifar10).size(), 6u);
    EXPECT_EQ(files(DatasetId::cifar10).back(), "test_batch.bin");
    EXPECT_EQ(dataset_info(DatasetId::cifar10).subfolder, "cifar-10-batches-bin");
    EXPECT_EQ(files(DatasetId::cifar100), (std::vector<std::string>{"train.bin", "test.bin"}));
    EXPECT_EQ(dataset_info(DatasetId::cifar100).subfolder, "cifar-100-binary");
    EXPECT_TRUE(files(DatasetId::image_folder).empty());
}

TEST(DatasetCatalog, TheConfigChecksClassesAgainstTheCatalogue) {
    auto stream = [](int tasks, int per_task, const char* labels) {
        return json{{"data", {{"dataset", "cifar100"}, {"cifar100_labels", labels}}},
                    {"stream", {{"tasks", tasks}, {"classes_per_task", per_task}}}};
    };
    EXPECT_NO_THROW((void)parse_experiment_config(stream(10, 2, "coarse")));  // 20 of 20
    try {
        (void)parse_experiment_config(stream(11, 2, "coarse"));
        FAIL() << "22 coarse classes accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "stream.tasks");
        EXPECT_NE(std::string(e.what()).find("20 classes of cifar100"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW((void)parse_experiment_config(stream(11, 2, "fine")));
    // Fashion-MNIST's 10, as before.
    try {
        (void)parse_experiment_config({{"stream", {{"tasks", 6}}}});
        FAIL() << "12 Fashion-MNIST classes accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "stream.tasks");
        EXPECT_NE(std::string(e.what()).find("exceeds the 10 classes of fashion-mnist"), std::string::npos);
    }
}

TEST(DatasetCatalog, DataHeldInMemoryOrStreamed) {
    auto streamed = [](DatasetId dataset, int image_size) {
        DataConfig data;
        data.dataset = dataset;
        BackboneConfig backbone;
        backbone.image_size = image_size;
        return data_is_streamed(data, backbone);
    };
    for (int size : {28, 32, 224}) EXPECT_FALSE(streamed(DatasetId::fashion_mnist, size)) << size;
    for (DatasetId cifar : {DatasetId::cifar10, DatasetId::cifar100}) {
        EXPECT_FALSE(streamed(cifar, 16));  // in memory (the loader then names the size mismatch)
        EXPECT_FALSE(streamed(cifar, 32));  // the records' own size
        EXPECT_TRUE(streamed(cifar, 33));
        EXPECT_TRUE(streamed(cifar, 224));  // ViT-B/16
    }
    for (int size : {28, 32, 224}) EXPECT_TRUE(streamed(DatasetId::image_folder, size)) << size;
    // The default config (Fashion-MNIST, tiny backbone at 28 px) and a ViT-B CIFAR-100 preset's data.
    const ExperimentConfig defaults;
    EXPECT_FALSE(data_is_streamed(defaults.data, defaults.backbone));
    ExperimentConfig vitb = defaults;
    vitb.data.dataset = DatasetId::cifar100;
    vitb.backbone = backbone_preset("vit_base_patch16_224");
    EXPECT_TRUE(data_is_streamed(vitb.data, vitb.backbone));
}
