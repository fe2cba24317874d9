fn main() {
    // tauri.conf.json sits at the repository root, next to Cargo.toml.
    tauri_build::try_build(tauri_build::Attributes::new()).expect("tauri build script");
}
