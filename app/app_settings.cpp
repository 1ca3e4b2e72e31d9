#include "app/app_settings.h"

#include <QSettings>

#include "engine/util/paths.h"

namespace lorica::app {

QString settings_database_path() {
    return QSettings().value("database", QString::fromStdString(default_database_path())).toString();
}
void set_settings_database_path(const QString& path) { QSettings().setValue("database", path); }
QString settings_config_json() { return QSettings().value("config").toString(); }
void set_settings_config_json(const QString& json) { QSettings().setValue("config", json); }
QByteArray settings_window_geometry() { return QSettings().value("window/geometry").toByteArray(); }
QByteArray settings_window_state() { return QSettings().value("window/state").toByteArray(); }
void set_settings_window(const QByteArray& geometry, const QByteArray& state) {
    QSettings s;
    s.setValue("window/geometry", geometry);
    s.setValue("window/state", state);
}

}  // namespace lorica::app
