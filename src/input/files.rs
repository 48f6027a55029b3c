//! The file commands: `/send`, `/accept`, `/decline`, `/cancel`, `/files`.

use std::path::PathBuf;

use super::{InputError, target};
use crate::api::{Command, Target};
use crate::files::FileId;

/// `/send <#chan|nick> path…` (a path with spaces in double quotes).
pub(super) fn send(args: &str, current: &Target) -> Result<Command, InputError> {
    const USAGE: &str = "/send [#chan|nick] path... (quote a path with spaces)";
    let words = split_paths(args).ok_or(InputError::Usage(USAGE))?;
    let (to, paths) = match words.split_first() {
        // One word: a path, offered in the current chat.
        Some((only, [])) => (current.clone(), vec![only.clone()]),
        Some((first, rest)) if !args.trim_start().starts_with('"') => {
            (target(first)?, rest.to_vec())
        }
        Some(_) => (current.clone(), words.clone()),
        None => return Err(InputError::Usage(USAGE)),
    };
    Ok(Command::SendFiles {
        to,
        paths: paths.into_iter().map(PathBuf::from).collect(),
    })
}

/// `/accept id`, `/decline id`, `/cancel id`.
pub(super) fn answer(
    args: &str,
    usage: &'static str,
    make: fn(FileId) -> Command,
) -> Result<Command, InputError> {
    let id = args.trim();
    if id.is_empty() {
        return Err(InputError::Usage(usage));
    }
    FileId::parse(id)
        .map(make)
        .ok_or_else(|| InputError::BadFileId(id.to_string()))
}

/// Words split at spaces, `"a b"` one word; `None` for an open quote.
fn split_paths(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return None;
    }
    if any {
        words.push(word);
    }
    Some(words.into_iter().filter(|w| !w.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Action, parse};

    fn main() -> Target {
        Target::Channel("#Main".into())
    }

    fn command(line: &str) -> Command {
        match parse(line, &main()) {
            Ok(Action::Command(c)) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn send_names_a_chat_and_paths() {
        assert_eq!(
            command("/send bob a.txt \"my docs/b c.pdf\""),
            Command::SendFiles {
                to: Target::Person("bob".into()),
                paths: vec![PathBuf::from("a.txt"), PathBuf::from("my docs/b c.pdf")],
            }
        );
        assert_eq!(
            command("/send #dev ./build"),
            Command::SendFiles {
                to: Target::Channel("#dev".into()),
                paths: vec![PathBuf::from("./build")],
            }
        );
        assert_eq!(
            command("/send report.pdf"),
            Command::SendFiles {
                to: main(),
                paths: vec![PathBuf::from("report.pdf")]
            }
        );
        assert_eq!(
            command("/send \"a b.txt\" c.txt"),
            Command::SendFiles {
                to: main(),
                paths: vec![PathBuf::from("a b.txt"), PathBuf::from("c.txt")],
            }
        );
        assert!(matches!(parse("/send", &main()), Err(InputError::Usage(_))));
        assert!(matches!(
            parse("/send bob \"open", &main()),
            Err(InputError::Usage(_))
        ));
    }

    #[test]
    fn answers_take_an_offer_id() {
        let id = FileId::random();
        assert_eq!(command(&format!("/accept {id}")), Command::AcceptFile(id));
        assert_eq!(command(&format!("/decline {id}")), Command::DeclineFile(id));
        assert_eq!(command(&format!("/cancel {id}")), Command::CancelFile(id));
        assert_eq!(command("/files"), Command::Files);
        assert!(matches!(
            parse("/accept", &main()),
            Err(InputError::Usage(_))
        ));
        assert!(matches!(
            parse("/accept 12ab", &main()),
            Err(InputError::BadFileId(_))
        ));
    }
}
