//! The protocol core: one node's whole state machine, without I/O.
//!
//! Call order, as in quinn-proto: feed input with [`Node::handle_datagram`],
//! [`Node::handle_command`] and [`Node::handle_timeout`] (at or after
//! [`Node::poll_timeout`]); after each, drain [`Node::poll_transmit`] and
//! [`Node::poll_event`]. Time is always passed in; the node never reads a
//! clock, so a simulation can run it on virtual time.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tracing::debug;

mod channel;
mod claims;
mod clock;
mod commands;
mod config;
mod dm;
mod guard;
mod ingress;
mod lean;
mod pace;
mod presence;
mod protected;
mod reach;
mod stats;
mod sync;
#[cfg(test)]
mod testing;
mod versions;

use claims::{CLAIM_PATIENCE, CLAIM_REPROBE, PendingClaim};
pub use config::Config;
pub use guard::{SOURCE_RATE, Seen};
pub use protected::MAX_PROTECTED_JOINED;
pub use reach::MAX_STATIC;
pub use stats::Stats;
pub use sync::SYNC_RATE;

use crate::catchup::Kept;
use crate::channels::{Arrival, Channels, Joined};
use crate::direct::{Draft, Inbox, Outbox, OutboxNews};
use crate::discovery::{Liveness, PeerTable, Standing};
use crate::envelope::{self, AuthorSig, ChannelKey, Keys, WorkgroupKey};
use crate::fragments::Assembled;
use crate::hlc::{self, Hlc};
use crate::protocol::{
    ChannelSummary, ChatMessage, CoreCommand, CoreEvent, Dest, OfflineReason, PeerInfo, Refusal,
    Secret, Target, Timing, Transmit,
};
use crate::types::{
    Chat, MAIN_CHANNEL, MAX_JOINED, MAX_STATUS_TEXT, MAX_TEXT, MAX_TOPIC, MessageKind, MsgId,
    NodeId, Status, channel_name, clip, valid_nick,
};
use crate::typing::TypingLimit;
use crate::wire::{self, Body, ChannelMsg, Nack, Packet, Presence, TopicInfo, TypingChat};

/// Spacing between resends of one datagram, however many ask for it.
const RESEND_SPACING: Duration = Duration::from_millis(40);
/// Least time between two refutations (presence sent because we were probed).
const REFUTE_SPACING: Duration = Duration::from_millis(500);
/// Probers (distinct addresses) within [`REFUTE_WINDOW`] that make a node
/// refute to the group: many suspect it (it was frozen, or its network
/// was out). One prober alone lost a heartbeat or two and has its answer.
const REFUTE_PROBERS: usize = 3;
/// The window in which probers are counted.
const REFUTE_WINDOW: Duration = Duration::from_secs(1);
/// A gap between two calls longer than this means the node was stalled.
const STALL_AFTER: Duration = Duration::from_secs(2);
/// Least time between two answers to one peer's hello.
const HELLO_REPLY_SPACING: Duration = Duration::from_millis(80);
/// Extra presences after a change or a channel message: tails reach
/// receivers that lost the last message well before the next heartbeat.
const QUICK_BEATS: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(500)];
/// Beeps accepted from one peer: one per this interval.
const BEEP_SPACING: Duration = Duration::from_secs(3);
/// How long after I said something my heartbeats stay signed.
const SIGNED_AFTER_SAYING: Duration = Duration::from_secs(5);
/// Every this many heartbeats one is a full presence (the others are lean).
const FULL_PRESENCE_EVERY: u32 = 20;
/// Leave datagrams sent on quit.
const LEAVE_COPIES: usize = 3;
/// Copies of the word that a watched peer is offline ([`Body::Down`]):
/// every node that does not watch it waits for that word.
const DOWN_COPIES: usize = 3;
/// Most addresses remembered for hellos to unknown senders.
const MAX_HELLO_TARGETS: usize = 256;
/// A peer that joined a channel while I knew it, and whose join I learn
/// with at most this many messages said there, has them repaired.
const JOINED_REPAIR: u64 = 64;
/// NACK tries after which a gap of an offline sender is given up.
const GIVE_UP_ATTEMPTS: u8 = 8;

/// One lanchat node's protocol state.
pub struct Node {
    id: NodeId,
    epoch: u64,
    keys: Keys,
    workgroup: Option<WorkgroupKey>,
    /// Datagrams sent in this life; each carries the next.
    counter: u64,
    sources: guard::Sources,
    windows: guard::Windows,
    key_book: guard::KeyBook,
    presence: Presence,
    timing: Timing,
    start: Instant,
    start_wall_ms: u64,
    hlc: Hlc,
    /// Every peer's clock against mine: stamps follow the LAN's time.
    clocks: clock::Clocks,
    rng: fastrand::Rng,
    peers: PeerTable,
    channels: Channels,
    outbox: Outbox,
    inbox: Inbox,
    transmits: VecDeque<Transmit>,
    /// New channel datagrams (not numbered yet) waiting for the budget.
    backlog: VecDeque<ChannelMsg>,
    /// My messages in the backlog, kept for catch-up once their first
    /// fragment goes out.
    unsent: HashMap<MsgId, (String, Kept)>,
    /// What receivers read from me ([`pace`]).
    pacer: pace::Pacer,
    /// Nodes heard speaking another wire version.
    versions: versions::OtherVersions,
    /// The key chain of my lean heartbeats ([`crate::chain`]).
    chain: crate::chain::Chain,
    /// The interval of my last lean heartbeat (one per interval at most).
    lean_sent: u64,
    /// The key my last lean heartbeat disclosed (to know it looped back).
    own_disclosed: Option<crate::chain::ChainKey>,
    /// When I last said something in a channel.
    said_at: Option<Instant>,
    events: VecDeque<CoreEvent>,
    next_heartbeat: Instant,
    announces: VecDeque<Instant>,
    quick_beats: Vec<Instant>,
    /// The quick beats follow a change: they are full presences.
    quick_full: bool,
    /// Lean heartbeats since the last full presence.
    lean_beats: u32,
    /// Full presences sent by the heartbeat.
    full_presences: u32,
    last_refute: Option<Instant>,
    /// Who probed me lately (at most [`REFUTE_PROBERS`] kept).
    probed_by: VecDeque<(Instant, SocketAddr)>,
    hello_sent: BTreeMap<SocketAddr, Instant>,
    claims: BTreeMap<NodeId, PendingClaim>,
    beeps: BTreeMap<NodeId, Instant>,
    typing: TypingLimit,
    /// Catch-up: recent channel messages (which also drop repeats), when
    /// to compare them with whom, and what came.
    sync: sync::SyncState,
    /// My password channels' keys, and the ones heard of.
    protected: protected::Protected,
    /// Reaching peers the group does not reach.
    reach: reach::Reach,
    /// How the datagram being handled was sent.
    way_in: envelope::Way,
    /// The latest time given to the node (for what is sent without one).
    last_now: Instant,
    stopped: bool,
    stats: Stats,
}

impl Node {
    /// Creates a node in `#Main`; `now` is its start time.
    pub fn new(config: Config, now: Instant) -> Node {
        let mut rng = fastrand::Rng::with_seed(config.seed);
        let nick = if valid_nick(&config.nick) {
            config.nick
        } else {
            "user".to_string()
        };
        let presence = Presence {
            nick,
            status: Status::Available,
            status_text: String::new(),
            host: clip(&config.host, crate::types::MAX_HOST),
            version: clip(env!("CARGO_PKG_VERSION"), 16),
            since_ms: config.wall_ms,
            ..Presence::default()
        };
        // In the first interval (`chain::FIRST`), which begins now.
        let first_beat = now + lean::beat_offset(&config.timing, &mut rng);
        let chain = crate::chain::Chain::new(config.keys.chain_seed(config.epoch));
        let announces = config.timing.announces.iter().map(|d| now + *d).collect();
        let mut channels = Channels::default();
        channels
            .joined
            .insert(MAIN_CHANNEL.to_string(), Joined::default());
        let me = config.keys.id();
        let mut node = Node {
            id: me,
            epoch: config.epoch,
            counter: 0,
            sources: guard::Sources::new(now),
            windows: guard::Windows::restore(&config.seen, now),
            key_book: guard::KeyBook::default(),
            keys: config.keys,
            workgroup: config.workgroup,
            presence,
            peers: PeerTable::new(config.timing.clone(), me),
            timing: config.timing,
            start: now,
            start_wall_ms: config.wall_ms,
            hlc: Hlc::default(),
            clocks: clock::Clocks::default(),
            rng,
            channels,
            outbox: Outbox::default(),
            inbox: Inbox::default(),
            transmits: VecDeque::new(),
            backlog: VecDeque::new(),
            unsent: HashMap::new(),
            pacer: pace::Pacer::new(now),
            versions: versions::OtherVersions::default(),
            chain,
            lean_sent: 0,
            own_disclosed: None,
            said_at: None,
            events: VecDeque::new(),
            next_heartbeat: first_beat,
            announces,
            quick_beats: Vec::new(),
            quick_full: false,
            lean_beats: 0,
            full_presences: 0,
            last_refute: None,
            probed_by: VecDeque::new(),
            hello_sent: BTreeMap::new(),
            claims: BTreeMap::new(),
            beeps: BTreeMap::new(),
            typing: TypingLimit::default(),
            sync: sync::SyncState::new(now, config.share, config.history_lost),
            protected: protected::Protected::default(),
            reach: reach::Reach::new(&config.peers),
            way_in: envelope::Way::default(),
            last_now: now,
            stopped: false,
            stats: Stats::default(),
        };
        node.catch_up(now, |sync, cx| sync.join(cx, MAIN_CHANNEL));
        // The window lists the addresses it reaches by hand from the start.
        let statics = node.reach.statics();
        if !statics.is_empty() {
            node.events.push_back(CoreEvent::StaticPeers(statics));
            node.run_reach(now);
        }
        node
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// This life's epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The replay marks to keep for the next run: each sender's newest
    /// life and counter.
    pub fn seen(&self) -> Vec<Seen> {
        self.windows.marks()
    }

    /// Current nickname.
    pub fn nick(&self) -> &str {
        &self.presence.nick
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Peers online now.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let me = (self.id, self.presence.nick.as_str());
        let mut list: Vec<PeerInfo> = self
            .peers
            .iter()
            .filter_map(|(id, _)| self.info(*id, me))
            .collect();
        list.sort_by_key(|p| p.label.to_lowercase());
        list
    }

    /// What is known of an online peer, with its key.
    fn info(&self, id: NodeId, me: (NodeId, &str)) -> Option<PeerInfo> {
        let mut info = self.peers.info(id, me)?;
        info.key = self.key_book.get(id)?;
        Some(info)
    }

    /// Channels this node is in.
    pub fn joined_channels(&self) -> Vec<String> {
        self.channels.joined.keys().cloned().collect()
    }

    /// Direct-message fragments waiting for acknowledgement.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// Channel datagrams waiting for the sending budget (see `pace`): a
    /// driver stops taking commands while there are many.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// Next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next event for the user.
    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        self.events.pop_front()
    }

    /// When the node next wants [`Node::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let online = |id: NodeId| self.peers.get(id).is_some();
        [
            Some(self.next_heartbeat),
            self.announces.front().copied(),
            self.quick_beats.iter().min().copied(),
            self.peers.next_deadline(),
            self.channels.next_deadline(),
            self.outbox.next_deadline(online),
            self.sync.deadline(),
            self.reach.deadline(),
            (!self.backlog.is_empty()).then(|| self.pacer.ready_at(pace::GROUP_COPIES)),
            self.claims
                .values()
                .map(|r| (r.asked + CLAIM_REPROBE).min(r.since + CLAIM_PATIENCE))
                .min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Moves the node's clock to `now`. A gap far longer than any wait
    /// the node asks for (its heartbeat comes every 1.2 s at most) means the
    /// node itself did not run: a frozen process, a laptop that slept. The
    /// peers' silences are excused by that much (as Lifeguard's local
    /// health does for memberlist), so a node that wakes does not declare
    /// everyone offline for its own stall.
    fn advance(&mut self, now: Instant) {
        let gap = now.saturating_duration_since(self.last_now);
        if gap > STALL_AFTER {
            debug!(
                gap_ms = gap.as_millis() as u64,
                "the node did not run for a while; excusing the peers' silence"
            );
            self.peers.excuse(gap, now);
        }
        self.last_now = self.last_now.max(now);
    }

    fn wall_ms(&self, now: Instant) -> u64 {
        self.start_wall_ms + now.saturating_duration_since(self.start).as_millis() as u64
    }

    fn me(&self) -> (NodeId, &str) {
        (self.id, self.presence.nick.as_str())
    }

    fn send(&mut self, dest: Dest, body: Body) {
        self.counter += 1;
        let counter = self.counter;
        let body = match body {
            // A direct message is readable by its recipient only.
            Body::Direct(msg) => {
                let to = msg.to;
                let Some((send, _)) = self.key_book.direct(&self.keys, to) else {
                    // Not heard yet: the outbox sends it again later.
                    debug!(%to, "no key for the recipient yet; direct message held");
                    return;
                };
                let bytes = send.seal(self.id, to, self.epoch, counter, &wire::encode_direct(&msg));
                Body::Sealed { to, bytes }
            }
            body => {
                self.protected
                    .hide((self.id, self.epoch), counter, body, &self.channels.joined)
            }
        };
        let packet = Packet {
            from: self.id,
            epoch: self.epoch,
            body,
        };
        match envelope::seal(&packet, counter, &self.keys, self.workgroup.as_ref()) {
            Ok(bytes) => self.push_out(dest, bytes),
            Err(err) => debug!(cause = %err, "packet not sent"),
        }
    }

    /// Hands a sealed datagram to the driver, with unicast copies for the
    /// peers the group does not reach, and counts it against the pace.
    fn push_out(&mut self, dest: Dest, bytes: Vec<u8>) {
        if dest == Dest::Group {
            self.pacer.spend(self.last_now, pace::GROUP_COPIES);
        } else if !matches!(dest, Dest::Unicast(_)) {
            self.pacer.spend(self.last_now, 1.0);
        }
        if !matches!(dest, Dest::Unicast(_)) {
            let (relays, capped) = self.reach.relay_targets(self.last_now, &self.peers);
            self.stats.relays_capped += capped;
            for addr in relays {
                self.transmits.push_back(Transmit {
                    dest: Dest::Unicast(addr),
                    bytes: bytes.clone(),
                });
            }
        }
        self.transmits.push_back(Transmit { dest, bytes });
    }

    /// Tells the user what they asked cannot be done.
    fn refuse(&mut self, refusal: Refusal) {
        self.events.push_back(CoreEvent::Error(refusal));
    }

    // ----- timeouts -------------------------------------------------------

    /// Tells the node that `now` has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        self.advance(now);
        let mut hello_due = false;
        while self.announces.front().is_some_and(|t| *t <= now) {
            self.announces.pop_front();
            hello_due = true;
        }
        if hello_due {
            self.beat(Dest::Group, true);
        }
        let quick_due = self.quick_beats.iter().any(|t| *t <= now);
        self.quick_beats.retain(|t| *t > now);
        let periodic = self.next_heartbeat <= now;
        if periodic || quick_due && !hello_due {
            self.heartbeat(periodic);
        }
        if self.quick_beats.is_empty() {
            self.quick_full = false;
        }
        if periodic {
            self.next_heartbeat = self.next_beat_after(now);
        }
        self.check_liveness(now);
        self.run_claims(now);
        self.run_nacks(now);
        self.run_outbox(now);
        self.catch_up(now, |sync, cx| sync.run(cx));
        self.run_reach(now);
        self.run_topics(now);
        self.release(now);
    }
}
