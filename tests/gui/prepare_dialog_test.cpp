// Experiment → Prepare data set… under QtTest (QT_QPA_PLATFORM=offscreen): on a tiny image folder
// the dialog prepares every image on its worker thread, its progress reaches the total, the folder's
// manifest says complete and data.prepared in the set-up is the folder; a preparation cancelled
// mid-way (held at a known image by a gate in the progress callback, never a sleep) leaves a folder
// that a second Prepare completes without writing the kept shard again; a data set held in memory
// (Fashion-MNIST) disables the action with the reason as its tooltip; an error names the field.

#include <QApplication>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/config_editor.h"
#include "app/main_window.h"
#include "app/prepare_dialog.h"
#include "app/prepare_worker.h"
#include "tests/support/class_folders.h"
#include "tests/support/gate.h"

using namespace lorica;
using namespace lorica::app;
namespace fs = std::filesystem;

namespace {

// 4 classes × (6 train + 2 test) 12-px PNGs: 32 images in two sets.
constexpr qint64 kPrepareTestImages = 32;

nlohmann::json prepare_test_document(const QString& root) {
    return {{"name", "prepare-gui"},
            {"device", "cpu"},
            {"threads", 1},
            {"data",
             {{"dataset", "image-folder"},
              {"root", root.toStdString()},
              {"train_per_class", 0},
              {"test_per_class", 0},
              {"normalize_mean", {0.5, 0.5, 0.5}},
              {"normalize_std", {0.5, 0.5, 0.5}},
              {"workers", 1}}},
            {"foundation", {{"enabled", false}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity"}}}},
            {"backbone",
             {{"image_size", 16}, {"patch_size", 8}, {"in_channels", 3}, {"dim", 16}, {"depth", 1}, {"heads", 2}}},
            {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
            {"train", {{"epochs", 1}, {"batch_size", 4}}}};
}

nlohmann::json read_prepare_manifest(const QString& dir) {
    std::ifstream in((fs::path(dir.toStdString()) / "prepared.json").string());
    if (!in) return nullptr;
    return nlohmann::json::parse(in, nullptr, false);
}

bool prepare_manifest_complete(const QString& dir) {
    const nlohmann::json m = read_prepare_manifest(dir);
    return m.is_object() && m.value("complete", false);
}

// The images every set of the manifest holds.
qint64 prepare_manifest_images(const QString& dir) {
    qint64 images = 0;
    for (const auto& set : read_prepare_manifest(dir).value("sets", nlohmann::json::array()))
        images += set.value("images", int64_t{0});
    return images;
}

}  // namespace

class PrepareDialogTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QString images_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("XDG_DATA_HOME", dir_.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", dir_.filePath("config").toUtf8());
        qputenv("XDG_CACHE_HOME", dir_.filePath("cache").toUtf8());
        images_ = dir_.filePath("images");
        lorica::testing::write_class_folders(images_.toStdString(), {"a", "b", "c", "d"}, 6, 2);
    }

    void preparesTheFolderAndSetsDataPrepared() {
        MainWindow window;
        window.set_confirm_close(false);
        window.editor()->set_document(prepare_test_document(images_));
        QVERIFY2(window.editor()->valid(), qPrintable(window.editor()->error_message()));
        QVERIFY(window.prepare_action()->isEnabled());
        // The set-up's button beside data.prepared is the same action.
        auto* button = window.editor()->findChild<QToolButton*>(QStringLiteral("data.prepared.prepare"));
        QVERIFY(button);
        QCOMPARE(button->defaultAction(), window.prepare_action());

        PrepareDialog* dialog = window.prepare_data();
        QVERIFY(dialog);
        // Proposed beside the data set's root (its parent, the temporary folder, is writable).
        QCOMPARE(dialog->folder(), dir_.filePath(QStringLiteral("images-prepared-%1").arg(16 * 8 / 7)));
        const QString out = dir_.filePath("prepared-complete");
        dialog->set_folder(out);

        qint64 last_done = -1, last_total = -1;
        int reports = 0;
        connect(dialog->worker(), &PrepareWorker::progress, dialog, [&](const PrepareUpdate& u) {
            QVERIFY(u.done >= last_done);  // never backwards
            last_done = u.done;
            last_total = u.total;
            ++reports;
        });
        QSignalSpy ended(dialog, &PrepareDialog::ended);
        QVERIFY(dialog->start());
        QVERIFY(dialog->running());
        QVERIFY(!dialog->start());  // one job at a time
        QVERIFY(ended.wait(120000));
        const auto outcome = ended.at(0).at(0).value<PrepareOutcome>();
        QVERIFY2(outcome.status == PrepareOutcome::Status::finished, qPrintable(outcome.message));
        QCOMPARE(outcome.images, kPrepareTestImages);
        QCOMPARE(outcome.images_written, kPrepareTestImages);
        QVERIFY(outcome.bytes > 0);

        // Progress reached the total, on the bar too.
        QVERIFY(reports >= 1);
        QCOMPARE(last_total, kPrepareTestImages);
        QCOMPARE(last_done, kPrepareTestImages);
        QCOMPARE(dialog->progress_bar()->maximum(), static_cast<int>(kPrepareTestImages));
        QCOMPARE(dialog->progress_bar()->value(), static_cast<int>(kPrepareTestImages));
        QVERIFY(dialog->progress_text().startsWith(QStringLiteral("32 / 32 images")));
        QVERIFY(!dialog->running());
        QCOMPARE(dialog->cancel_button()->text(), QStringLiteral("Close"));

        // The folder is complete, and the set-up now reads it.
        QVERIFY(prepare_manifest_complete(out));
        QCOMPARE(prepare_manifest_images(out), kPrepareTestImages);
        QCOMPARE(QString::fromStdString(window.editor()->document()["data"]["prepared"].get<std::string>()), out);
        QVERIFY2(window.editor()->valid(), qPrintable(window.editor()->error_message()));
        QCOMPARE(QString::fromStdString(window.editor()->config().data.prepared), out);

        // A second Prepare into the complete folder writes nothing.
        QVERIFY(dialog->start());
        QVERIFY(ended.wait(120000));
        const auto again = ended.at(1).at(0).value<PrepareOutcome>();
        QVERIFY2(again.status == PrepareOutcome::Status::finished, qPrintable(again.message));
        QCOMPARE(again.images, kPrepareTestImages);
        QCOMPARE(again.images_written, qint64{0});
    }

    void cancelledMidwayThenContinued() {
        MainWindow window;
        window.set_confirm_close(false);
        window.editor()->set_document(prepare_test_document(images_));
        QVERIFY(window.editor()->valid());
        PrepareDialog* dialog = window.prepare_data();
        QVERIFY(dialog);
        const QString out = dir_.filePath("prepared-cancelled");
        dialog->set_folder(out);
        dialog->worker()->set_images_per_shard(8);  // several shards: the first stays when cancelled in the second

        // Hold the job at its 12th image (in the second shard) until the test has pressed Cancel.
        auto reached = std::make_shared<lorica::testing::Gate>();
        auto release = std::make_shared<lorica::testing::Gate>();
        lorica::testing::Gate::OpenOnExit release_on_exit(*release);
        dialog->worker()->set_progress_hook([reached, release](const PrepareUpdate& u) {
            if (u.done >= 12 && !reached->is_open()) {
                reached->open();
                release->wait_for(std::chrono::seconds(60));
            }
        });
        QSignalSpy ended(dialog, &PrepareDialog::ended);
        QVERIFY(dialog->start());
        QVERIFY(reached->wait_for(std::chrono::seconds(120)));
        QCOMPARE(dialog->cancel_button()->text(), QStringLiteral("Cancel"));
        dialog->cancel_button()->click();
        release->open();
        QVERIFY(ended.wait(120000));
        const auto cancelled = ended.at(0).at(0).value<PrepareOutcome>();
        QVERIFY2(cancelled.status == PrepareOutcome::Status::cancelled, qPrintable(cancelled.message));
        QVERIFY(cancelled.images_written >= 12);
        QVERIFY(cancelled.images_written < kPrepareTestImages);
        QVERIFY(dialog->outcome_text().contains(QStringLiteral("continues where this stopped")));
        QVERIFY(!prepare_manifest_complete(out));
        // data.prepared is set only for a complete folder.
        QVERIFY(window.editor()->config().data.prepared.empty());

        // The second Prepare (no hook now) continues: the kept shard is not written again.
        dialog->worker()->set_progress_hook({});
        QVERIFY(dialog->start());
        QVERIFY(ended.wait(120000));
        const auto completed = ended.at(1).at(0).value<PrepareOutcome>();
        QVERIFY2(completed.status == PrepareOutcome::Status::finished, qPrintable(completed.message));
        QCOMPARE(completed.images, kPrepareTestImages);
        QVERIFY(completed.images_written > 0);
        QVERIFY(completed.images_written <= kPrepareTestImages - 8);
        QVERIFY(prepare_manifest_complete(out));
        QCOMPARE(prepare_manifest_images(out), kPrepareTestImages);
        QCOMPARE(QString::fromStdString(window.editor()->config().data.prepared), out);
    }

    void aFolderOfOtherFilesIsRefusedNamingTheField() {
        MainWindow window;
        window.set_confirm_close(false);
        window.editor()->set_document(prepare_test_document(images_));
        PrepareDialog* dialog = window.prepare_data();
        QVERIFY(dialog);
        const QString out = dir_.filePath("not-empty");
        QVERIFY(QDir().mkpath(out));
        std::ofstream((fs::path(out.toStdString()) / "notes.txt").string()) << "mine\n";
        dialog->set_folder(out);
        QSignalSpy ended(dialog, &PrepareDialog::ended);
        QVERIFY(dialog->start());
        QVERIFY(ended.wait(120000));
        const auto failed = ended.at(0).at(0).value<PrepareOutcome>();
        QVERIFY(failed.status == PrepareOutcome::Status::failed);
        QCOMPARE(failed.field, QStringLiteral("data.prepared"));
        QVERIFY(dialog->outcome_text().contains(QStringLiteral("data.prepared")));
        QVERIFY(fs::exists(fs::path(out.toStdString()) / "notes.txt"));  // nothing of the user's touched
        QVERIFY(window.editor()->config().data.prepared.empty());
    }

    void dataHeldInMemoryDisablesTheAction() {
        MainWindow window;
        window.set_confirm_close(false);
        window.editor()->set_document(prepare_test_document(images_));
        QVERIFY(window.prepare_action()->isEnabled());
        // The default experiment: Fashion-MNIST at 28 px, read into memory.
        window.editor()->set_document(nlohmann::json::object());
        QVERIFY(window.editor()->valid());
        QVERIFY(!window.prepare_action()->isEnabled());
        QVERIFY(window.prepare_action()->toolTip().contains(QStringLiteral("held in memory")));
        QVERIFY(window.prepare_data() == nullptr);
    }
};

QTEST_MAIN(PrepareDialogTest)
#include "prepare_dialog_test.moc"
