//! What the window knows of file transfers: every offer it has heard of,
//! mine and to me, with where each stands, built from the node's file
//! events alone (and the node's list, asked for once at start, for offers
//! and transfers of earlier runs). Pure state, tested without a window;
//! the file cards in the chat read it.

use std::collections::{BTreeMap, HashMap};

use crate::api::Event;
use crate::files::FileEvent;
use crate::files::{
    Answer, Direction, FileDone, FileFailed, FileFailure, FileId, FileOffer, FileProgress,
    FileState, FileStatus, Flow, Offer,
};
use crate::types::{Chat, NodeId};

/// A transfer's progress as last reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes moved so far (resumed ones included).
    pub done: u64,
    /// The offer's size.
    pub total: u64,
    /// Bytes a second, lately.
    pub rate: u64,
    /// Seconds left at that rate (`None` while nothing moves).
    pub eta_secs: Option<u64>,
    /// Moving, queued, reconnecting or waiting for the sender.
    pub flow: Flow,
}

impl Progress {
    /// The share done, 0 to 1 (an empty offer is all done).
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            return 1.0;
        }
        (self.done as f64 / self.total as f64).clamp(0.0, 1.0) as f32
    }

    /// Whole percent done, rounded down: 100 only when all is there.
    pub fn percent(&self) -> u64 {
        if self.total == 0 || self.done >= self.total {
            return 100;
        }
        u64::try_from(u128::from(self.done) * 100 / u128::from(self.total)).unwrap_or(99)
    }

    /// Progress known only by its bytes (the node's list): nothing moving.
    fn at(done: u64, total: u64) -> Progress {
        Progress {
            done,
            total,
            rate: 0,
            eta_secs: None,
            flow: Flow::Active,
        }
    }
}

impl From<&FileProgress> for Progress {
    fn from(p: &FileProgress) -> Progress {
        Progress {
            done: p.done,
            total: p.total,
            rate: p.rate,
            eta_secs: p.eta_secs,
            flow: p.flow,
        }
    }
}

/// How one receiver of my offer is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upload {
    /// Bytes are going to them (or will go on).
    Sending(Progress),
    /// They have it all.
    Done,
    /// It ended without the file for them.
    Failed(FileFailure),
}

/// One offer, mine or made to me.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    /// What is offered.
    pub offer: Offer,
    /// Up: my offer; down: an offer to me.
    pub direction: Direction,
    /// The sender of an offer to me.
    pub from: Option<NodeId>,
    /// The sender's nick then (empty for mine).
    pub nick: String,
    /// Where it was offered.
    pub chat: Chat,
    /// Where it stands. For an offer to me, as the node says; for mine,
    /// `Offered` while it is open and `Failed` once withdrawn.
    pub state: FileState,
    /// For an offer to me being received: the last progress.
    pub progress: Option<Progress>,
    /// For my offer: each receiver that answered, by id.
    pub uploads: BTreeMap<NodeId, Upload>,
}

impl Transfer {
    fn mine(offer: Offer, chat: Chat) -> Transfer {
        Transfer {
            offer,
            direction: Direction::Up,
            from: None,
            nick: String::new(),
            chat,
            state: FileState::Offered,
            progress: None,
            uploads: BTreeMap::new(),
        }
    }

    fn to_me(shown: &FileOffer) -> Transfer {
        Transfer {
            offer: shown.offer.clone(),
            direction: Direction::Down,
            from: Some(shown.from),
            nick: shown.nick.clone(),
            chat: shown.chat.clone(),
            state: FileState::Offered,
            progress: None,
            uploads: BTreeMap::new(),
        }
    }

    /// Whether it has ended (received, failed, withdrawn).
    pub fn ended(&self) -> bool {
        matches!(self.state, FileState::Done { .. } | FileState::Failed(_))
    }

    /// How far an offer to me that is being received has come: the last
    /// progress, or the bytes the node's list gave.
    pub fn receiving(&self) -> Option<Progress> {
        match self.state {
            FileState::Accepted { done } => Some(
                self.progress
                    .unwrap_or_else(|| Progress::at(done, self.offer.size)),
            ),
            _ => None,
        }
    }
}

/// Every transfer the window knows, by offer id.
#[derive(Clone, Debug, Default)]
pub struct Transfers {
    all: HashMap<FileId, Transfer>,
    /// The node's list has come: an offer not in it is not open any more.
    pub listed: bool,
}

impl Transfers {
    /// The transfer of an offer, if known.
    pub fn get(&self, id: &FileId) -> Option<&Transfer> {
        self.all.get(id)
    }

    /// How many are known.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Takes in a file event; other events are ignored. Returns whether
    /// anything changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::File(FileEvent::Offered { offer, chat }) => {
                self.all
                    .entry(offer.id)
                    .or_insert_with(|| Transfer::mine(offer.clone(), chat.clone()));
                true
            }
            Event::File(FileEvent::Offer(shown)) => {
                // Sent again at start for unanswered offers: what is known
                // stays.
                self.all
                    .entry(shown.offer.id)
                    .or_insert_with(|| Transfer::to_me(shown));
                true
            }
            Event::File(FileEvent::Progress(p)) => self.progress(p),
            Event::File(FileEvent::Done(d)) => self.done(d),
            Event::File(FileEvent::Failed(f)) => self.failed(f),
            Event::File(FileEvent::List(list)) => {
                for status in list {
                    self.listed_one(status);
                }
                self.listed = true;
                true
            }
            _ => false,
        }
    }

    fn progress(&mut self, p: &FileProgress) -> bool {
        let Some(transfer) = self.all.get_mut(&p.id) else {
            return false;
        };
        match p.direction {
            Direction::Down => {
                // A late report never undoes an end.
                if transfer.ended() {
                    return false;
                }
                transfer.state = FileState::Accepted { done: p.done };
                transfer.progress = Some(Progress::from(p));
            }
            Direction::Up => {
                let upload = transfer
                    .uploads
                    .entry(p.peer)
                    .or_insert(Upload::Sending(Progress::from(p)));
                if let Upload::Sending(progress) = upload {
                    *progress = Progress::from(p);
                }
            }
        }
        true
    }

    fn done(&mut self, d: &FileDone) -> bool {
        let Some(transfer) = self.all.get_mut(&d.id) else {
            return false;
        };
        match d.direction {
            Direction::Down => {
                transfer.state = FileState::Done {
                    path: d.path.clone().unwrap_or_default(),
                    sha256: d.sha256.clone(),
                };
                transfer.progress = None;
            }
            Direction::Up => {
                transfer.uploads.insert(d.peer, Upload::Done);
            }
        }
        true
    }

    fn failed(&mut self, f: &FileFailed) -> bool {
        let Some(transfer) = self.all.get_mut(&f.id) else {
            return false;
        };
        match f.direction {
            Direction::Down => {
                transfer.state = FileState::Failed(f.reason.clone());
                transfer.progress = None;
            }
            Direction::Up => {
                // Only my withdrawing ends my offer as a whole (for a
                // direct offer it names the person it was for).
                if f.peer.is_none() || f.reason == FileFailure::Cancelled {
                    transfer.state = FileState::Failed(f.reason.clone());
                }
                if let Some(peer) = f.peer {
                    let finished = transfer.uploads.get(&peer) == Some(&Upload::Done);
                    if !finished {
                        transfer
                            .uploads
                            .insert(peer, Upload::Failed(f.reason.clone()));
                    }
                }
            }
        }
        true
    }

    /// One entry of the node's list: its state is the node's; progress
    /// and receivers already heard of stay.
    fn listed_one(&mut self, status: &FileStatus) {
        let transfer = self
            .all
            .entry(status.offer.id)
            .or_insert_with(|| match status.direction {
                Direction::Up => Transfer::mine(status.offer.clone(), status.chat.clone()),
                Direction::Down => Transfer {
                    from: status.from,
                    nick: status.nick.clone(),
                    ..Transfer::mine(status.offer.clone(), status.chat.clone())
                },
            });
        transfer.direction = status.direction;
        transfer.state = status.state.clone();
        // What receivers of my offer did in earlier runs (final, so it
        // stands over what this run saw of them so far).
        for (peer, answer) in &status.answers {
            let upload = match answer {
                Answer::Received => Upload::Done,
                Answer::Failed(reason) => Upload::Failed(reason.clone()),
            };
            transfer.uploads.insert(*peer, upload);
        }
        if !matches!(status.state, FileState::Accepted { .. }) {
            transfer.progress = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> NodeId {
        NodeId([n; 16])
    }

    fn offer(n: u8) -> Offer {
        Offer {
            id: FileId([n; 16]),
            name: "report.pdf".into(),
            size: 1000,
            files: 1,
            folder: false,
            port: 47079,
        }
    }

    fn to_me(n: u8) -> Event {
        Event::File(FileEvent::Offer(FileOffer {
            offer: offer(n),
            from: id(2),
            nick: "bob".into(),
            chat: Chat::Direct(id(2)),
        }))
    }

    fn progress(n: u8, peer: u8, direction: Direction, done: u64, flow: Flow) -> Event {
        Event::File(FileEvent::Progress(FileProgress {
            id: FileId([n; 16]),
            peer: id(peer),
            direction,
            done,
            total: 1000,
            rate: 100,
            eta_secs: Some(3),
            flow,
        }))
    }

    #[test]
    fn an_offer_to_me_goes_offered_receiving_done() {
        let mut t = Transfers::default();
        t.apply(&to_me(1));
        let fid = FileId([1; 16]);
        assert_eq!(t.get(&fid).map(|x| &x.state), Some(&FileState::Offered));
        t.apply(&progress(1, 2, Direction::Down, 450, Flow::Active));
        let receiving = t.get(&fid).and_then(Transfer::receiving);
        assert_eq!(receiving.map(|p| p.percent()), Some(45));
        t.apply(&Event::File(FileEvent::Done(FileDone {
            id: fid,
            peer: id(2),
            direction: Direction::Down,
            path: Some("/tmp/report.pdf".into()),
            size: 1000,
            sha256: "ab".repeat(32),
            carried: 1000,
            resumes: 0,
        })));
        // A report that was on its way does not bring the bar back.
        t.apply(&progress(1, 2, Direction::Down, 990, Flow::Active));
        assert!(matches!(
            t.get(&fid).map(|x| &x.state),
            Some(FileState::Done { path, .. }) if path.ends_with("report.pdf")
        ));
        // Sent again at start: it stays done.
        t.apply(&to_me(1));
        assert!(t.get(&fid).is_some_and(Transfer::ended));
    }

    #[test]
    fn my_offer_tracks_each_receiver_and_withdrawing_ends_it() {
        let mut t = Transfers::default();
        let fid = FileId([3; 16]);
        t.apply(&Event::File(FileEvent::Offered {
            offer: offer(3),
            chat: Chat::Channel("#dev".into()),
        }));
        t.apply(&progress(3, 2, Direction::Up, 500, Flow::Active));
        t.apply(&progress(3, 4, Direction::Up, 100, Flow::Reconnecting));
        t.apply(&Event::File(FileEvent::Done(FileDone {
            id: fid,
            peer: id(2),
            direction: Direction::Up,
            path: None,
            size: 1000,
            sha256: String::new(),
            carried: 1000,
            resumes: 0,
        })));
        t.apply(&Event::File(FileEvent::Failed(FileFailed {
            id: fid,
            peer: Some(id(5)),
            direction: Direction::Up,
            reason: FileFailure::Declined,
        })));
        let mine = t.get(&fid).cloned().expect("my offer");
        assert_eq!(mine.state, FileState::Offered);
        assert_eq!(mine.uploads.get(&id(2)), Some(&Upload::Done));
        assert!(matches!(
            mine.uploads.get(&id(4)),
            Some(Upload::Sending(p)) if p.flow == Flow::Reconnecting
        ));
        assert_eq!(
            mine.uploads.get(&id(5)),
            Some(&Upload::Failed(FileFailure::Declined))
        );
        // Withdrawn: the offer ends; who had it keeps it.
        t.apply(&Event::File(FileEvent::Failed(FileFailed {
            id: fid,
            peer: None,
            direction: Direction::Up,
            reason: FileFailure::Cancelled,
        })));
        let mine = t.get(&fid).cloned().expect("my offer");
        assert_eq!(mine.state, FileState::Failed(FileFailure::Cancelled));
        assert_eq!(mine.uploads.get(&id(2)), Some(&Upload::Done));
    }

    #[test]
    fn the_nodes_list_fills_in_earlier_runs_and_news_for_unknown_offers_wait_for_it() {
        let mut t = Transfers::default();
        // Progress of an offer not known yet is no offer.
        assert!(!t.apply(&progress(7, 2, Direction::Down, 10, Flow::Active)));
        assert!(t.is_empty() && !t.listed);
        let list = vec![
            FileStatus {
                direction: Direction::Down,
                answers: Vec::new(),
                offer: offer(7),
                from: Some(id(2)),
                nick: "bob".into(),
                chat: Chat::Direct(id(2)),
                state: FileState::Accepted { done: 250 },
            },
            FileStatus {
                direction: Direction::Up,
                answers: vec![
                    (id(3), Answer::Received),
                    (id(4), Answer::Failed(FileFailure::Declined)),
                ],
                offer: offer(8),
                from: None,
                nick: String::new(),
                chat: Chat::Channel("#dev".into()),
                state: FileState::Failed(FileFailure::Cancelled),
            },
        ];
        t.apply(&Event::File(FileEvent::List(list)));
        assert!(t.listed);
        assert_eq!(t.len(), 2);
        let down = t.get(&FileId([7; 16])).cloned().expect("listed");
        assert_eq!(down.from, Some(id(2)));
        assert_eq!(down.receiving().map(|p| p.percent()), Some(25));
        let up = t.get(&FileId([8; 16])).cloned().expect("listed");
        assert_eq!(up.direction, Direction::Up);
        assert!(up.ended());
        // Who had it in earlier runs still shows.
        assert_eq!(up.uploads.get(&id(3)), Some(&Upload::Done));
        assert_eq!(
            up.uploads.get(&id(4)),
            Some(&Upload::Failed(FileFailure::Declined))
        );
    }

    #[test]
    fn percentages_round_down_and_reach_100_only_at_the_end() {
        let p = |done, total| Progress::at(done, total);
        assert_eq!(p(999, 1000).percent(), 99);
        assert_eq!(p(1000, 1000).percent(), 100);
        assert_eq!(p(0, 0).percent(), 100);
        assert_eq!(p(u64::MAX / 2, u64::MAX).percent(), 49);
        assert!((p(1, 4).fraction() - 0.25).abs() < 1e-6);
    }
}
