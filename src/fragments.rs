//! Reassembly of a long text from its fragments. Both channel and direct
//! streams deliver fragments in sequence order, so a message is complete
//! when its last fragment follows its first without a break.

use crate::types::{MessageKind, MsgId};

/// One fragment, as both stream kinds carry it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fragment {
    pub(crate) id: MsgId,
    pub(crate) kind: MessageKind,
    pub(crate) hlc: u64,
    pub(crate) part: u16,
    pub(crate) parts: u16,
    pub(crate) text: String,
    /// The author's signature, in a channel message's first fragment.
    pub(crate) sig: Vec<u8>,
}

/// A whole message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Assembled {
    pub(crate) id: MsgId,
    pub(crate) kind: MessageKind,
    pub(crate) hlc: u64,
    pub(crate) text: String,
    /// The first fragment's signature (channel messages).
    pub(crate) sig: Vec<u8>,
}

/// Fragments of the message being put together.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    parts: Vec<Fragment>,
}

/// What became of a fragment.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// The message is complete.
    Complete(Assembled),
    /// More fragments are needed.
    Pending,
    /// The fragment does not continue the message under way: the partial
    /// message and this fragment are dropped.
    Broken,
}

impl Reassembly {
    /// Takes the next fragment in sequence order.
    pub(crate) fn push(&mut self, f: Fragment) -> Outcome {
        let continues = match self.parts.last() {
            None => f.part == 0,
            Some(last) => last.id == f.id && last.parts == f.parts && f.part == last.part + 1,
        };
        if !continues {
            let was_empty = self.parts.is_empty();
            self.parts.clear();
            // A new message may begin right after a broken one.
            if f.part == 0 && !was_empty {
                self.parts.push(f);
                return self.finish_if_complete().unwrap_or(Outcome::Broken);
            }
            return Outcome::Broken;
        }
        self.parts.push(f);
        self.finish_if_complete().unwrap_or(Outcome::Pending)
    }

    /// Forgets a partial message (its stream jumped past a gap).
    pub(crate) fn clear(&mut self) {
        self.parts.clear();
    }

    fn finish_if_complete(&mut self) -> Option<Outcome> {
        let first = self.parts.first()?;
        if self.parts.len() < usize::from(first.parts) {
            return None;
        }
        let text = self
            .parts
            .iter()
            .map(|p| p.text.as_str())
            .collect::<String>();
        let done = Assembled {
            id: first.id,
            kind: first.kind,
            hlc: first.hlc,
            text,
            sig: first.sig.clone(),
        };
        self.parts.clear();
        Some(Outcome::Complete(done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u8, part: u16, parts: u16, text: &str) -> Fragment {
        Fragment {
            id: MsgId([id; 16]),
            kind: MessageKind::Text,
            hlc: 7,
            part,
            parts,
            text: text.to_string(),
            sig: Vec::new(),
        }
    }

    #[test]
    fn fragments_in_order_make_the_text() {
        let mut r = Reassembly::default();
        assert_eq!(r.push(frag(1, 0, 3, "ab")), Outcome::Pending);
        assert_eq!(r.push(frag(1, 1, 3, "cd")), Outcome::Pending);
        match r.push(frag(1, 2, 3, "e")) {
            Outcome::Complete(a) => assert_eq!(a.text, "abcde"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(r.push(frag(2, 0, 1, "x")), Outcome::Complete(_)));
    }

    #[test]
    fn a_foreign_fragment_breaks_the_message() {
        let mut r = Reassembly::default();
        assert_eq!(r.push(frag(1, 1, 3, "cd")), Outcome::Broken);
        assert_eq!(r.push(frag(1, 0, 3, "ab")), Outcome::Pending);
        assert_eq!(r.push(frag(2, 1, 3, "zz")), Outcome::Broken);
        // A new first fragment after a broken message starts afresh.
        assert_eq!(r.push(frag(1, 0, 2, "ab")), Outcome::Pending);
        assert!(matches!(r.push(frag(3, 0, 1, "n")), Outcome::Complete(_)));
    }
}
