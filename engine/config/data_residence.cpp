#include "engine/config/data_residence.h"

#include "engine/config/dataset_catalog.h"
#include "engine/config/experiment_config.h"

namespace lorica {

bool data_is_streamed(const DataConfig& data, const BackboneConfig& backbone) {
    switch (data.dataset) {
        case DatasetId::fashion_mnist:
            return false;  // no store for IDX images: read whole at their own size
        case DatasetId::image_folder:
            return true;
        case DatasetId::cifar10:
        case DatasetId::cifar100:
            return backbone.image_size > dataset_info(data.dataset).image_size;
    }
    return false;
}

}  // namespace lorica
