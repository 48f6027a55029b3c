//! The `transfer` table: one row per file offer I made or received, its
//! state as JSON ([`crate::files::record::Record`]).

use super::{Store, StoreError, to_sql};
use crate::files::record::Record;

/// Finished or withdrawn transfers older than this are forgotten.
const KEEP_DAYS: u64 = 30;

impl Store {
    /// Saves (or replaces) a transfer's record.
    pub(crate) fn save_transfer(&mut self, record: &Record, now_ms: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO transfer (id, outgoing, record, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                &record.id().0[..],
                record.outgoing(),
                record.to_json(),
                to_sql(now_ms)
            ],
        )?;
        Ok(())
    }

    /// Every transfer record younger than [`KEEP_DAYS`] (older rows are
    /// deleted); rows this version cannot read are skipped.
    pub(crate) fn transfers(&mut self, now_ms: u64) -> Result<Vec<Record>, StoreError> {
        let cutoff = now_ms.saturating_sub(KEEP_DAYS * 24 * 3600 * 1000);
        self.conn.execute(
            "DELETE FROM transfer WHERE updated_ms < ?1",
            [to_sql(cutoff)],
        )?;
        let mut stmt = self
            .conn
            .prepare("SELECT record FROM transfer ORDER BY updated_ms")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            match Record::from_json(&json?) {
                Some(record) => out.push(record),
                None => tracing::debug!("skipping a transfer record this version cannot read"),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::record::{Incoming, Outgoing};
    use crate::files::{FileFailure, FileState, Offer};
    use crate::types::{Chat, NodeId};

    #[test]
    fn transfers_come_back_changed_and_old_ones_go() {
        let mut store = Store::in_memory().expect("store");
        let day = 24 * 3600 * 1000;
        let now = 100 * day;
        let mine = Record::Out(Outgoing {
            offer: Offer::sample(),
            chat: Chat::Channel("#Main".into()),
            root: "/tmp/report.pdf".into(),
            entries: Vec::new(),
            made_ms: now,
            cancelled: false,
            answers: vec![(NodeId::random(), crate::files::Answer::Received)],
        });
        let mut theirs = Incoming {
            offer: Offer::sample(),
            from: NodeId::random(),
            nick: "bob".into(),
            chat: Chat::Direct(NodeId::random()),
            state: FileState::Offered,
            part: None,
            verified: Vec::new(),
            carried: 0,
            resumes: 0,
        };
        let old = Record::In(Incoming {
            offer: Offer::sample(),
            ..theirs.clone()
        });
        store.save_transfer(&old, now - 31 * day).expect("old");
        store.save_transfer(&mine, now).expect("mine");
        store
            .save_transfer(&Record::In(theirs.clone()), now)
            .expect("theirs");
        theirs.state = FileState::Failed(FileFailure::Declined);
        store
            .save_transfer(&Record::In(theirs.clone()), now + 1)
            .expect("again");
        let back = store.transfers(now + 2).expect("read");
        assert_eq!(back, vec![mine, Record::In(theirs)]);
    }
}
