//! The slash-command language typed by a user, shared by the headless mode
//! and the window: one line in, one [`Action`] out, or an [`InputError`]
//! that says what was wrong with the line.

use crate::api::{Command, Secret, Target};
use crate::protocol::CoreCommand;

mod files;
use crate::types::{
    MAX_STATUS_TEXT, MAX_TEXT, MAX_TOPIC, MessageKind, NameError, Status, channel_name, valid_nick,
};

/// How many messages `/history` replays when no number is given.
pub const DEFAULT_HISTORY: usize = 50;
/// How many results `/search` shows at most.
pub const DEFAULT_SEARCH: usize = 50;

/// What a line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Hand this command to the node.
    Command(Command),
    /// Hand this command (a join) to the node and make `chat` the current chat.
    JoinAndSwitch {
        /// The `CoreCommand::Join`.
        command: Command,
        /// The channel joined.
        chat: Target,
    },
    /// Show the command list ([`HELP`]).
    Help,
    /// An empty line: nothing to do.
    Nothing,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The command is not one lanchat knows.
    #[error("unknown command /{0}; try /help")]
    UnknownCommand(String),
    /// A required argument is missing.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// A channel name is not acceptable.
    #[error("bad channel name {name:?}: {cause}")]
    BadChannel {
        /// As typed.
        name: String,
        /// Why.
        cause: NameError,
    },
    /// A nick is not acceptable.
    #[error("bad nick {0:?}: 1-32 bytes, no spaces, commas, '@' or leading '#'")]
    BadNick(String),
    /// A text is longer than allowed.
    #[error("the {what} is longer than {max} bytes")]
    TooLong {
        /// Which text.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A number is not a positive whole number.
    #[error("{0:?} is not a positive number")]
    BadNumber(String),
    /// The command needs a channel but the current chat is with a person.
    #[error("the current chat is not a channel; name one (#name)")]
    NotAChannel,
    /// Not a file offer's id.
    #[error("{0:?} is not an offer id (the 32 characters /files shows)")]
    BadFileId(String),
    /// Not an IP address, with or without a port.
    #[error("{0:?} is not an address (e.g. 10.0.0.5, 10.0.0.5:47077 or [fe80::1%2]:47077)")]
    BadAddress(String),
}

/// The command list, one command a line.
pub const HELP: &str = "\
text                          say text in the current chat
//text                        say a text that starts with '/'
/msg <#chan|nick[,nick...]> text  send to channels or people (several: a memo)
/join #name [password]        join (or create) a channel and switch to it;
                              with a password only its members can read it
/part [#name]                 leave a channel (the current one by default)
/topic [#chan] text           set a channel's topic
/nick new                     change nick
/away [text]                  set status away
/dnd [text]                   set status do-not-disturb
/back                         set status available
/beep nick                    ask someone for attention
/me action                    say an action (* nick waves)
/who                          list people online
/channels                     list channels
/history <#chan|nick> [N]     replay the newest N messages (default 50)
/search words                 find stored messages with all these words
/export <#chan|nick> <file>   write a chat's whole history to a text file
/peer address[:port]          also reach a node at this address (another
                              subnet, or a network that drops multicast
                              and broadcast); remembered
/unpeer address[:port]        stop reaching an address added with /peer
/doctor                       what this node sees of the network, and why
                              someone may be invisible
/send [#chan|nick] path...    offer files or folders (quote paths with
                              spaces); a channel's members each decide
/accept id  /decline id       answer a file offer
/cancel id                    stop receiving, or withdraw my offer
/files                        list file offers and transfers
/quit                         leave and exit
/help                         this list";

/// Parses one line typed while `current` is the current chat.
pub fn parse(line: &str, current: &Target) -> Result<Action, InputError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(Action::Nothing);
    }
    if let Some(literal) = line.strip_prefix("//") {
        return say(
            vec![current.clone()],
            format!("/{literal}"),
            MessageKind::Text,
        );
    }
    let Some(rest) = line.trim_start().strip_prefix('/') else {
        return say(vec![current.clone()], line.to_string(), MessageKind::Text);
    };
    let (name, args) = split_word(rest);
    let args = args.trim();
    let command = match name.to_ascii_lowercase().as_str() {
        "msg" | "m" => {
            let (targets, text) = split_word(args);
            if targets.is_empty() || text.trim().is_empty() {
                return Err(InputError::Usage("/msg <#chan|nick[,nick...]> text"));
            }
            let targets = targets
                .split(',')
                .filter(|t| !t.is_empty())
                .map(target)
                .collect::<Result<Vec<_>, _>>()?;
            return say(targets, text.trim_start().to_string(), MessageKind::Text);
        }
        "join" | "j" => {
            // The password is the rest of the line, spaces and all.
            let (name, password) = split_word(args);
            if name.is_empty() {
                return Err(InputError::Usage("/join #name [password]"));
            }
            let name = channel(name)?;
            let password = password.trim();
            return Ok(Action::JoinAndSwitch {
                command: Command::Core(CoreCommand::Join {
                    channel: name.clone(),
                    secret: (!password.is_empty()).then(|| Secret::Password(password.into())),
                }),
                chat: Target::Channel(name),
            });
        }
        "part" | "leave" => {
            let channel = match args {
                "" => current_channel(current)?,
                name if name.contains(char::is_whitespace) => {
                    return Err(InputError::Usage("/part [#name]"));
                }
                name => channel(name)?,
            };
            Command::Core(CoreCommand::Part { channel })
        }
        "topic" => {
            let (channel, text) = match split_word(args) {
                (first, text) if first.starts_with('#') => (channel(first)?, text.trim()),
                _ => (current_channel(current)?, args),
            };
            if text.is_empty() {
                return Err(InputError::Usage("/topic [#chan] text"));
            }
            check_len("topic", text, MAX_TOPIC)?;
            Command::Core(CoreCommand::Topic {
                channel,
                text: text.to_string(),
            })
        }
        "nick" => {
            if args.is_empty() {
                return Err(InputError::Usage("/nick new"));
            }
            if !valid_nick(args) {
                return Err(InputError::BadNick(args.to_string()));
            }
            Command::Core(CoreCommand::Nick(args.to_string()))
        }
        "away" => status(Status::Away, args)?,
        "dnd" => status(Status::DoNotDisturb, args)?,
        "back" => status(Status::Available, "")?,
        "beep" => {
            if args.is_empty() || args.contains(char::is_whitespace) {
                return Err(InputError::Usage("/beep nick"));
            }
            Command::Core(CoreCommand::Beep(person(args)?))
        }
        "me" => {
            if args.is_empty() {
                return Err(InputError::Usage("/me action"));
            }
            return say(vec![current.clone()], args.to_string(), MessageKind::Action);
        }
        "who" | "names" => Command::Core(CoreCommand::Who),
        "channels" | "list" => Command::Core(CoreCommand::Channels),
        "history" => {
            let (chat, rest) = split_word(args);
            if chat.is_empty() {
                return Err(InputError::Usage("/history <#chan|nick> [N]"));
            }
            let limit = match rest.trim() {
                "" => DEFAULT_HISTORY,
                n => match n.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(InputError::BadNumber(n.to_string())),
                },
            };
            Command::History {
                chat: target(chat)?,
                limit,
                before: None,
            }
        }
        "trust" => {
            let who = args.trim();
            if who.is_empty() {
                return Err(InputError::Usage("/trust <nick>"));
            }
            Command::Trust { peer: target(who)? }
        }
        "export" => {
            let (chat, path) = split_word(args);
            if chat.is_empty() || path.trim().is_empty() {
                return Err(InputError::Usage("/export <#chan|nick> <file>"));
            }
            Command::Export {
                chat: target(chat)?,
                path: std::path::PathBuf::from(path.trim()),
            }
        }
        "search" | "find" => {
            if args.trim().is_empty() {
                return Err(InputError::Usage("/search <words>"));
            }
            Command::Search {
                text: args.trim().to_string(),
                limit: DEFAULT_SEARCH,
            }
        }
        "peer" => Command::Core(CoreCommand::AddPeer(address(args, "/peer address[:port]")?)),
        "unpeer" => Command::Core(CoreCommand::ForgetPeer(address(
            args,
            "/unpeer address[:port]",
        )?)),
        "doctor" | "network" => Command::Network,
        "send" | "file" => files::send(args, current)?,
        "accept" => files::answer(args, "/accept <offer id>", Command::AcceptFile)?,
        "decline" => files::answer(args, "/decline <offer id>", Command::DeclineFile)?,
        "cancel" => files::answer(args, "/cancel <offer id>", Command::CancelFile)?,
        "files" | "transfers" => Command::Files,
        "quit" | "exit" => Command::Core(CoreCommand::Quit),
        "help" | "?" => return Ok(Action::Help),
        other => return Err(InputError::UnknownCommand(other.to_string())),
    };
    Ok(Action::Command(command))
}

/// An IP address with an optional port; port 0 stands for the group port
/// (where a node's group socket listens), which the driver fills in.
fn address(args: &str, usage: &'static str) -> Result<std::net::SocketAddr, InputError> {
    let text = args.trim();
    if text.is_empty() {
        return Err(InputError::Usage(usage));
    }
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(std::net::SocketAddr::new(ip, 0)),
        Err(_) => Err(InputError::BadAddress(text.to_string())),
    }
}

/// Splits off the first word; the rest keeps its inner spacing.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    }
}

fn say(to: Vec<Target>, text: String, kind: MessageKind) -> Result<Action, InputError> {
    check_len("message", &text, MAX_TEXT)?;
    Ok(Action::Command(Command::Core(CoreCommand::Say {
        to,
        text,
        kind,
    })))
}

fn status(status: Status, text: &str) -> Result<Command, InputError> {
    check_len("status text", text, MAX_STATUS_TEXT)?;
    Ok(Command::Core(CoreCommand::Status {
        status,
        text: text.to_string(),
    }))
}

fn check_len(what: &'static str, text: &str, max: usize) -> Result<(), InputError> {
    if text.len() > max {
        return Err(InputError::TooLong { what, max });
    }
    Ok(())
}

fn channel(name: &str) -> Result<String, InputError> {
    channel_name(name).map_err(|cause| InputError::BadChannel {
        name: name.to_string(),
        cause,
    })
}

fn current_channel(current: &Target) -> Result<String, InputError> {
    match current {
        Target::Channel(name) => channel(name),
        Target::Person(_) | Target::Node(_) => Err(InputError::NotAChannel),
    }
}

/// A person as typed: `nick`, `@nick` or `nick#abcd`.
fn person(name: &str) -> Result<Target, InputError> {
    let nick = name.strip_prefix('@').unwrap_or(name);
    if valid_nick(nick) {
        Ok(Target::Person(nick.to_string()))
    } else {
        Err(InputError::BadNick(name.to_string()))
    }
}

/// A channel (`#name`) or a person.
fn target(name: &str) -> Result<Target, InputError> {
    if name.starts_with('#') {
        Ok(Target::Channel(channel(name)?))
    } else {
        person(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main() -> Target {
        Target::Channel("#Main".into())
    }

    fn cmd(line: &str) -> Command {
        match parse(line, &main()) {
            Ok(Action::Command(c)) => c,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn err(line: &str) -> InputError {
        match parse(line, &main()) {
            Err(e) => e,
            other => panic!("{line:?} should fail, gave {other:?}"),
        }
    }

    fn say_to(to: Vec<Target>, text: &str, kind: MessageKind) -> Command {
        Command::Core(CoreCommand::Say {
            to,
            text: text.into(),
            kind,
        })
    }

    #[test]
    fn plain_text_goes_to_the_current_chat() {
        assert_eq!(
            cmd("hello  world"),
            say_to(vec![main()], "hello  world", MessageKind::Text)
        );
        assert_eq!(
            cmd("  indented"),
            say_to(vec![main()], "  indented", MessageKind::Text)
        );
        assert_eq!(
            cmd("//not a command"),
            say_to(vec![main()], "/not a command", MessageKind::Text)
        );
        let bob = Target::Person("bob".into());
        assert_eq!(
            parse("hi", &bob),
            Ok(Action::Command(say_to(
                vec![bob.clone()],
                "hi",
                MessageKind::Text
            )))
        );
        assert_eq!(parse("", &main()), Ok(Action::Nothing));
        assert_eq!(parse("   \r\n", &main()), Ok(Action::Nothing));
        assert_eq!(
            cmd("line\r\n"),
            say_to(vec![main()], "line", MessageKind::Text)
        );
    }

    #[test]
    fn msg_takes_channels_and_several_people() {
        assert_eq!(
            cmd("/msg bob hi there"),
            say_to(
                vec![Target::Person("bob".into())],
                "hi there",
                MessageKind::Text
            )
        );
        assert_eq!(
            cmd("/msg bob,@carol#1a2b,#dev memo"),
            say_to(
                vec![
                    Target::Person("bob".into()),
                    Target::Person("carol#1a2b".into()),
                    Target::Channel("#dev".into()),
                ],
                "memo",
                MessageKind::Text
            )
        );
        assert_eq!(
            cmd("/MSG #main x"),
            say_to(vec![main()], "x", MessageKind::Text)
        );
        assert_eq!(
            err("/msg bob"),
            InputError::Usage("/msg <#chan|nick[,nick...]> text")
        );
        assert_eq!(
            err("/msg"),
            InputError::Usage("/msg <#chan|nick[,nick...]> text")
        );
        assert!(matches!(
            err("/msg #a\u{7}b hi"),
            InputError::BadChannel { .. }
        ));
        assert!(matches!(err("/msg # hi"), InputError::BadChannel { .. }));
    }

    #[test]
    fn join_switches_and_part_defaults_to_the_current_channel() {
        assert_eq!(
            parse("/join dev", &main()),
            Ok(Action::JoinAndSwitch {
                command: Command::Core(CoreCommand::Join {
                    channel: "#dev".into(),
                    secret: None,
                }),
                chat: Target::Channel("#dev".into()),
            })
        );
        assert_eq!(err("/join"), InputError::Usage("/join #name [password]"));
        assert_eq!(
            parse("/join #ops  open sesame ", &main()),
            Ok(Action::JoinAndSwitch {
                command: Command::Core(CoreCommand::Join {
                    channel: "#ops".into(),
                    secret: Some(Secret::Password("open sesame".into())),
                }),
                chat: Target::Channel("#ops".into()),
            })
        );
        assert!(matches!(
            err(&format!("/join #{}", "x".repeat(40))),
            InputError::BadChannel { .. }
        ));
        assert_eq!(
            parse("/part", &Target::Channel("#dev".into())),
            Ok(Action::Command(Command::Core(CoreCommand::Part {
                channel: "#dev".into()
            })))
        );
        assert_eq!(
            cmd("/part #ops"),
            Command::Core(CoreCommand::Part {
                channel: "#ops".into()
            })
        );
        assert_eq!(
            parse("/part", &Target::Person("bob".into())),
            Err(InputError::NotAChannel)
        );
    }

    #[test]
    fn topic_with_and_without_a_channel() {
        assert_eq!(
            cmd("/topic #dev release  on friday"),
            Command::Core(CoreCommand::Topic {
                channel: "#dev".into(),
                text: "release  on friday".into()
            })
        );
        assert_eq!(
            cmd("/topic lunch at 12"),
            Command::Core(CoreCommand::Topic {
                channel: "#Main".into(),
                text: "lunch at 12".into()
            })
        );
        assert_eq!(err("/topic"), InputError::Usage("/topic [#chan] text"));
        assert_eq!(err("/topic #dev"), InputError::Usage("/topic [#chan] text"));
        assert!(matches!(
            err(&format!("/topic {}", "x".repeat(400))),
            InputError::TooLong { .. }
        ));
        assert_eq!(
            parse("/topic x", &Target::Person("bob".into())),
            Err(InputError::NotAChannel)
        );
    }

    #[test]
    fn nick_and_status() {
        assert_eq!(
            cmd("/nick alex"),
            Command::Core(CoreCommand::Nick("alex".into()))
        );
        assert_eq!(err("/nick"), InputError::Usage("/nick new"));
        assert_eq!(err("/nick a b"), InputError::BadNick("a b".into()));
        assert_eq!(err("/nick #x"), InputError::BadNick("#x".into()));
        assert_eq!(
            cmd("/away at lunch"),
            Command::Core(CoreCommand::Status {
                status: Status::Away,
                text: "at lunch".into()
            })
        );
        assert_eq!(
            cmd("/away"),
            Command::Core(CoreCommand::Status {
                status: Status::Away,
                text: String::new()
            })
        );
        assert_eq!(
            cmd("/dnd call"),
            Command::Core(CoreCommand::Status {
                status: Status::DoNotDisturb,
                text: "call".into()
            })
        );
        assert_eq!(
            cmd("/back"),
            Command::Core(CoreCommand::Status {
                status: Status::Available,
                text: String::new()
            })
        );
        assert!(matches!(
            err(&format!("/away {}", "x".repeat(65))),
            InputError::TooLong { .. }
        ));
    }

    #[test]
    fn beep_me_who_channels_quit_help() {
        assert_eq!(
            cmd("/beep bob"),
            Command::Core(CoreCommand::Beep(Target::Person("bob".into())))
        );
        assert_eq!(err("/beep"), InputError::Usage("/beep nick"));
        assert_eq!(err("/beep a b"), InputError::Usage("/beep nick"));
        assert_eq!(
            cmd("/me waves"),
            say_to(vec![main()], "waves", MessageKind::Action)
        );
        assert_eq!(err("/me"), InputError::Usage("/me action"));
        assert_eq!(cmd("/who"), Command::Core(CoreCommand::Who));
        assert_eq!(cmd("/channels"), Command::Core(CoreCommand::Channels));
        assert_eq!(cmd("/quit"), Command::Core(CoreCommand::Quit));
        assert_eq!(cmd("/QUIT"), Command::Core(CoreCommand::Quit));
        assert_eq!(parse("/help", &main()), Ok(Action::Help));
        assert_eq!(
            err("/frobnicate x"),
            InputError::UnknownCommand("frobnicate".into())
        );
        assert_eq!(err("/"), InputError::UnknownCommand(String::new()));
    }

    #[test]
    fn export_names_a_chat_and_a_file() {
        assert_eq!(
            cmd("/export #main /tmp/main log.txt"),
            Command::Export {
                chat: main(),
                path: "/tmp/main log.txt".into()
            }
        );
        assert_eq!(
            err("/export #main"),
            InputError::Usage("/export <#chan|nick> <file>")
        );
    }

    #[test]
    fn search_takes_the_rest_of_the_line() {
        assert_eq!(
            cmd("/search  release  notes "),
            Command::Search {
                text: "release  notes".into(),
                limit: DEFAULT_SEARCH
            }
        );
        assert_eq!(err("/search"), InputError::Usage("/search <words>"));
    }

    #[test]
    fn history_defaults_to_fifty() {
        assert_eq!(
            cmd("/history #main"),
            Command::History {
                chat: main(),
                limit: DEFAULT_HISTORY,
                before: None,
            }
        );
        assert_eq!(
            cmd("/history bob 7"),
            Command::History {
                chat: Target::Person("bob".into()),
                limit: 7,
                before: None,
            }
        );
        assert_eq!(
            err("/history"),
            InputError::Usage("/history <#chan|nick> [N]")
        );
        assert_eq!(err("/history #main 0"), InputError::BadNumber("0".into()));
        assert_eq!(err("/history #main -3"), InputError::BadNumber("-3".into()));
        assert_eq!(
            err("/history #main lots"),
            InputError::BadNumber("lots".into())
        );
    }

    #[test]
    fn long_texts_are_refused_not_cut() {
        let long = "x".repeat(MAX_TEXT + 1);
        assert!(matches!(err(&long), InputError::TooLong { .. }));
        assert!(matches!(
            parse(&"y".repeat(MAX_TEXT), &main()),
            Ok(Action::Command(_))
        ));
    }

    #[test]
    fn peer_commands_take_an_address_with_or_without_a_port() {
        let addr = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(
            cmd("/peer 10.0.0.5"),
            Command::Core(CoreCommand::AddPeer(addr("10.0.0.5:0")))
        );
        assert_eq!(
            cmd("/peer 10.0.0.5:4000"),
            Command::Core(CoreCommand::AddPeer(addr("10.0.0.5:4000")))
        );
        assert_eq!(
            cmd("/peer [fd00::5]"),
            Command::Core(CoreCommand::AddPeer(addr("[fd00::5]:0")))
        );
        assert_eq!(
            cmd("/unpeer fd00::5"),
            Command::Core(CoreCommand::ForgetPeer(addr("[fd00::5]:0")))
        );
        assert_eq!(err("/peer"), InputError::Usage("/peer address[:port]"));
        assert_eq!(
            err("/peer server.local"),
            InputError::BadAddress("server.local".into())
        );
        assert_eq!(cmd("/doctor"), Command::Network);
    }
}
