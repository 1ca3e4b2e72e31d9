// The guided set-up (app/config_editor.h, QT_QPA_PLATFORM=offscreen): the step order and each step's
// field order, the data-set check, the stream preview against the engine's own data path, a newer
// look-up superseding an older one, the backbone weights check on safetensors files written here, the
// summary's trainable-parameter count against the model's, one document for the form and the JSON
// view, and a bad field's error at that field's row.

#include <chrono>
#include <fstream>
#include <memory>

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <torch/torch.h>

#include "app/config_editor.h"
#include "app/config_json_dialog.h"
#include "app/setup_preview_view.h"
#include "app/setup_steps.h"
#include "app/setup_worker.h"
#include "engine/config/config_schema.h"
#include "engine/config/dataset_catalog.h"
#include "engine/data/fashion_mnist.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "engine/io/timm_weights.h"
#include "engine/methods/method_registry.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "tests/support/gate.h"

using namespace lorica;
using namespace lorica::app;

namespace {

// The widgets' vertical order on their page (top edges in page coordinates).
int top_on_page(QWidget* widget, QWidget* page) { return widget->mapTo(page, QPoint(0, 0)).y(); }

void touch(const QString& path) { std::ofstream(path.toStdString()) << "x"; }

// No look-up of `editor` is scheduled (its own debounce timers), queued or running (its workers).
bool editor_is_quiet(const ConfigEditor& editor) {
    for (const QTimer* timer : editor.findChildren<QTimer*>(Qt::FindDirectChildrenOnly))
        if (timer->isActive()) return false;
    for (const SetupWorker* worker : editor.findChildren<SetupWorker*>(Qt::FindDirectChildrenOnly))
        if (worker->pending() != 0) return false;
    return true;
}

}  // namespace

class GuiSetupTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void steps_and_fields_in_order() {
        ConfigEditor editor;
        editor.resize(900, 800);
        editor.show();
        QCOMPARE(editor.step_titles(),
                 QStringList({"Data set", "Stream", "Backbone", "Method", "Training", "Summary"}));
        QCOMPARE(
            editor.step_fields(SetupStep::dataset),
            std::vector<std::string>({"data.dataset", "data.root", "data.train_per_class", "data.test_per_class"}));
        QCOMPARE(editor.step_fields(SetupStep::stream),
                 std::vector<std::string>({"stream.type", "stream.tasks", "stream.classes_per_task", "stream.domains",
                                           "stream.class_order_seed"}));
        QCOMPARE(editor.step_fields(SetupStep::backbone).front(), std::string("backbone.preset"));
        QCOMPARE(editor.step_fields(SetupStep::backbone)[1], std::string("backbone.weights"));
        QCOMPARE(editor.step_fields(SetupStep::method),
                 std::vector<std::string>({"method.name", "method.rank", "method.alpha", "method.targets"}));
        QCOMPARE(editor.step_fields(SetupStep::training).front(), std::string("train.epochs"));
        QCOMPARE(editor.step_fields(SetupStep::summary), std::vector<std::string>({"name", "seeds", "device"}));
        // Rare fields sit under "More", collapsed.
        const auto more = editor.step_fields(SetupStep::dataset, true);
        QVERIFY(std::find(more.begin(), more.end(), "data.normalize_mean") != more.end());
        QVERIFY(!editor.more_open(SetupStep::dataset));
        // Every name the steps list (setup_steps.cpp) is a declared config field with an editor on
        // its step's page: a typo in a list fails here.
        for (const auto& info : setup_steps())
            for (bool m : {false, true})
                for (const auto& f : m ? info.more : info.fields) {
                    QVERIFY2(find_config_field(f), ("not a config field: " + f).c_str());
                    QVERIFY2(editor.field_widget(QString::fromStdString(f)), f.c_str());
                    const auto shown = editor.step_fields(info.step, m);
                    QVERIFY2(std::find(shown.begin(), shown.end(), f) != shown.end(), f.c_str());
                }
        // Every declared field is on exactly one page, labelled readably, its JSON key in the tooltip.
        std::set<std::string> seen;
        for (const auto& info : setup_steps())
            for (bool m : {false, true})
                for (const auto& f : editor.step_fields(info.step, m)) QVERIFY2(seen.insert(f).second, f.c_str());
        for (const ConfigFieldSpec& spec : config_fields()) {
            QVERIFY2(seen.count(spec.path), spec.path.c_str());
            QWidget* w = editor.field_widget(QString::fromStdString(spec.path));
            QVERIFY2(w->toolTip().contains(QString::fromStdString(spec.path)), spec.path.c_str());
        }
        QCOMPARE(seen.size(), config_fields().size());
        QWidget* lr_cell = editor.field_widget("train.optimizer.lr")->parentWidget();
        auto* form = qobject_cast<QFormLayout*>(lr_cell->parentWidget()->layout());
        QVERIFY(form);
        auto* label = qobject_cast<QLabel*>(form->labelForField(lr_cell));
        QVERIFY(label);
        QCOMPARE(label->text(), QString("Learning rate"));
        // On screen, each page draws its fields top to bottom in that order.
        for (const auto& info : setup_steps()) {
            editor.set_current_step(info.step);
            QCOMPARE(editor.current_step(), info.step);
            QApplication::processEvents();
            QWidget* page = editor.step_page(info.step);
            QVERIFY(page->isVisible());
            int last = -1;
            for (const auto& f : editor.step_fields(info.step)) {
                QWidget* w = editor.field_widget(QString::fromStdString(f));
                if (f == "method.name") w = w->parentWidget();  // the list stands in for the hidden combo box
                const int top = top_on_page(w, page);
                QVERIFY2(top > last, f.c_str());
                last = top;
            }
        }
    }

    void dataset_check_says_found_or_missing() {
        ConfigEditor editor;
        // The embedded Fashion-MNIST at its default location.
        QVERIFY2(editor.dataset_check_text().startsWith(QString::fromUtf8("✔ found")),
                 qPrintable(editor.dataset_check_text()));
        QVERIFY(editor.dataset_check_text().contains(kFashionMnistDefaultRoot));
        // A root that does not exist, and one without the files.
        editor.set_field_text("data.root", dir_.filePath("nowhere"));
        QVERIFY2(editor.dataset_check_text().startsWith(QString::fromUtf8("✖ missing")),
                 qPrintable(editor.dataset_check_text()));
        QVERIFY(editor.dataset_check_text().contains("nowhere"));
        const QString empty = dir_.filePath("empty");
        QVERIFY(QDir().mkpath(empty));
        editor.set_field_text("data.root", empty);
        QVERIFY(editor.dataset_check_text().startsWith(QString::fromUtf8("✖ missing")));
        QVERIFY(editor.dataset_check_text().contains("train-images-idx3-ubyte"));
        // The four IDX files (the check looks at the layout; preflight reads them).
        const QString fake = dir_.filePath("fmnist");
        QVERIFY(QDir().mkpath(fake));
        for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte",
                              "t10k-labels-idx1-ubyte.gz"})
            touch(QDir(fake).filePath(f));
        editor.set_field_text("data.root", fake);
        QVERIFY2(editor.dataset_check_text().startsWith(QString::fromUtf8("✔ found")),
                 qPrintable(editor.dataset_check_text()));
        // CIFAR-10 in its batches folder; then one batch missing.
        const QString cifar = dir_.filePath("cifar/cifar-10-batches-bin");
        QVERIFY(QDir().mkpath(cifar));
        for (const char* f : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                              "data_batch_5.bin", "test_batch.bin"})
            touch(QDir(cifar).filePath(f));
        editor.set_field_text("data.dataset", "cifar10");
        editor.set_field_text("data.root", dir_.filePath("cifar"));
        QVERIFY2(editor.dataset_check_text().startsWith(QString::fromUtf8("✔ found")),
                 qPrintable(editor.dataset_check_text()));
        QVERIFY(QFile::remove(QDir(cifar).filePath("data_batch_4.bin")));
        editor.set_field_text("data.root", cifar);
        QVERIFY(editor.dataset_check_text().contains("data_batch_4.bin"));
    }

    void preview_shows_what_the_model_sees() {
        ConfigEditor editor;
        QSignalSpy shown(&editor, &ConfigEditor::preview_shown);
        QVERIFY(shown.wait(120000));
        QCOMPARE(shown.last().at(0).toString(), QString());
        QVERIFY(editor.shown_preview().has_value());
        const StreamPreview& preview = *editor.shown_preview();
        QCOMPARE(static_cast<int>(preview.tasks.size()), 5);
        const QStringList lines = editor.preview_lines();
        QCOMPARE(lines.size(), 5);

        // The independent reference: the engine's data path on the same (default) config.
        const ExperimentConfig config = editor.config();
        const RawDataset raw = load_raw_dataset(config);
        const StreamData data = build_stream_data(config, raw, preview.seed);
        for (int t = 0; t < 5; ++t) {
            const TaskPreview& task = preview.tasks[t];
            QCOMPARE(static_cast<int>(task.class_names.size()), 2);
            QCOMPARE(task.classes, data.tasks[t].spec.classes);
            QCOMPARE(task.domain, data.tasks[t].spec.domain);
            for (size_t i = 0; i < 2; ++i) {
                QCOMPARE(task.class_names[i], raw.class_names[task.classes[i]]);
                QVERIFY(lines[t].contains(QString::fromStdString(task.class_names[i])));
            }
            QCOMPARE(task.samples(), ConfigEditor::kPreviewSamplesPerTask);
            QCOMPARE(task.channels, 1);
            QCOMPARE(task.height, 28);
            const torch::Tensor index = torch::tensor(task.sample_positions, torch::kInt64);
            const torch::Tensor expected = data.tasks[t].train.samples->batch(index, BatchMode::train, 0).contiguous();
            const torch::Tensor got = torch::from_blob(const_cast<float*>(task.normalised.data()),
                                                       {task.samples(), 1, 28, 28}, torch::kFloat32);
            QVERIFY2(torch::equal(got, expected), qPrintable(QStringLiteral("task %1").arg(t)));
            // Both classes are among the samples.
            std::set<int> labels(task.sample_labels.begin(), task.sample_labels.end());
            QCOMPARE(labels, std::set<int>(task.classes.begin(), task.classes.end()));
        }
        // The display pixels, from the raw images: task 1's domain is `invert` (x → 1 − x), so a
        // shown pixel is 255 − the stored byte of the same image.
        const TaskPreview& inverted = preview.tasks[1];
        QCOMPARE(inverted.domain, std::string("invert"));
        for (int s = 0; s < inverted.samples(); ++s) {
            // The task's training set is class by class: train_per_class images of each (after the
            // foundation's, for a foundation class), in data-set order.
            const int64_t position = inverted.sample_positions[s];
            const int64_t per_class = config.data.train_per_class;
            const int cls = inverted.classes[position / per_class];
            const auto& found = data.spec.foundation_classes;
            const int64_t skip =
                std::find(found.begin(), found.end(), cls) != found.end() ? config.foundation.train_per_class : 0;
            const int64_t raw_index =
                torch::nonzero(raw.train_labels == cls).flatten()[skip + position % per_class].item<int64_t>();
            const torch::Tensor stored = raw.train_images[raw_index][0].contiguous();  // uint8 [28, 28]
            const QImage image = preview_image(inverted, s);
            QCOMPARE(image.size(), QSize(28, 28));
            int worst = 0;
            for (int y = 0; y < 28; ++y)
                for (int x = 0; x < 28; ++x) {
                    const int want = 255 - stored[y][x].item<uint8_t>();
                    const QRgb px = image.pixel(x, y);
                    worst = std::max(
                        {worst, std::abs(qRed(px) - want), std::abs(qGreen(px) - want), std::abs(qBlue(px) - want)});
                }
            QVERIFY2(worst <= 1, qPrintable(QStringLiteral("sample %1: off by %2").arg(s).arg(worst)));
        }
    }

    void newer_request_supersedes_older() {
        // The worker: three requests in one lane; only the newest is delivered. Request 1 is held
        // running (at `release`) until 2 and 3 are queued behind it.
        using lorica::testing::Gate;
        auto started = std::make_shared<Gate>(), release = std::make_shared<Gate>();
        SetupWorker worker;
        const Gate::OpenOnExit release_on_exit(*release);  // before ~SetupWorker waits for request 1
        QList<int> delivered;
        QSignalSpy idle(&worker, &SetupWorker::idle);
        auto done = [&delivered](int value, const QString&) { delivered << value; };
        worker.submit<int>(
            SetupWorker::Lane::preview,
            [started, release] {
                started->open();
                release->wait_for(std::chrono::seconds(60));
                return 1;
            },
            done);
        QVERIFY2(started->wait_for(std::chrono::seconds(10)), "request 1 runs");
        worker.submit<int>(
            SetupWorker::Lane::preview, [] { return 2; }, done);
        worker.submit<int>(
            SetupWorker::Lane::preview, [] { return 3; }, done);
        release->open();
        QVERIFY(idle.wait(10000));
        QCOMPARE(delivered, QList<int>({3}));
        QCOMPARE(worker.skipped(), 1);  // request 2, queued behind 1, skipped when 3 was the newest
        QCOMPARE(worker.pending(), 0);

        // The editor: two class orders typed in a row; the preview shown is the second's.
        ConfigEditor editor;
        QSignalSpy shown(&editor, &ConfigEditor::preview_shown);
        QVERIFY(shown.wait(120000));
        editor.set_field_text("stream.class_order_seed", "1");
        editor.set_field_text("stream.class_order_seed", "2");
        QVERIFY(shown.wait(120000));
        // Nothing else arrives: once the editor is quiet (no look-up scheduled by its debounce timers,
        // none queued or running on its workers), no other preview can come.
        QTRY_VERIFY_WITH_TIMEOUT(editor_is_quiet(editor), 120000);
        QCOMPARE(shown.count(), 2);
        QCOMPARE(editor.shown_preview()->seed, int64_t(2));
        const StreamSpec spec = make_stream_spec(editor.config(), 2, 10);
        QCOMPARE(editor.shown_preview()->tasks[0].classes, spec.tasks[0].classes);
    }

    void backbone_page_inspects_the_weights_file() {
        torch::manual_seed(0);
        // A file for the default tiny backbone (foundation head of 5 classes), and one of dim 32.
        const QString good = dir_.filePath("tiny.safetensors");
        const QString wrong = dir_.filePath("dim32.safetensors");
        {
            VisionTransformer model(ViTOptions::from_config(BackboneConfig{}, 5));
            save_timm_weights(good.toStdString(), model);
            BackboneConfig narrow;
            narrow.dim = 32;
            VisionTransformer other(ViTOptions::from_config(narrow, 5));
            save_timm_weights(wrong.toStdString(), other);
        }
        ConfigEditor editor;
        QTRY_VERIFY(editor.weights_status_text().contains("No weights file"));
        QSignalSpy checked(&editor, &ConfigEditor::weights_checked);
        editor.set_field_text("backbone.weights", good);
        QVERIFY(checked.wait(60000));
        QVERIFY2(editor.weights_status_text().startsWith(QString::fromUtf8("✔ loads")),
                 qPrintable(editor.weights_status_text()));
        QVERIFY2(editor.weights_status_text().contains("dim 64, patch 7, depth 3"),
                 qPrintable(editor.weights_status_text()));
        // The inspect summary: every tensor with its shape.
        const QString summary = editor.weights_summary_text();
        QVERIFY2(summary.contains("blocks.2.attn.qkv.weight"),
                 qPrintable(summary + " / " + editor.weights_status_text()));
        QVERIFY(summary.contains("[192, 64]"));
        QVERIFY(summary.contains("safetensors"));

        editor.set_field_text("backbone.weights", wrong);
        QVERIFY(checked.wait(60000));
        const QString status = editor.weights_status_text();
        QVERIFY2(status.startsWith(QString::fromUtf8("✖ does not load")), qPrintable(status));
        QVERIFY2(status.contains("wrong size"), qPrintable(status));
        QVERIFY2(status.contains("cls_token: file [1, 1, 32], model [1, 1, 64]"), qPrintable(status));
        QVERIFY(editor.weights_summary_text().contains("[96, 32]"));

        editor.set_field_text("backbone.weights", dir_.filePath("absent.safetensors"));
        QVERIFY(checked.wait(60000));
        QVERIFY(editor.weights_status_text().contains("no such file"));
    }

    void summary_counts_the_trainable_parameters() {
        ConfigEditor editor;
        editor.set_field_text("device", "cpu");
        QVERIFY(editor.valid());
        QSignalSpy shown(&editor, &ConfigEditor::estimate_shown);
        // The estimate builds and trains a model from LibTorch's global generator; it leaves the
        // generator as it found it (the next draw is the one a seeded run would make).
        torch::manual_seed(7);
        const torch::Tensor next_draw = torch::rand({4});
        torch::manual_seed(7);
        editor.set_current_step(SetupStep::summary);
        QVERIFY(shown.wait(120000));
        QCOMPARE(shown.last().at(0).toString(), QString());
        QVERIFY(torch::equal(torch::rand({4}), next_draw));
        const TrainingEstimate& e = *editor.shown_estimate();
        QCOMPARE(static_cast<int>(e.trainable_per_task.size()), 5);

        // Hand-computed: LoRA rank 8 on q and v of the tiny ViT (dim 64, 3 blocks): per block 2 sites ×
        // (8·64 + 64·8) = 2048, × 3 = 6144; plus the task's head 64·2 + 2 = 130.
        QCOMPARE(e.trainable_per_task[0], int64_t(6144 + 130));
        QCOMPARE(e.head_per_task[0], int64_t(130));
        // Computed from the model: the method's parameter groups after begin_task, plus the head.
        const ExperimentConfig config = editor.config();
        VisionTransformer model(ViTOptions::from_config(config.backbone, config.foundation.classes));
        TaskHeads heads(config.backbone.dim);
        heads->add_head(2, 0, torch::kCPU);
        auto method = make_method(config);
        MethodContext ctx{model, heads, config, 0, 5, 0, torch::kCPU, 0, {}, {}, {}, {}};
        method->begin_run(ctx);
        method->begin_task(ctx);
        int64_t from_model = count_parameters(method->parameter_groups(ctx));
        for (const auto& p : heads->parameters_of({0})) from_model += p.numel();
        for (int t = 0; t < 5; ++t) QCOMPARE(e.trainable_per_task[t], from_model);
        // Steps: 2 classes × 2000 images / 128 per batch → 32 steps × 3 epochs, per task.
        QCOMPARE(e.steps_per_task[0], int64_t(96));
        QCOMPARE(e.total_steps, int64_t(5 * 96));
        QVERIFY(e.seconds_per_step > 0);
        QCOMPARE(e.device, std::string("cpu"));
        const QString line = editor.summary_text();
        QVERIFY2(line.contains("6,274") && line.contains("6,144 method") && line.contains("480 steps"),
                 qPrintable(line));
        QVERIFY2(line.contains("ms per step") && line.contains("about"), qPrintable(line));

        // Another rank: the line follows.
        editor.set_field_text("method.rank", "4");
        QVERIFY(shown.wait(120000));
        QCOMPARE(editor.shown_estimate()->trainable_per_task[0], int64_t(3072 + 130));
    }

    void form_and_json_edit_one_document() {
        ConfigEditor editor;
        editor.set_field_text("train.epochs", "4");
        ConfigJsonDialog dialog(&editor);
        nlohmann::json doc = nlohmann::json::parse(dialog.text().toStdString());
        QCOMPARE(doc["train"]["epochs"].get<int>(), 4);
        doc["stream"]["tasks"] = 3;
        doc["data"]["root"] = dir_.filePath("nowhere").toStdString();
        dialog.set_text(QString::fromStdString(doc.dump(2)));
        QVERIFY(dialog.apply());
        QCOMPARE(qobject_cast<QLineEdit*>(editor.field_widget("stream.tasks"))->text(), QString("3"));
        QCOMPARE(editor.document()["train"]["epochs"].get<int>(), 4);
        // The pages' checks follow the JSON edit too.
        QVERIFY(editor.dataset_check_text().contains("nowhere"));
        editor.set_field_text("stream.tasks", "4");
        ConfigJsonDialog again(&editor);
        QCOMPARE(nlohmann::json::parse(again.text().toStdString())["stream"]["tasks"].get<int>(), 4);
    }

    void coarse_cifar100_task_list_has_twenty_classes() {
        // data.cifar100_labels = coarse: 20 superclasses (the catalogue's count), not CIFAR-100's 100.
        ConfigEditor editor;
        editor.set_field_text("data.dataset", "cifar100");
        editor.set_field_text("data.cifar100_labels", "coarse");
        editor.set_field_text("stream.tasks", "10");
        QVERIFY2(editor.valid(), qPrintable(editor.error_message()));
        const QStringList lines = editor.task_list();
        QCOMPARE(lines.size(), 11);  // foundation + 10 tasks
        std::set<int> classes;
        const QRegularExpression entry(QStringLiteral("(\\d+) ([^,]+)"));
        for (const QString& line : lines.mid(1))
            for (auto it = entry.globalMatch(line.mid(line.indexOf(QLatin1Char(':')))); it.hasNext();) {
                const auto m = it.next();
                const int c = m.captured(1).toInt();
                QVERIFY2(c >= 0 && c < 20, qPrintable(line));
                QCOMPARE(m.captured(2).toStdString(),
                         dataset_class_names(DatasetId::cifar100, Cifar100Labels::coarse)[c]);
                classes.insert(c);
            }
        QCOMPARE(classes.size(), std::size_t(20));  // 10 tasks × 2 classes: every superclass once
        // 11 tasks × 2 would need 22 classes.
        editor.set_field_text("stream.tasks", "11");
        QVERIFY(!editor.valid());
        QCOMPARE(editor.error_field(), QString("stream.tasks"));
        // Fine labels: 100 classes, so 11 tasks fit.
        editor.set_field_text("data.cifar100_labels", "fine");
        QVERIFY2(editor.valid(), qPrintable(editor.error_message()));
        QCOMPARE(editor.task_list().size(), 12);
    }

    void bad_field_shows_its_error_at_its_row() {
        ConfigEditor editor;
        editor.show();
        editor.set_field_text("data.train_per_class", "-5");
        QVERIFY(!editor.valid());
        QCOMPARE(editor.error_field(), QString("data.train_per_class"));
        QVERIFY(editor.field_error_text("data.train_per_class").contains("data.train_per_class"));
        QVERIFY(editor.field_error_text("data.test_per_class").isEmpty());
        // The error label sits in the field's own cell, and the step list marks the step.
        QWidget* cell = editor.field_widget("data.train_per_class")->parentWidget();
        bool in_cell = false;
        for (auto* label : cell->findChildren<QLabel*>())
            in_cell =
                in_cell || (label->text() == editor.field_error_text("data.train_per_class") && !label->isHidden());
        QVERIFY(in_cell);
        QCOMPARE(editor.step_titles()[0], QString::fromUtf8("Data set ✖"));
        editor.set_field_text("data.train_per_class", "100");
        QVERIFY(editor.valid());
        QCOMPARE(editor.step_titles()[0], QString("Data set"));
        // A field under "More": its group opens so the row with the error is in sight.
        QVERIFY(!editor.more_open(SetupStep::training));
        editor.set_field_text("train.grad_clip", "-1");
        QCOMPARE(editor.error_field(), QString("train.grad_clip"));
        QVERIFY(!editor.field_error_text("train.grad_clip").isEmpty());
        QVERIFY(editor.more_open(SetupStep::training));
        QCOMPARE(editor.step_titles()[4], QString::fromUtf8("Training ✖"));
    }

private:
    QTemporaryDir dir_;
};

QTEST_MAIN(GuiSetupTest)
#include "gui_setup_test.moc"
