// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // WebKitGTK's accelerated compositing costs ~80 MiB more per window
    // (measured in bench/app.sh) and a table app does not need it. An
    // operator's own setting wins.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // Still single-threaded here: no thread or GTK has started.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    chom_desktop::run();
}
