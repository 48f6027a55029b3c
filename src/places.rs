//! Where lanchat keeps its files: the system's places for this user (the
//! `directories` crate: `%APPDATA%\lanchat` on Windows,
//! `~/.local/share/lanchat` and `~/.config/lanchat` on Linux), or, in
//! **portable mode**, one `data` folder beside the program. A file named
//! `portable` next to the executable turns portable mode on: the portable
//! ZIP ships one, so lanchat run from a USB stick leaves nothing on the PC.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// The file beside the executable that turns portable mode on.
pub const PORTABLE_MARKER: &str = "portable";

/// The folder that holds everything in portable mode, for the program at
/// `exe`: its `data` folder, when the marker is beside it.
pub fn portable_dir_of(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    dir.join(PORTABLE_MARKER)
        .is_file()
        .then(|| dir.join("data"))
}

/// The portable folder of this program, if it runs in portable mode.
pub fn portable_dir() -> Option<PathBuf> {
    portable_dir_of(&std::env::current_exe().ok()?)
}

fn system() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "lanchat")
}

/// Where the key pair, the history and the lock live.
pub fn data_dir() -> Option<PathBuf> {
    portable_dir().or_else(|| system().map(|d| d.data_dir().to_path_buf()))
}

/// Where the settings file lives (the data folder in portable mode).
pub fn config_dir() -> Option<PathBuf> {
    portable_dir().or_else(|| system().map(|d| d.config_dir().to_path_buf()))
}

/// Where files that can be made again live (the beep's sound).
pub fn cache_dir() -> Option<PathBuf> {
    portable_dir()
        .map(|d| d.join("cache"))
        .or_else(|| system().map(|d| d.cache_dir().to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_beside_the_program_keeps_everything_beside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = dir.path().join("lanchat.exe");
        std::fs::write(&exe, b"").expect("exe");
        assert_eq!(
            portable_dir_of(&exe),
            None,
            "no marker: the system's places"
        );
        std::fs::write(dir.path().join(PORTABLE_MARKER), b"").expect("marker");
        assert_eq!(portable_dir_of(&exe), Some(dir.path().join("data")));
        // A folder of that name is no marker.
        std::fs::remove_file(dir.path().join(PORTABLE_MARKER)).expect("rm");
        std::fs::create_dir(dir.path().join(PORTABLE_MARKER)).expect("mkdir");
        assert_eq!(portable_dir_of(&exe), None);
    }
}
