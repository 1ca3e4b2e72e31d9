#pragma once
// What the workbench remembers between sessions (QSettings: organisation and application "lorica",
// ~/.config/lorica/lorica.conf):
//   database        the results database last opened (default: the CLI's default_database_path(),
//                   $XDG_DATA_HOME/lorica/lorica.db, i.e. the application data location of "lorica"),
//                   so the GUI and lorica-cli see the same runs
//   config          the experiment document last edited (JSON text)
//   window/geometry, window/state   main-window geometry and dock layout (saveState/restoreState)

#include <QByteArray>
#include <QString>

namespace lorica::app {

QString settings_database_path();
void set_settings_database_path(const QString& path);
QString settings_config_json();
void set_settings_config_json(const QString& json);
QByteArray settings_window_geometry();
QByteArray settings_window_state();
void set_settings_window(const QByteArray& geometry, const QByteArray& state);

// The dock layout version written with the window state; bump it when docks are renamed.
inline constexpr int kWindowStateVersion = 1;

}  // namespace lorica::app
