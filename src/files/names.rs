//! Names from a peer, made safe to save under: no path escapes (`..`,
//! absolute paths, drive letters), no characters Windows or macOS refuse,
//! no reserved device names, and never an existing file overwritten (a
//! numbered name instead, `report (1).pdf`).

use std::io;
use std::path::{Path, PathBuf};

/// Longest name (bytes) of a file or folder in an offer, and of one path
/// part in a folder's listing.
pub const MAX_NAME: usize = 255;
/// Longest relative path (bytes) in a folder's listing.
pub const MAX_PATH: usize = 1024;
/// Deepest folder nesting in a folder's listing.
pub const MAX_DEPTH: usize = 32;

/// Windows' device names, refused as a file name with any extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// One name made safe: path separators, control characters and the
/// characters Windows refuses become `_`; it is cut to fewer than
/// [`MAX_NAME`] bytes (on a character boundary); dots and spaces at either
/// end go (after the cut, so none is left at the end); a device name gets
/// a `_` in front; an empty result is `file`.
pub fn sanitise(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // One byte is left for the `_` of a device name.
    if out.len() >= MAX_NAME {
        let mut cut = MAX_NAME - 1;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    let mut out = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    let stem = out.split('.').next().unwrap_or_default();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        out.insert(0, '_');
    }
    if out.is_empty() {
        out = "file".into();
    }
    out
}

/// The name an offer's file or folder is saved as: only its last part
/// counts (`../../etc/x` is `x`), sanitised.
pub fn leaf(name: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .find(|part| !part.is_empty() && *part != "." && *part != "..")
        .unwrap_or_default();
    sanitise(last)
}

/// A relative path from a folder's listing, made safe part by part: `.`,
/// `..` and empty parts are dropped, the rest sanitised. `None` for a path
/// that is too long, too deep, or has nothing left.
pub fn relative(path: &str) -> Option<PathBuf> {
    if path.len() > MAX_PATH {
        return None;
    }
    let parts: Vec<String> = path
        .split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != "." && *part != "..")
        .map(sanitise)
        .collect();
    if parts.is_empty() || parts.len() > MAX_DEPTH {
        return None;
    }
    Some(parts.iter().collect())
}

/// `name`, or `name (1)`, `name (2)`… before the extension: the first one
/// `dir` does not have. Only a hint: [`create_unique`] makes it race-free.
pub(crate) fn numbered(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Creates a new empty file or folder in `dir` named `name` or, if that is
/// taken, `name (1)` and so on; returns its path. Never opens an existing
/// one (the create fails if the name is taken, and the next is tried).
pub fn create_unique(dir: &Path, name: &str, folder: bool) -> io::Result<PathBuf> {
    for n in 0..10_000 {
        let path = dir.join(numbered(name, n));
        let made = if folder {
            std::fs::create_dir(&path)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map(drop)
        };
        match made {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free name for {name}"),
    ))
}

/// Moves `part` to `dir/name`, or `name (1)`… if taken: never over an
/// existing file (a file is hard-linked, which fails if the name exists,
/// where the file system can; otherwise renamed after a check).
pub(crate) fn settle(
    dir: &Path,
    part: &Path,
    name: &str,
    folder: bool,
) -> std::io::Result<PathBuf> {
    for n in 0..10_000u32 {
        let candidate = dir.join(numbered(name, n));
        if candidate.exists() {
            continue;
        }
        if !folder {
            match std::fs::hard_link(part, &candidate) {
                Ok(()) => {
                    std::fs::remove_file(part)?;
                    return Ok(candidate);
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => {}
            }
        }
        std::fs::rename(part, &candidate)?;
        return Ok(candidate);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free name",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_names() {
        assert_eq!(leaf("../../etc/x"), "x");
        assert_eq!(leaf("..\\..\\Windows\\win.ini"), "win.ini");
        assert_eq!(leaf("/etc/passwd"), "passwd");
        assert_eq!(leaf(".."), "file");
        assert_eq!(leaf(""), "file");
        assert_eq!(leaf("C:evil.txt"), "C_evil.txt");
        assert_eq!(leaf(".bashrc"), "bashrc");
        assert_eq!(leaf("a\u{0}b\nc"), "a_b_c");
        assert_eq!(leaf("CON.txt"), "_CON.txt");
        assert_eq!(leaf("report. . "), "report");
        assert!(leaf(&"é".repeat(300)).len() <= MAX_NAME);
        // What the cut leaves at the end is trimmed too, and a device name
        // the cut reveals is still marked.
        let cut = leaf(&format!("{}.{}", "a".repeat(MAX_NAME - 2), "b".repeat(9)));
        assert_eq!(cut, "a".repeat(MAX_NAME - 2));
        let con = leaf(&format!("CON{}x", " ".repeat(MAX_NAME)));
        assert_eq!(con, "_CON");
    }

    #[test]
    fn listing_paths_stay_inside() {
        assert_eq!(relative("a/../../b/c"), Some(PathBuf::from("a/b/c")));
        assert_eq!(relative("/abs/x"), Some(PathBuf::from("abs/x")));
        assert_eq!(relative("../.."), None);
        assert_eq!(relative(&"a/".repeat(MAX_DEPTH + 1)), None);
        for part in relative("x/../../y\\..\\z").into_iter().flat_map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        }) {
            assert!(part != ".." && !part.contains('/') && !part.contains('\\'));
        }
    }

    #[test]
    fn taken_names_get_a_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = create_unique(dir.path(), "report.pdf", false).expect("first");
        let second = create_unique(dir.path(), "report.pdf", false).expect("second");
        let third = create_unique(dir.path(), "notes", true).expect("folder");
        let fourth = create_unique(dir.path(), "notes", true).expect("folder 2");
        assert_eq!(first, dir.path().join("report.pdf"));
        assert_eq!(second, dir.path().join("report (1).pdf"));
        assert_eq!(third, dir.path().join("notes"));
        assert_eq!(fourth, dir.path().join("notes (1)"));
    }
    #[test]
    fn a_part_settles_beside_files_it_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("x"), b"theirs").expect("write");
        let part = dir.path().join("x.part");
        std::fs::write(&part, b"mine").expect("write");
        let path = settle(dir.path(), &part, "x", false).expect("settle");
        assert_eq!(path, dir.path().join("x (1)"));
        assert_eq!(
            std::fs::read(dir.path().join("x")).expect("read"),
            b"theirs"
        );
        assert_eq!(std::fs::read(&path).expect("read"), b"mine");
        assert!(!part.exists());
    }
}
