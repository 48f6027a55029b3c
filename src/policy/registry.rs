//! The policy in the Windows registry, where Group Policy writes it:
//! `HKLM\Software\Policies\lanchat\Locked` and `…\Defaults`, one value per
//! key of the policy file, named like it (`nick_from_login`, `port`…).
//! `packaging/windows/policy/lanchat.admx` is the template a domain
//! administrator loads to set them.
//!
//! The values are turned into the text of a policy file, so one parser
//! checks both. A flag is a DWORD (0 or 1), a number a DWORD, a list a
//! REG_MULTI_SZ or a REG_SZ of items separated by commas, semicolons or
//! new lines, and the rest REG_SZ.

/// Where the values are, as errors name it.
pub const WHERE: &str = r"HKLM\Software\Policies\lanchat";

/// A registry value as the policy reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegValue {
    /// A DWORD.
    Number(u32),
    /// A REG_SZ or REG_EXPAND_SZ.
    Text(String),
    /// A REG_MULTI_SZ.
    List(Vec<String>),
}

/// What a policy key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Flag,
    Number,
    List,
    Text,
}

/// The kind of each key of the policy file.
fn kind(key: &str) -> Option<Kind> {
    Some(match key {
        "nick_from_login" | "sounds" | "notifications" | "start_at_login" | "start_minimised"
        | "auto_accept_files" => Kind::Flag,
        "port" | "join_history" | "keep_days" | "auto_away_minutes" => Kind::Number,
        "interfaces" | "channels" => Kind::List,
        "workgroup" | "nick" | "language" | "download_dir" => Kind::Text,
        _ => return None,
    })
}

fn items<'a>(list: impl IntoIterator<Item = &'a str>) -> toml::Value {
    toml::Value::Array(
        list.into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| toml::Value::String(s.to_string()))
            .collect(),
    )
}

/// The policy file the values of each section (`locked`, `defaults`)
/// make. A value of the wrong type goes in as it is, so the parser names
/// it; one with a name the file does not know is listed as ignored.
pub fn to_toml(sections: &[(&str, Vec<(String, RegValue)>)]) -> String {
    let mut table = toml::Table::new();
    for (section, values) in sections {
        let mut keys = toml::Table::new();
        for (name, value) in values {
            let name = name.to_ascii_lowercase();
            let value = match (kind(&name), value) {
                (Some(Kind::Flag), RegValue::Number(n)) => toml::Value::Boolean(*n != 0),
                (Some(Kind::List), RegValue::Text(s)) => items(s.split([',', ';', '\n'])),
                (_, RegValue::Number(n)) => toml::Value::Integer(i64::from(*n)),
                (_, RegValue::Text(s)) => toml::Value::String(s.clone()),
                (_, RegValue::List(list)) => items(list.iter().map(String::as_str)),
            };
            keys.insert(name, value);
        }
        table.insert((*section).to_string(), toml::Value::Table(keys));
    }
    toml::to_string(&table).unwrap_or_default()
}

/// The policy Group Policy wrote, as the text of a policy file; `None`
/// when there is none (no key, or neither subkey).
#[cfg(windows)]
pub fn read() -> Option<String> {
    use windows_registry::{LOCAL_MACHINE, Type};
    let root = LOCAL_MACHINE.open(r"Software\Policies\lanchat").ok()?;
    let mut sections = Vec::new();
    for (section, subkey) in [("locked", "Locked"), ("defaults", "Defaults")] {
        let Ok(key) = root.open(subkey) else { continue };
        let Ok(values) = key.values() else { continue };
        let values = values
            .filter_map(|(name, value)| {
                let value = match value.ty() {
                    Type::U32 => RegValue::Number(u32::try_from(value).ok()?),
                    Type::String | Type::ExpandString => {
                        RegValue::Text(String::try_from(value).ok()?)
                    }
                    Type::MultiString => RegValue::List(Vec::<String>::try_from(value).ok()?),
                    _ => {
                        tracing::warn!(%name, "a policy value of a type lanchat does not read was ignored");
                        return None;
                    }
                };
                Some((name, value))
            })
            .collect();
        sections.push((section, values));
    }
    (!sections.is_empty()).then(|| to_toml(&sections))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::policy::{KEYS, Language, Policy};

    #[test]
    fn every_key_of_the_file_has_its_kind_in_the_registry() {
        for key in KEYS {
            assert!(kind(key).is_some(), "{key}");
        }
    }

    #[test]
    fn registry_values_make_the_policy_the_file_would() {
        let text = to_toml(&[
            (
                "locked",
                vec![
                    ("Workgroup".into(), RegValue::Text("blue-harbour-42".into())),
                    ("nick_from_login".into(), RegValue::Number(1)),
                    ("port".into(), RegValue::Number(47100)),
                    (
                        "interfaces".into(),
                        RegValue::Text("eth0, Ethernet 2;wlan0".into()),
                    ),
                    ("sounds".into(), RegValue::Number(0)),
                ],
            ),
            (
                "defaults",
                vec![
                    (
                        "channels".into(),
                        RegValue::List(vec!["#office".into(), "help".into()]),
                    ),
                    ("language".into(), RegValue::Text("ru".into())),
                    ("colour".into(), RegValue::Text("blue".into())),
                ],
            ),
        ]);
        let policy = Policy::parse(&text, Path::new(WHERE)).expect("parses");
        let l = &policy.locked;
        assert_eq!(l.workgroup.as_deref(), Some("blue-harbour-42"));
        assert_eq!(l.nick_from_login, Some(true));
        assert_eq!(l.port, Some(47100));
        assert_eq!(
            l.interfaces,
            Some(vec!["eth0".into(), "Ethernet 2".into(), "wlan0".into()])
        );
        assert_eq!(l.sounds, Some(false));
        let d = &policy.defaults;
        assert_eq!(d.channels, Some(vec!["#office".into(), "#help".into()]));
        assert_eq!(d.language, Some(Language::Ru));
        assert_eq!(policy.ignored, ["defaults.colour"]);
    }

    /// The Group Policy template offers every key of the file in both
    /// sections, written where [`read`] looks.
    #[test]
    fn the_template_offers_every_key_in_both_sections() {
        let admx = include_str!("../../packaging/windows/policy/lanchat.admx");
        for section in ["Locked", "Defaults"] {
            let key = format!(r#"key="Software\Policies\lanchat\{section}""#);
            for name in KEYS {
                let policy = format!(r#"<policy name="{section}_{name}""#);
                let at = admx.find(&policy).unwrap_or_else(|| panic!("no {policy}"));
                let end = at + admx[at..].find("</policy>").expect("closed");
                let text = &admx[at..end];
                assert!(text.contains(&key), "{section}_{name} writes elsewhere");
                assert!(
                    text.contains(&format!(r#"valueName="{name}""#)),
                    "{section}_{name} names another value"
                );
            }
        }
        for lang in [
            include_str!("../../packaging/windows/policy/en-US/lanchat.adml"),
            include_str!("../../packaging/windows/policy/ru-RU/lanchat.adml"),
        ] {
            for name in KEYS {
                assert!(lang.contains(&format!(r#"<string id="{name}">"#)), "{name}");
            }
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named() {
        let text = to_toml(&[(
            "locked",
            vec![("port".into(), RegValue::Text("many".into()))],
        )]);
        let err = Policy::parse(&text, Path::new(WHERE)).expect_err("a text port");
        let err = err.to_string();
        assert!(err.contains(WHERE) && err.contains("port"), "{err}");
    }
}
