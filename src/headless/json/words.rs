//! How the JSON events write what is not a plain string or number: the
//! words of the core's enums (serde's remote definitions of them, so a
//! field keeps the core's type) and ids as hex digits.

use serde::{Deserialize, Serialize};

use crate::api::OfflineReason;
use crate::files::{Direction, Flow};
use crate::types::{MessageKind, Status};

/// The words of [`MessageKind`] in events.
#[derive(Serialize, Deserialize)]
#[serde(remote = "MessageKind", rename_all = "snake_case")]
pub(in crate::headless::json) enum MessageKindDef {
    Text,
    Action,
    Beep,
    File,
}

/// The words of [`Status`] in events (as [`Status::as_str`] says them).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Status")]
pub(in crate::headless::json) enum StatusDef {
    #[serde(rename = "available")]
    Available,
    #[serde(rename = "away")]
    Away,
    #[serde(rename = "dnd")]
    DoNotDisturb,
}

/// The words of [`OfflineReason`] in events.
#[derive(Serialize, Deserialize)]
#[serde(remote = "OfflineReason", rename_all = "snake_case")]
pub(in crate::headless::json) enum OfflineReasonDef {
    Quit,
    Timeout,
}

/// The words of [`Direction`] in events.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Direction", rename_all = "snake_case")]
pub(in crate::headless::json) enum DirectionDef {
    Down,
    Up,
}

/// The words of [`Flow`] in events.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Flow", rename_all = "snake_case")]
pub(in crate::headless::json) enum FlowDef {
    Active,
    Queued,
    Reconnecting,
    SenderAway,
}

/// Node, message and file ids as their 32 hex digits (their `Display`).
pub(in crate::headless::json) mod hex_id {
    use std::fmt::Display;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::files::FileId;
    use crate::types::{MsgId, NodeId};

    /// A 16-byte id written as hex.
    pub(in crate::headless::json) trait Id: Display + Sized {
        fn from_bytes(bytes: [u8; 16]) -> Self;
    }

    impl Id for NodeId {
        fn from_bytes(bytes: [u8; 16]) -> Self {
            NodeId(bytes)
        }
    }

    impl Id for MsgId {
        fn from_bytes(bytes: [u8; 16]) -> Self {
            MsgId(bytes)
        }
    }

    impl Id for FileId {
        fn from_bytes(bytes: [u8; 16]) -> Self {
            FileId(bytes)
        }
    }

    pub(in crate::headless::json) fn serialize<T: Id, S: Serializer>(
        id: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(id)
    }

    pub(in crate::headless::json) fn deserialize<'de, T: Id, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&text, &mut bytes)
            .map_err(|err| D::Error::custom(format!("id {text:?}: {err}")))?;
        Ok(T::from_bytes(bytes))
    }

    /// An id that may be null.
    pub(in crate::headless::json) mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::Id;

        pub(in crate::headless::json) fn serialize<T: Id, S: Serializer>(
            id: &Option<T>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match id {
                Some(id) => serializer.collect_str(id),
                None => serializer.serialize_none(),
            }
        }

        pub(in crate::headless::json) fn deserialize<'de, T: Id, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<T>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapped<T: Id>(#[serde(with = "super")] T);
            let wrapped: Option<Wrapped<T>> = Option::deserialize(deserializer)?;
            Ok(wrapped.map(|Wrapped(id)| id))
        }
    }
}
