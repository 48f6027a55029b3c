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

mod clock;
mod guard;
mod lean;
mod pace;
mod protected;
mod reach;
mod sync;
mod versions;

pub use guard::{SOURCE_RATE, Seen};
pub use protected::MAX_PROTECTED_JOINED;
pub use reach::MAX_STATIC;
pub use sync::SYNC_RATE;

use crate::catchup::{Kept, Recent, Share};
use crate::channels::{Arrival, Channels, Joined};
use crate::direct::{Draft, Inbox, Outbox, OutboxNews};
use crate::discovery::{Liveness, PeerTable, Standing};
use crate::envelope::{self, AuthorSig, ChannelKey, Keys, WorkgroupKey};
use crate::fragments::Assembled;
use crate::hlc::{self, Hlc};
use crate::protocol::{
    ChannelSummary, ChatMessage, CoreCommand, CoreEvent, Dest, OfflineReason, PeerInfo, Secret,
    Target, Timing, Transmit,
};
use crate::types::{
    Chat, MAIN_CHANNEL, MAX_JOINED, MAX_STATUS_TEXT, MAX_TEXT, MAX_TOPIC, MessageKind, MsgId,
    NodeId, Status, channel_name, clip, valid_nick,
};
use crate::typing::TypingLimit;
use crate::wire::{self, Body, ChannelMsg, Nack, Packet, Presence, TopicInfo, TypingChat};

/// How to start a node.
#[derive(Clone, Debug)]
pub struct Config {
    /// This installation's key pair; the node id is its key's.
    pub keys: Keys,
    /// The workgroup's key; `None` on the open LAN.
    pub workgroup: Option<WorkgroupKey>,
    /// Replay marks kept from the last run ([`Node::seen`]).
    pub seen: Vec<Seen>,
    /// This life's epoch; higher than every earlier one.
    pub epoch: u64,
    /// Initial nickname.
    pub nick: String,
    /// Host name shown in user info.
    pub host: String,
    /// Wall clock (ms since the Unix epoch) at the `now` given to [`Node::new`].
    pub wall_ms: u64,
    /// Seed of the node's random choices (jitter, ids).
    pub seed: u64,
    /// Protocol timing.
    pub timing: Timing,
    /// The history a channel's members give me when I join it with none
    /// (`None`: none, I see what is said from then on).
    pub share: Option<Share>,
    /// Addresses to reach by unicast (`--peer`): nodes the group does not
    /// reach, on another subnet or behind a switch that drops it.
    pub peers: Vec<SocketAddr>,
    /// My history was lost (a damaged database, recovered only in part):
    /// catch-up fetches all the peers hold of each channel (up to
    /// [`crate::catchup::MAX_AGE_DAYS`]), not only what was said since my oldest
    /// message.
    pub history_lost: bool,
}

/// Counters of what the node received and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Datagrams that did not decode.
    pub malformed: u64,
    /// Datagrams with a bad signature or signed with another node's key.
    pub forged: u64,
    /// Datagrams of another workgroup (or of the open LAN in a workgroup),
    /// and datagrams in the clear about a channel that has a password here.
    pub foreign: u64,
    /// Datagrams about a password channel I am not in (read by nobody here).
    pub hidden: u64,
    /// Datagrams seen before (a replay, or a second copy on another path).
    pub replayed: u64,
    /// Datagrams dropped unread because their source sent too many.
    pub rate_limited: u64,
    /// Packets of an older life, or of a life that said goodbye.
    pub stale: u64,
    /// Lean heartbeats whose content came too late to be checked (their
    /// proof of life still counts).
    pub late_beats: u64,
    /// Packets dropped because a table or buffer was full.
    pub over_capacity: u64,
    /// Fragments that did not fit the message they claimed to continue.
    pub broken_fragments: u64,
    /// Beeps ignored by the rate limit.
    pub beeps_limited: u64,
    /// Direct messages addressed to another node.
    pub misaddressed: u64,
    /// Channel datagrams resent on request.
    pub repairs_sent: u64,
    /// Repair requests sent.
    pub nacks_sent: u64,
    /// Probes of suspected peers sent, directly or through others (each
    /// indirect-probe request counts).
    pub probes_sent: u64,
    /// Peers I took offline on a watcher's word ([`Body::Down`]).
    pub taken_down: u64,
    /// Typing notices not shown: from a sender not online at its own
    /// address, for a channel I am not in, or for someone else's chat.
    pub typing_dropped: u64,
    /// Catch-up comparisons this node started.
    pub syncs_started: u64,
    /// Messages sent to peers that lacked them.
    pub recalls_sent: u64,
    /// Messages not sent for catch-up because the budget was spent (the
    /// next round sends them).
    pub recall_limited: u64,
    /// Messages received by catch-up.
    pub recalled: u64,
    /// Channel messages received again (by catch-up and repair both).
    pub duplicates: u64,
    /// Unicast copies of group traffic not sent: more peers were unheard
    /// than the relay budget allows (they get the next copies in turn).
    pub relays_capped: u64,
    /// Datagrams of another wire version (a node not updated, or updated
    /// before this one): heard, told, not read.
    pub other_version: u64,
}

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

/// Most claims waiting for proof at once.
const MAX_PENDING_CLAIMS: usize = 64;
/// Interval between probes of one claim (restart or new address).
const CLAIM_REPROBE: Duration = Duration::from_millis(100);
/// How long a claim is probed before it is dropped.
const CLAIM_PATIENCE: Duration = Duration::from_secs(3);

/// A restart or new-address claim waiting for its probe to be answered.
struct PendingClaim {
    epoch: u64,
    addr: SocketAddr,
    presence: Presence,
    nonce: u64,
    asked: Instant,
    since: Instant,
}

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
    /// Recent channel messages, for catch-up and to drop repeats.
    recent: Recent,
    /// When to compare with whom, and what came.
    sync: sync::SyncState,
    share: Option<Share>,
    /// [`Config::history_lost`].
    refill: bool,
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
            recent: Recent::default(),
            sync: sync::SyncState::new(now),
            share: config.share,
            refill: config.history_lost,
            protected: protected::Protected::default(),
            reach: reach::Reach::new(&config.peers),
            way_in: envelope::Way::default(),
            last_now: now,
            stopped: false,
            stats: Stats::default(),
        };
        node.sync_join(now, MAIN_CHANNEL);
        // The window lists the addresses it reaches by hand from the start.
        let statics = node.statics();
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
            self.reach_deadline(),
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

    /// A datagram of another wire version came from `from`: the user is
    /// told who speaks it (see [`versions`]).
    fn other_version(&mut self, now: Instant, from: SocketAddr, version: u8) {
        let peers = &self.peers;
        let nick = || {
            peers
                .iter()
                .find(|(_, p)| p.addrs().iter().any(|a| a.ip() == from.ip()))
                .map(|(_, p)| p.presence.nick.clone())
        };
        if let Some(nick) = self.versions.heard(now, from, version, nick) {
            debug!(%from, version, "a node of another wire version");
            self.events.push_back(CoreEvent::OtherVersion {
                addr: from,
                version,
                nick,
            });
        }
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
            body => self.hide(counter, body),
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
        } else if Node::is_group(dest) {
            self.pacer.spend(self.last_now, 1.0);
        }
        if Node::is_group(dest) {
            for addr in self.relay_targets() {
                self.transmits.push_back(Transmit {
                    dest: Dest::Unicast(addr),
                    bytes: bytes.clone(),
                });
            }
        }
        self.transmits.push_back(Transmit { dest, bytes });
    }

    fn error(&mut self, message: impl Into<String>) {
        self.events.push_back(CoreEvent::Error(message.into()));
    }

    /// My presence; my password channels are added, sealed, in `send`.
    fn own_presence(&mut self, hello: bool) -> Body {
        let mut p = self.presence.clone();
        p.channels = self.open_channel_states();
        p.hello = hello;
        p.chain = self.chain.point(self.interval(self.last_now));
        Body::Presence(p)
    }

    /// My open channels (not my password channels), in the order both my
    /// presence and my lean heartbeats' tails give them.
    fn open_channel_states(&self) -> Vec<wire::ChannelState> {
        let mut states = self.channels.states();
        states.retain(|c| !self.protected.keys.contains_key(&c.name));
        states
    }

    /// Sends my full presence, and the password channels I know of.
    fn beat(&mut self, dest: Dest, hello: bool) {
        let body = self.own_presence(hello);
        self.send(dest, body);
        self.tell_protected(dest);
        self.tell_unheard(dest);
    }

    /// A presence now and a couple soon after, so a change is seen quickly
    /// even under loss.
    fn announce_change(&mut self, now: Instant) {
        self.presence.seq += 1;
        self.beat(Dest::Group, false);
        self.quick_beats = QUICK_BEATS.iter().map(|d| now + *d).collect();
        self.quick_full = true;
    }

    /// A heartbeat: usually lean ([`crate::chain`]) by one way (multicast
    /// and broadcast take turns), signed (`Beat`) if not the periodic one
    /// or for a while after I said something; a full presence by both ways
    /// after a change, and by one way every [`FULL_PRESENCE_EVERY`] beats.
    fn heartbeat(&mut self, periodic: bool) {
        // A password channel's tail travels only in a full presence (lean
        // beats carry open channels' tails): after it changes, the next
        // few heartbeats (the quick ones first) are full.
        let hidden = self.protected_tails();
        if hidden != self.protected.told_tails {
            self.protected.told_tails = hidden;
            self.protected.fulls_due = protected::FULLS_AFTER_CHANGE;
        }
        if self.quick_full || self.lean_beats >= FULL_PRESENCE_EVERY || self.protected.fulls_due > 0
        {
            self.protected.fulls_due = self.protected.fulls_due.saturating_sub(1);
            // After a change, by both ways; the routine one by one way (in
            // turn with the beats), as a lean beat goes.
            let routine = !self.quick_full && self.protected.fulls_due == 0;
            self.full_presences += 1;
            let dest = if !routine {
                Dest::Group
            } else if self.full_presences.is_multiple_of(2) {
                Dest::Multicast
            } else {
                Dest::Broadcast
            };
            self.lean_beats = 0;
            self.beat(dest, false);
            return;
        }
        self.lean_beats += 1;
        let tails: Vec<u64> = self.open_channel_states().iter().map(|c| c.tail).collect();
        let dest = if self.lean_beats.is_multiple_of(2) {
            Dest::Multicast
        } else {
            Dest::Broadcast
        };
        // The periodic one goes lean (one per interval) when I have been
        // quiet. A lean beat's tails count only once its key is disclosed,
        // two intervals later; a receiver that lost my last message learns
        // of the gap from a signed beat at once.
        let beat = wire::LeanBeat {
            seq: self.presence.seq,
            tails,
            knows: self.presence.knows,
        };
        let quiet = self
            .said_at
            .is_none_or(|t| self.last_now >= t + SIGNED_AFTER_SAYING);
        if periodic && quiet && self.send_lean(dest, &beat) {
            return;
        }
        self.send(
            dest,
            Body::Beat {
                seq: beat.seq,
                tails: beat.tails,
            },
        );
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
        self.run_sync(now);
        self.run_reach(now);
        self.run_topics(now);
        self.release(now);
    }

    /// Asks again for a channel's topic that a member's presence says is
    /// newer than mine, a second after the last request went unanswered
    /// (it or its answer was lost), of a member picked at random.
    fn run_topics(&mut self, now: Instant) {
        let again = Duration::from_secs(1);
        let mut asks = Vec::new();
        for (name, joined) in &self.channels.joined {
            if joined.topic_asked.is_none_or(|t| now < t + again) {
                continue;
            }
            let mine = joined.topic_stamp();
            let newer: Vec<SocketAddr> = self
                .peers
                .iter()
                .filter(|(_, p)| {
                    p.presence
                        .channels
                        .iter()
                        .any(|c| c.name == *name && c.topic_stamp > mine)
                })
                .map(|(_, p)| p.addr)
                .collect();
            asks.push((name.clone(), newer));
        }
        for (name, newer) in asks {
            let Some(joined) = self.channels.joined.get_mut(&name) else {
                continue;
            };
            if newer.is_empty() {
                // Nobody has a newer one: done asking (and no more scans).
                joined.topic_asked = None;
                continue;
            }
            joined.topic_asked = Some(now);
            let addr = newer[self.rng.usize(..newer.len())];
            self.send(Dest::Unicast(addr), Body::TopicRequest { channel: name });
        }
    }

    fn check_liveness(&mut self, now: Instant) {
        let mut rng = self.rng.clone();
        let work = self.peers.check(now, |n| rng.usize(..n));
        self.rng = rng;
        for item in work {
            match item {
                Liveness::Offline { id, watched } => {
                    let epoch = self.peers.get(id).map(|p| p.epoch);
                    self.peer_gone(id, OfflineReason::Timeout, now);
                    if let Some(epoch) = epoch
                        && watched
                    {
                        // The others wait for my word (they do not probe it).
                        self.say_down(id, epoch);
                    }
                }
                Liveness::Quiet(id) => self.pass_on_newest(id),
                Liveness::Probe {
                    target,
                    addr,
                    helpers,
                } => {
                    self.stats.probes_sent += 1 + helpers.len() as u64;
                    let nonce = self.rng.u64(..);
                    self.send(
                        Dest::Unicast(addr),
                        Body::Probe {
                            nonce,
                            reply_to: None,
                        },
                    );
                    for h in helpers {
                        self.send(
                            Dest::Unicast(h),
                            Body::ProbeRequest {
                                target,
                                addr,
                                nonce,
                            },
                        );
                    }
                }
            }
        }
    }

    /// A sender fell silent: its last message may have been lost by some
    /// members, who cannot know (no later message or tail shows the gap).
    /// So members pass on the newest datagram they hold of each of its
    /// streams, as it signed it, once, each with a probability that keeps
    /// about four copies per stream; whoever lacked it takes it, and the
    /// repair of anything before it follows from the gap it shows.
    fn pass_on_newest(&mut self, sender: NodeId) {
        let Some(epoch) = self.peers.get(sender).map(|p| p.epoch) else {
            return;
        };
        let mut newest = Vec::new();
        for ((id, e, channel), stream) in self.channels.streams() {
            if *id != sender || *e != epoch || !self.channels.joined.contains_key(channel) {
                continue;
            }
            let members = self
                .peers
                .iter()
                .filter(|(_, p)| p.presence.channels.iter().any(|c| &c.name == channel))
                .count();
            let p = (4.0 / members.max(1) as f64).min(1.0);
            if let Some(raw) = stream.newest_kept()
                && self.rng.f64() < p
            {
                newest.push(raw.to_vec());
            }
        }
        self.stats.repairs_sent += newest.len() as u64;
        for bytes in newest {
            self.transmits.push_back(Transmit {
                dest: Dest::Group,
                bytes,
            });
        }
    }

    fn run_nacks(&mut self, now: Instant) {
        for key in self.channels.nacks_due(now) {
            let (sender, epoch, channel) = key.clone();
            let sender_here = self.peers.get(sender).is_some_and(|p| p.epoch == epoch);
            let retry = self.nack_retry(&key);
            let Some(stream) = self.channels.get_mut(&key) else {
                continue;
            };
            if !stream.has_gap() {
                self.channels.arm(&key, now, Duration::ZERO);
                continue;
            }
            if !sender_here && stream.attempt() >= GIVE_UP_ATTEMPTS {
                let count = stream.skip_gap();
                debug!(%sender, %channel, count, "gap given up: its sender is gone");
                self.events.push_back(CoreEvent::Missed {
                    chat: Chat::Channel(channel),
                    from: sender,
                    count,
                });
                self.deliver_stream(&key, now);
                continue;
            }
            let nack = Nack {
                sender,
                epoch,
                channel,
                ranges: stream.missing(),
                attempt: stream.attempt(),
            };
            self.channels.nacked(&key, now, retry);
            self.stats.nacks_sent += 1;
            self.send(Dest::Group, Body::Nack(nack));
        }
    }

    fn nack_retry(&mut self, key: &crate::channels::StreamKey) -> Duration {
        let attempt = self.channels.get(key).map_or(0, |s| s.attempt());
        // Gentle growth: on a LAN a lost repair is bad luck, not congestion.
        let base = self
            .timing
            .nack_retry
            .mul_f64(1.5f64.powi(i32::from(attempt.min(10))));
        base.min(self.timing.nack_retry_max)
            .mul_f64(1.0 + self.rng.f64() * 0.5)
    }

    fn run_outbox(&mut self, now: Instant) {
        let peers = &self.peers;
        let news = self
            .outbox
            .due(now, &self.timing, |id| peers.get(id).is_some());
        for n in news {
            match n {
                OutboxNews::Send(to, msg) => {
                    if let Some(addr) = self.peers.get(to).map(|p| p.addr) {
                        self.send(Dest::Unicast(addr), Body::Direct(msg));
                    }
                }
                OutboxNews::Queued(to, id) => self.events.push_back(CoreEvent::Queued { id, to }),
            }
        }
    }

    // ----- peers ----------------------------------------------------------

    fn peer_gone(&mut self, id: NodeId, reason: OfflineReason, now: Instant) {
        let Some(peer) = self.peers.depart(id, reason, now) else {
            return;
        };
        self.clock_gone(id);
        debug!(peer = %id, reason = reason.as_str(), "peer offline");
        self.events.push_back(CoreEvent::PeerOffline {
            id,
            nick: peer.presence.nick.clone(),
            reason,
        });
        for msg in self.outbox.peer_offline(id) {
            self.events.push_back(CoreEvent::Queued { id: msg, to: id });
        }
        self.sync_gone(id);
        self.reach_gone(id);
    }

    fn peer_info_event(&mut self, id: NodeId) {
        if let Some(info) = self.info(id, self.me()) {
            self.events.push_back(CoreEvent::PeerOnline(info));
        }
    }

    // ----- datagrams ------------------------------------------------------

    /// Feeds a received datagram; `from` is the sender's unicast socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if !self.admit(now, from) {
            return;
        }
        // A copy seen already (the same datagram by multicast and by
        // broadcast, or a replay) is dropped before its signature is checked.
        let unverified = match envelope::unwrap(bytes, self.workgroup.as_ref()) {
            Ok(envelope::Unwrapped::Signed(u)) => u,
            Ok(envelope::Unwrapped::Lean(lean)) => {
                return self.handle_opened(now, from, bytes, Ok(envelope::Datagram::Lean(lean)));
            }
            Err(err) => return self.handle_opened(now, from, bytes, Err(err)),
        };
        match self.windows.peek(
            unverified.packet.from,
            unverified.packet.epoch,
            unverified.counter,
        ) {
            guard::Replay::Fresh => {
                let opened = unverified.verify().map(envelope::Datagram::Signed);
                self.handle_opened(now, from, bytes, opened);
            }
            guard::Replay::Again => {
                self.stats.replayed += 1;
                // The group copy of what came by unicast first still shows
                // that the group reaches me from this peer.
                let id = unverified.packet.from;
                if unverified.way.is_group()
                    && self.reach_doubts(id, now)
                    && unverified.verify().is_ok()
                {
                    self.reach_heard(id, envelope::Way::Multicast, now);
                }
            }
            guard::Replay::OldLife => self.stats.stale += 1,
        }
    }

    /// The first half of [`Node::handle_datagram`]: whether a datagram
    /// from `from` is read at all (the source's rate limit). Then open it
    /// with [`envelope::open`] (a pure function of the bytes, which a
    /// simulation may compute once for all receivers of one datagram) and
    /// hand the result to [`Node::handle_opened`].
    pub fn admit(&mut self, now: Instant, from: SocketAddr) -> bool {
        if self.stopped {
            return false;
        }
        self.stats.datagrams += 1;
        if !self.sources.allow(from.ip(), now) {
            self.stats.rate_limited += 1;
            return false;
        }
        true
    }

    /// The workgroup key the node opens datagrams with.
    pub fn workgroup(&self) -> Option<&WorkgroupKey> {
        self.workgroup.as_ref()
    }

    /// The second half of [`Node::handle_datagram`]: a datagram (`raw`)
    /// opened with this node's workgroup key.
    pub fn handle_opened(
        &mut self,
        now: Instant,
        from: SocketAddr,
        raw: &[u8],
        opened: Result<envelope::Datagram, wire::DecodeError>,
    ) {
        if self.stopped {
            return;
        }
        self.advance(now);
        let opened = match opened {
            Ok(envelope::Datagram::Signed(opened)) => opened,
            Ok(envelope::Datagram::Lean(lean)) => return self.on_lean(now, from, raw, lean),
            Err(err) => {
                match err {
                    wire::DecodeError::Signature | wire::DecodeError::WrongKey => {
                        self.stats.forged += 1;
                    }
                    wire::DecodeError::Version(version) => {
                        self.stats.other_version += 1;
                        self.other_version(now, from, version);
                    }
                    wire::DecodeError::Workgroup => self.stats.foreign += 1,
                    _ => self.stats.malformed += 1,
                }
                debug!(%from, cause = %err, "datagram dropped");
                return;
            }
        };
        let envelope::Opened {
            packet,
            key,
            counter,
            way,
        } = opened;
        if packet.from == self.id {
            // Our own multicast or broadcast, looped back.
            self.reach_own(way, now);
            return;
        }
        self.way_in = way;
        let Packet {
            from: id,
            epoch,
            body,
        } = packet;
        match self.windows.check(id, epoch, counter, now) {
            guard::Replay::Fresh => {}
            guard::Replay::Again => {
                self.stats.replayed += 1;
                return;
            }
            guard::Replay::OldLife => {
                self.stats.stale += 1;
                return;
            }
        }
        let peers = &self.peers;
        self.key_book.learn(id, key, |old| peers.get(old).is_some());
        let body = match body {
            Body::Sealed { to, bytes } => match self.unseal(id, epoch, counter, to, &bytes) {
                Some(msg) => Body::Direct(msg),
                None => return,
            },
            // A direct message in the clear is not one lanchat sends.
            Body::Direct(_) => {
                self.stats.malformed += 1;
                return;
            }
            body => match self.unhide(id, epoch, counter, body) {
                Some(body) => body,
                None => return,
            },
        };
        let standing = self.peers.standing(id, epoch);
        if standing == Standing::Stale {
            self.stats.stale += 1;
            return;
        }
        let body = match (standing, body) {
            (Standing::Restarted, Body::Presence(p)) => {
                return self.claim(now, id, epoch, from, p);
            }
            // The address of a life does not change on its own: a presence
            // from elsewhere is a claim to prove, like a restart.
            (Standing::Known, Body::Presence(p))
                if self.peers.get(id).is_some_and(|peer| !peer.is_at(from)) =>
            {
                return self.claim(now, id, epoch, from, p);
            }
            (Standing::Restarted | Standing::Known, Body::ProbeAck { nonce })
                if self
                    .claims
                    .get(&id)
                    .is_some_and(|c| c.epoch == epoch && c.addr == from) =>
            {
                return self.confirm_claim(now, id, epoch, from, nonce);
            }
            (_, Body::Presence(p)) => return self.on_presence(now, id, epoch, from, standing, p),
            (_, body) => body,
        };
        match standing {
            // Proof of life only from the peer's own addresses: a holder
            // passes on its datagrams too (repair), and those say nothing
            // about whether it still runs.
            Standing::Known if self.peers.get(id).is_some_and(|p| p.is_at(from)) => {
                self.peers.heard(id, from, now);
                self.reach_heard(id, way, now);
            }
            Standing::Known => {}
            Standing::Restarted | Standing::Returning | Standing::New => {
                // Ask who it is; its presence makes it an online peer.
                self.hello_unknown(now, from);
            }
            Standing::Stale => {}
        }
        match body {
            Body::Presence(_) => {}
            Body::Leave if standing == Standing::Known => {
                if self.peers.get(id).is_some_and(|p| p.is_at(from)) {
                    self.peer_gone(id, OfflineReason::Quit, now);
                } else {
                    // A leave from elsewhere may be forged or mangled: probe
                    // the peer instead of believing it.
                    self.peers.doubt(id, now);
                }
            }
            Body::Leave => {}
            Body::Down { peer, epoch } if standing == Standing::Known => {
                self.on_down(now, peer, epoch);
            }
            Body::Down { .. } => {}
            Body::Probe { nonce, reply_to } => self.on_probe(now, from, nonce, reply_to),
            Body::ProbeAck { nonce } => self.reach_ack(id, nonce),
            Body::Ping { nonce } => self.on_ping(from, nonce),
            Body::Peers { peers } if standing == Standing::Known => self.on_peers(now, &peers),
            Body::Peers { .. } => {}
            Body::Unheard { peers } if standing == Standing::Known => {
                self.on_unheard(now, id, &peers);
            }
            Body::Unheard { .. } => {}
            Body::ProbeRequest {
                target,
                addr,
                nonce,
            } => {
                // Its own recent heartbeat answers for it; else a probe.
                if !self.vouch(now, target, from) {
                    self.send(
                        Dest::Unicast(addr),
                        Body::Probe {
                            nonce,
                            reply_to: Some(from),
                        },
                    );
                }
            }
            Body::Channel(msg) => self.on_channel_msg(now, id, epoch, msg, raw),
            Body::Nack(nack) => self.on_nack(now, from, nack),
            Body::Gone { channel, upto } => {
                let key = (id, epoch, channel.clone());
                if let Some(stream) = self.channels.get_mut(&key) {
                    let count = stream.jump(upto.saturating_add(1));
                    debug!(peer = %id, %channel, upto, count, "sender no longer holds a gap");
                    if count > 0 {
                        self.events.push_back(CoreEvent::Missed {
                            chat: Chat::Channel(channel),
                            from: id,
                            count,
                        });
                    }
                    self.deliver_stream(&key, now);
                }
            }
            Body::Direct(msg) => self.on_direct(now, id, epoch, from, msg),
            Body::DirectAck { stream_epoch, seq } => {
                if stream_epoch == self.epoch
                    && let Some(msg) = self.outbox.ack(id, seq)
                {
                    self.events
                        .push_back(CoreEvent::Delivered { id: msg, to: id });
                }
            }
            Body::TopicRequest { channel } => {
                if let Some(topic) = self
                    .channels
                    .joined
                    .get(&channel)
                    .and_then(|j| j.topic.clone())
                {
                    self.send(Dest::Unicast(from), Body::Topic(topic));
                }
            }
            Body::Topic(topic) => self.on_topic(topic),
            Body::Beat { seq, tails } if standing == Standing::Known => {
                self.on_beat(now, id, epoch, from, seq, &tails);
            }
            Body::Beat { .. } => {}
            Body::Typing { chat } => self.on_typing(id, from, standing, chat),
            // Catch-up is between peers that know each other.
            Body::Sync(sync) if self.is_at(id, standing, from) => {
                self.on_sync(now, id, from, sync);
            }
            Body::Want { channel, ids } if self.is_at(id, standing, from) => {
                self.on_want(now, id, from, &channel, &ids);
            }
            Body::Recalled(r) if self.is_at(id, standing, from) => self.on_recalled(now, r),
            Body::Sync(_) | Body::Want { .. } | Body::Recalled(_) => {}
            Body::Protected { channels } if standing == Standing::Known => {
                self.on_protected(now, &channels);
            }
            // Opened above.
            Body::Sealed { .. } | Body::Hidden { .. } | Body::Protected { .. } => {}
        }
    }

    /// A higher epoch claims the node restarted, or a presence from a new
    /// address claims the node moved. A mangled or replayed copy must not
    /// replace a live peer (its real packets would then look stale, or its
    /// messages would go astray), so the claim counts only once a probe to
    /// the claiming address is answered with its nonce.
    fn claim(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        presence: Presence,
    ) {
        match self.claims.get_mut(&id) {
            Some(r) if r.epoch == epoch && r.addr == from => {
                // Probed again by the timer until answered.
                r.presence = presence;
            }
            _ => {
                if !self.claims.contains_key(&id) && self.claims.len() >= MAX_PENDING_CLAIMS {
                    let oldest = self
                        .claims
                        .iter()
                        .min_by_key(|(_, r)| r.asked)
                        .map(|(k, _)| *k);
                    if let Some(oldest) = oldest {
                        self.claims.remove(&oldest);
                    }
                }
                let nonce = self.rng.u64(..);
                self.claims.insert(
                    id,
                    PendingClaim {
                        epoch,
                        addr: from,
                        presence,
                        nonce,
                        asked: now,
                        since: now,
                    },
                );
                self.probe_claim(from, nonce);
            }
        }
    }

    /// Probes a claim, in two copies: a restart must be seen within
    /// a second even when a third of the datagrams are lost.
    fn probe_claim(&mut self, addr: SocketAddr, nonce: u64) {
        for _ in 0..2 {
            self.send(
                Dest::Unicast(addr),
                Body::Probe {
                    nonce,
                    reply_to: None,
                },
            );
        }
    }

    /// Probes claims again until they are answered or too old.
    fn run_claims(&mut self, now: Instant) {
        self.claims.retain(|_, r| now < r.since + CLAIM_PATIENCE);
        let due: Vec<(SocketAddr, u64)> = self
            .claims
            .values_mut()
            .filter(|r| now >= r.asked + CLAIM_REPROBE)
            .map(|r| {
                r.asked = now;
                (r.addr, r.nonce)
            })
            .collect();
        for (addr, nonce) in due {
            self.probe_claim(addr, nonce);
        }
    }

    fn confirm_claim(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        nonce: u64,
    ) {
        let proven = self
            .claims
            .get(&id)
            .is_some_and(|r| r.epoch == epoch && r.addr == from && r.nonce == nonce);
        if let Some(r) = proven.then(|| self.claims.remove(&id)).flatten() {
            let standing = self.peers.standing(id, epoch);
            if standing == Standing::Known
                && let Some(peer) = self.peers.get_mut(id)
            {
                peer.use_addr(from);
            }
            if standing != Standing::Stale {
                self.on_presence(now, id, epoch, from, standing, r.presence);
            }
        }
    }

    fn hello_unknown(&mut self, now: Instant, addr: SocketAddr) {
        if self
            .hello_sent
            .get(&addr)
            .is_some_and(|t| now < *t + REFUTE_SPACING)
        {
            return;
        }
        if self.hello_sent.len() >= MAX_HELLO_TARGETS {
            self.hello_sent.retain(|_, t| now < *t + REFUTE_SPACING);
            if self.hello_sent.len() >= MAX_HELLO_TARGETS {
                return;
            }
        }
        self.hello_sent.insert(addr, now);
        debug!(%addr, "greeting a sender we do not know yet");
        self.beat(Dest::Unicast(addr), true);
    }

    fn on_presence(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        addr: SocketAddr,
        standing: Standing,
        p: Presence,
    ) {
        if standing == Standing::Known && self.peers.outdated(id, p.seq) {
            // Overtaken by a newer presence: proof of life, but no news.
            self.peers.heard(id, addr, now);
            return;
        }
        if standing == Standing::Restarted
            && let Some(old) = self.peers.get(id).map(|p| p.epoch)
        {
            self.channels.forget_life(id, old);
        }
        if matches!(standing, Standing::New | Standing::Returning) && !self.peers.has_room() {
            self.stats.over_capacity += 1;
            return;
        }
        if standing == Standing::New
            && let Some(old) = self.peers.departed_record(id).map(|d| d.epoch)
            && old != epoch
        {
            self.channels.forget_life(id, old);
        }
        let change = self.peers.apply_presence(id, epoch, addr, &p, now);
        self.clock_heard(now, id, &p);
        // Channels it joined while I knew it: all it said there came after.
        let newly: Vec<String> = change.as_ref().map_or_else(Vec::new, |c| c.joined.clone());
        match change {
            None => {
                debug!(peer = %id, nick = %p.nick, "peer online");
                self.reach_online(id, self.way_in, now);
                self.peer_info_event(id);
                if !p.hello {
                    // Found by its heartbeat or a reply: it may have missed
                    // all our hellos, so greet it directly (it answers).
                    self.beat(Dest::Unicast(addr), true);
                }
                self.outbox.peer_online(id, now, &self.timing);
                self.run_outbox(now);
                let channels: Vec<String> = p.channels.iter().map(|c| c.name.clone()).collect();
                self.sync_appeared(now, id, addr, &channels);
            }
            Some(change) => {
                if let Some(old) = change.old_nick {
                    self.events.push_back(CoreEvent::NickChanged {
                        id,
                        old,
                        new: p.nick.clone(),
                    });
                }
                if change.status_changed {
                    self.events.push_back(CoreEvent::StatusChanged {
                        id,
                        nick: p.nick.clone(),
                        status: p.status,
                        text: p.status_text.clone(),
                    });
                }
                self.sync_heard_in(now, id, &change.joined);
                for channel in change
                    .joined
                    .into_iter()
                    .filter(|c| self.channels.joined.contains_key(c))
                {
                    self.events.push_back(CoreEvent::Joined {
                        channel,
                        id,
                        nick: p.nick.clone(),
                    });
                }
                for channel in change
                    .parted
                    .into_iter()
                    .filter(|c| self.channels.joined.contains_key(c))
                {
                    self.events.push_back(CoreEvent::Parted {
                        channel,
                        id,
                        nick: p.nick.clone(),
                    });
                }
            }
        }
        for state in &p.channels {
            let Some(joined) = self.channels.joined.get_mut(&state.name) else {
                continue;
            };
            if state.topic_stamp > joined.topic_stamp()
                && joined
                    .topic_asked
                    .is_none_or(|t| now >= t + Duration::from_secs(1))
            {
                joined.topic_asked = Some(now);
                self.send(
                    Dest::Unicast(addr),
                    Body::TopicRequest {
                        channel: state.name.clone(),
                    },
                );
            }
            let key = (id, epoch, state.name.clone());
            // What a member said before I knew it was one is history
            // (catch-up brings it); but when it joined while I knew it and
            // spoke before its join reached me, its first messages are
            // repaired from its log like any gap.
            let base = if newly.contains(&state.name) && state.tail <= JOINED_REPAIR {
                1
            } else {
                state.tail + 1
            };
            match self.channels.stream(key.clone(), base) {
                Some(stream) => stream.saw_tail(state.tail),
                None => self.stats.over_capacity += 1,
            }
            // A peer's messages that came before its presence wait for it.
            self.deliver_stream(&key, now);
        }
        if !p.hello {
            self.maybe_tell_peers(now, id, p.knows);
        }
        if p.hello {
            let due = self.peers.get(id).is_none_or(|peer| {
                peer.last_hello_reply
                    .is_none_or(|t| now >= t + HELLO_REPLY_SPACING)
            });
            if due {
                if let Some(peer) = self.peers.get_mut(id) {
                    peer.last_hello_reply = Some(now);
                }
                // Two copies: a newcomer must see everyone within a second
                // even when a third of the datagrams are lost.
                self.beat(Dest::Unicast(addr), false);
                self.beat(Dest::Unicast(addr), false);
            }
        }
    }

    /// A lean heartbeat: proof of life (already noted) and the tails, if it
    /// abbreviates the presence we hold. If it names a newer one, we missed a
    /// change: greet the peer, and it answers with its full presence.
    fn on_beat(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        seq: u64,
        tails: &[u64],
    ) {
        let Some(peer) = self.peers.get_mut(id) else {
            return;
        };
        if seq < peer.presence.seq {
            return; // overtaken by a newer presence
        }
        // Lean heartbeats carry the tails of open channels only, which
        // come before the ones opened from sealed states.
        if seq > peer.presence.seq || tails.len() != peer.presence.open_channels().len() {
            debug!(peer = %id, seq, held = peer.presence.seq, "beat names a presence we lack");
            self.hello_unknown(now, from);
            return;
        }
        let mut mine = Vec::new();
        for (state, tail) in peer.presence.channels.iter_mut().zip(tails) {
            state.tail = state.tail.max(*tail);
            if self.channels.joined.contains_key(&state.name) {
                mine.push((state.name.clone(), state.tail));
            }
        }
        for (name, tail) in mine {
            let key = (id, epoch, name);
            match self.channels.stream(key.clone(), tail + 1) {
                Some(stream) => stream.saw_tail(tail),
                None => self.stats.over_capacity += 1,
            }
            self.deliver_stream(&key, now);
        }
    }

    fn on_probe(
        &mut self,
        now: Instant,
        from: SocketAddr,
        nonce: u64,
        reply_to: Option<SocketAddr>,
    ) {
        self.send(
            Dest::Unicast(reply_to.unwrap_or(from)),
            Body::ProbeAck { nonce },
        );
        // Many suspect us: tell everyone at once that we are here. (One
        // prober has its answer; a presence to the group for each would be
        // a storm among many peers under loss.)
        let prober = reply_to.unwrap_or(from);
        self.probed_by
            .retain(|(t, a)| now < *t + REFUTE_WINDOW && *a != prober);
        self.probed_by.push_back((now, prober));
        while self.probed_by.len() > REFUTE_PROBERS {
            self.probed_by.pop_front();
        }
        if self.probed_by.len() >= REFUTE_PROBERS
            && self.last_refute.is_none_or(|t| now >= t + REFUTE_SPACING)
        {
            self.last_refute = Some(now);
            self.beat(Dest::Group, false);
        }
    }

    /// Tells the group that `peer`'s life `epoch`, which I watch, is down.
    fn say_down(&mut self, peer: NodeId, epoch: u64) {
        for _ in 0..DOWN_COPIES {
            self.send(Dest::Group, Body::Down { peer, epoch });
        }
    }

    /// A watcher of `peer` declared its life `epoch` offline. I take its
    /// word only if I have not heard `peer` for a while either (a word
    /// cannot take offline a peer I hear); if I have, I time its silence
    /// from now on as its watchers do. If it is me, I say to everyone that
    /// I am here.
    fn on_down(&mut self, now: Instant, peer: NodeId, epoch: u64) {
        if peer == self.id {
            if epoch == self.epoch && self.last_refute.is_none_or(|t| now >= t + REFUTE_SPACING) {
                self.last_refute = Some(now);
                self.beat(Dest::Group, false);
            }
            return;
        }
        let quiet = self
            .peers
            .silence(peer, epoch, now)
            .is_some_and(|s| s >= self.timing.suspect_after);
        if quiet {
            self.stats.taken_down += 1;
            let watched = self.peers.watches(peer);
            self.peer_gone(peer, OfflineReason::Timeout, now);
            // A fellow watcher was first: I say it too, so a node that
            // lost all of its copies (30 % loss loses three in a row once
            // in 37) still gets the word from one of us.
            if watched {
                self.say_down(peer, epoch);
            }
        } else {
            self.peers.told_down(peer, epoch);
        }
    }

    fn on_channel_msg(
        &mut self,
        now: Instant,
        sender: NodeId,
        epoch: u64,
        msg: ChannelMsg,
        raw: &[u8],
    ) {
        if !self.channels.joined.contains_key(&msg.channel) {
            return;
        }
        let key = (sender, epoch, msg.channel.clone());
        let seq = msg.seq;
        // From a peer whose presence does not list the channel yet: it has
        // just joined, so what it said there before this is a gap to repair.
        let just_joined = self.peers.get(sender).is_some_and(|p| {
            p.epoch == epoch && !p.presence.channels.iter().any(|c| c.name == msg.channel)
        });
        let base = if just_joined && seq <= JOINED_REPAIR {
            1
        } else {
            seq
        };
        let crowded = self.channels.crowded(&key);
        let Some(stream) = self.channels.stream(key.clone(), base) else {
            self.stats.over_capacity += 1;
            return;
        };
        if stream.receive(msg, raw, crowded) == Arrival::Full {
            self.stats.over_capacity += 1;
        }
        self.deliver_stream(&key, now);
    }

    /// Delivers what a stream has ready (if its sender is known) and re-arms
    /// its NACK timer.
    fn deliver_stream(&mut self, key: &crate::channels::StreamKey, now: Instant) {
        let delay = self.timing.nack_delay.mul_f64(self.rng.f64());
        let known = self.peers.get(key.0).is_some_and(|p| p.epoch == key.1)
            || self
                .peers
                .departed_record(key.0)
                .is_some_and(|d| d.epoch == key.1);
        let Some(stream) = self.channels.get_mut(key) else {
            return;
        };
        let (ready, broken) = if known {
            stream.ready()
        } else {
            (Vec::new(), 0)
        };
        self.channels.arm(key, now, delay);
        self.stats.broken_fragments += broken;
        for a in ready {
            self.deliver(now, Chat::Channel(key.2.clone()), key.0, a);
        }
    }

    /// What to call the sender of a message or beep: its nick, or `?` and
    /// its short id while its presence is not known yet (a direct message
    /// can come before it).
    fn sender_nick(&self, id: NodeId) -> String {
        self.peers
            .nick(id)
            .map_or_else(|| format!("?{}", id.short()), str::to_string)
    }

    fn deliver(&mut self, now: Instant, chat: Chat, from: NodeId, a: Assembled) {
        let mut author = None;
        if let Chat::Channel(name) = &chat {
            // Signed by its author, whoever handed it on (a holder's repair
            // cannot put words in someone's mouth).
            let signed = self.key_book.get(from).and_then(|key| {
                let sig: [u8; 64] = a.sig.as_slice().try_into().ok()?;
                let signed = AuthorSig { key, sig };
                signed
                    .verify(from, name, a.id, a.hlc, a.kind, &a.text)
                    .then_some(signed)
            });
            let Some(signed) = signed else {
                debug!(%from, channel = %name, "message without its author's signature dropped");
                self.stats.forged += 1;
                return;
            };
            author = Some(signed);
        }
        let lan_now = self.lan_wall_ms(now);
        let stamp = self.hlc.observe(a.hlc, lan_now);
        let nick = self.sender_nick(from);
        if let Chat::Channel(name) = &chat {
            // Kept under the author's own stamp, the same on every node
            // (what we show is clamped by our clock, see `hlc`).
            let kept = Kept {
                id: a.id,
                from,
                nick: nick.clone(),
                kind: a.kind,
                text: a.text.clone(),
                hlc: a.hlc,
                arrived_ms: 0,
                author,
            };
            if !self.keep(now, name, kept) {
                self.stats.duplicates += 1;
                return;
            }
        }
        self.events.push_back(CoreEvent::Message(ChatMessage {
            id: a.id,
            chat,
            from,
            nick,
            kind: a.kind,
            text: a.text,
            time_ms: hlc::wall_ms(stamp),
            hlc: stamp,
            author,
        }));
    }

    fn on_nack(&mut self, now: Instant, from: SocketAddr, nack: Nack) {
        let seqs = nack.ranges.iter().flat_map(|(a, b)| *a..=*b).take(256);
        if nack.sender == self.id {
            if nack.epoch != self.epoch {
                return;
            }
            let Some(joined) = self.channels.joined.get_mut(&nack.channel) else {
                return;
            };
            let oldest = joined.oldest();
            let mut resend = Vec::new();
            let mut gone = 0;
            for seq in seqs {
                if seq < oldest {
                    gone = gone.max(seq);
                } else if let Some(m) = joined.resend(seq, now, RESEND_SPACING) {
                    resend.push(m);
                }
            }
            if gone > 0 {
                self.send(
                    Dest::Group,
                    Body::Gone {
                        channel: nack.channel.clone(),
                        upto: oldest - 1,
                    },
                );
            }
            self.stats.repairs_sent += resend.len() as u64;
            for m in resend {
                self.send(Dest::Group, Body::Channel(m));
            }
            return;
        }
        let key = (nack.sender, nack.epoch, nack.channel.clone());
        let sender_here = self
            .peers
            .get(nack.sender)
            .is_some_and(|p| p.epoch == nack.epoch);
        let hold = self.timing.nack_retry;
        if self.channels.get(&key).is_none() {
            return;
        }
        self.channels.suppress(&key, now, hold, &nack.ranges);
        // After the first tries (or when the sender is gone) holders help;
        // each answers with a probability that keeps the expected number of
        // answers near two.
        if sender_here && nack.attempt < 2 {
            return;
        }
        let members = self
            .peers
            .iter()
            .filter(|(_, p)| p.presence.channels.iter().any(|c| c.name == nack.channel));
        let p = (2.0 / members.count().max(1) as f64).min(1.0);
        if self.rng.f64() >= p {
            return;
        }
        // The sender's own datagrams, unchanged: its signature vouches for
        // them, and the requester's replay window takes each once.
        let Some(stream) = self.channels.get(&key) else {
            return;
        };
        let repairs: Vec<Vec<u8>> = seqs
            .filter_map(|s| stream.kept(s).map(<[u8]>::to_vec))
            .take(64)
            .collect();
        self.stats.repairs_sent += repairs.len() as u64;
        for bytes in repairs {
            self.transmits.push_back(Transmit {
                dest: Dest::Unicast(from),
                bytes,
            });
        }
    }

    /// Opens a direct message sealed for me; `None` (counted) when it is
    /// for someone else or does not open.
    fn unseal(
        &mut self,
        id: NodeId,
        epoch: u64,
        counter: u64,
        to: NodeId,
        bytes: &[u8],
    ) -> Option<crate::wire::DirectMsg> {
        if to != self.id {
            self.stats.misaddressed += 1;
            return None;
        }
        let me = self.id;
        let plain = self
            .key_book
            .direct(&self.keys, id)
            .and_then(|(_, recv)| recv.open(id, me, epoch, counter, bytes));
        match plain.map(|p| wire::decode_direct(&p)) {
            Some(Ok(msg)) if msg.to == me => Some(msg),
            _ => {
                self.stats.forged += 1;
                None
            }
        }
    }

    fn on_direct(
        &mut self,
        now: Instant,
        id: NodeId,
        epoch: u64,
        from: SocketAddr,
        msg: crate::wire::DirectMsg,
    ) {
        if msg.to != self.id {
            self.stats.misaddressed += 1;
            return;
        }
        let seq = msg.seq;
        let received = self.inbox.receive(id, epoch, msg);
        if received.ack {
            // A fragment had already: the acknowledgement was lost at least
            // once, so it goes twice (under loss the receipt then comes in
            // far fewer round trips; a handful of bytes).
            let copies = if received.again { 2 } else { 1 };
            for _ in 0..copies {
                self.send(
                    Dest::Unicast(from),
                    Body::DirectAck {
                        stream_epoch: epoch,
                        seq,
                    },
                );
            }
        } else {
            self.stats.over_capacity += 1;
        }
        self.stats.broken_fragments += received.broken;
        for a in received.messages {
            if a.kind == MessageKind::Beep {
                if self.beeps.get(&id).is_some_and(|t| now < *t + BEEP_SPACING) {
                    self.stats.beeps_limited += 1;
                    continue;
                }
                if self.beeps.len() >= crate::discovery::MAX_PEERS {
                    self.beeps.retain(|_, t| now < *t + BEEP_SPACING);
                }
                self.beeps.insert(id, now);
                let nick = self.sender_nick(id);
                self.events.push_back(CoreEvent::Beep { from: id, nick });
                continue;
            }
            self.deliver(now, Chat::Direct(id), id, a);
        }
    }

    /// Shows a typing notice from an online peer at its own address, for a
    /// channel I am in or for our direct chat. A notice is not worth a probe
    /// or a claim: anything else is dropped.
    /// Whether a packet comes from a peer online in this life at its own
    /// address.
    fn is_at(&self, id: NodeId, standing: Standing, from: SocketAddr) -> bool {
        standing == Standing::Known && self.peers.get(id).is_some_and(|p| p.is_at(from))
    }

    fn on_typing(&mut self, id: NodeId, from: SocketAddr, standing: Standing, chat: TypingChat) {
        let nick = match self.peers.get(id) {
            Some(peer) if standing == Standing::Known && peer.is_at(from) => {
                peer.presence.nick.clone()
            }
            _ => {
                self.stats.typing_dropped += 1;
                debug!(peer = %id, %from, "typing notice from no online peer at that address");
                return;
            }
        };
        let chat = match chat {
            TypingChat::Channel(name) if self.channels.joined.contains_key(&name) => {
                Chat::Channel(name)
            }
            TypingChat::Direct(to) if to == self.id => Chat::Direct(id),
            other => {
                self.stats.typing_dropped += 1;
                debug!(peer = %id, chat = ?other, "typing notice for a chat I am not in");
                return;
            }
        };
        self.events.push_back(CoreEvent::Typing { chat, id, nick });
    }

    fn on_topic(&mut self, topic: TopicInfo) {
        let Some(joined) = self.channels.joined.get_mut(&topic.channel) else {
            return;
        };
        let newer = joined
            .topic
            .as_ref()
            .is_none_or(|t| (topic.stamp, topic.setter) > (t.stamp, t.setter));
        if !newer {
            return;
        }
        joined.topic = Some(topic.clone());
        self.events.push_back(CoreEvent::Topic {
            channel: topic.channel,
            text: topic.text,
            by: topic.setter,
            nick: topic.setter_nick,
        });
    }

    // ----- commands -------------------------------------------------------

    /// Feeds a user command.
    pub fn handle_command(&mut self, now: Instant, cmd: CoreCommand) {
        if self.stopped {
            return;
        }
        self.advance(now);
        match cmd {
            CoreCommand::Say { to, text, kind } => self.say(now, to, text, kind),
            CoreCommand::Join { channel, secret } => self.join(now, &channel, secret),
            CoreCommand::Part { channel } => self.part(now, &channel),
            CoreCommand::Topic { channel, text } => self.set_topic(now, &channel, text),
            CoreCommand::Nick(nick) => self.set_nick(now, nick),
            CoreCommand::Status { status, text } => {
                self.presence.status = status;
                self.presence.status_text = clip(text.trim(), MAX_STATUS_TEXT);
                self.events.push_back(CoreEvent::StatusChanged {
                    id: self.id,
                    nick: self.presence.nick.clone(),
                    status,
                    text: self.presence.status_text.clone(),
                });
                self.announce_change(now);
            }
            CoreCommand::Beep(target) => {
                self.say(now, vec![target], String::new(), MessageKind::Beep)
            }
            CoreCommand::Resend {
                id,
                to,
                text,
                kind,
                hlc,
            } => self.resend(now, id, to, &text, kind, hlc),
            CoreCommand::Typing(target) => self.typing(now, &target),
            CoreCommand::Recall(messages) => self.recall(messages),
            CoreCommand::Who => {
                let list = self.peers();
                self.events.push_back(CoreEvent::Who(list));
            }
            CoreCommand::Channels => {
                let list = self.channel_list();
                self.events.push_back(CoreEvent::Channels(list));
            }
            CoreCommand::AddPeer(addr) => {
                if self.add_static(addr) {
                    self.events
                        .push_back(CoreEvent::StaticPeers(self.statics()));
                    self.run_reach(now);
                } else {
                    self.error(format!("at most {MAX_STATIC} addresses can be added"));
                }
            }
            CoreCommand::ForgetPeer(addr) => {
                self.forget_static(addr);
                self.events
                    .push_back(CoreEvent::StaticPeers(self.statics()));
            }
            CoreCommand::Quit => {
                for _ in 0..LEAVE_COPIES {
                    self.send(Dest::Group, Body::Leave);
                }
                self.stopped = true;
                self.events.push_back(CoreEvent::Stopped);
            }
        }
    }

    fn say(&mut self, now: Instant, to: Vec<Target>, text: String, kind: MessageKind) {
        if kind != MessageKind::Beep && text.trim().is_empty() {
            return self.error("nothing to send");
        }
        if text.len() > MAX_TEXT {
            return self.error(format!(
                "the text is {} bytes; the limit is {MAX_TEXT}",
                text.len()
            ));
        }
        if to.is_empty() {
            return self.error("no recipient");
        }
        let mut chats = Vec::new();
        for target in &to {
            let chat = match target {
                Target::Channel(name) => match channel_name(name) {
                    Ok(name) if self.channels.joined.contains_key(&name) => Chat::Channel(name),
                    Ok(name) => {
                        return self.error(format!("you are not in {name}; /join {name} first"));
                    }
                    Err(err) => return self.error(format!("{name}: {err}")),
                },
                person => match self.peers.resolve(person, self.me()) {
                    Ok(id) if id == self.id => return self.error("that is you"),
                    Ok(id) => Chat::Direct(id),
                    Err(err) => return self.error(err),
                },
            };
            if kind == MessageKind::Beep && matches!(chat, Chat::Channel(_)) {
                return self.error("a beep goes to a person, not a channel");
            }
            if !chats.contains(&chat) {
                chats.push(chat);
            }
        }
        let id = MsgId::from_bits(self.rng.u128(..));
        let lan_now = self.lan_wall_ms(now);
        let hlc = self.hlc.stamp(lan_now);
        for chat in chats {
            let mut author = None;
            match &chat {
                Chat::Channel(name) => {
                    let signed = self.keys.sign_message(name, id, hlc, kind, &text);
                    author = Some(signed);
                    self.send_channel(now, name, id, hlc, kind, &text, signed);
                }
                Chat::Direct(peer) => {
                    if let Err(err) = self.outbox.push(
                        now,
                        &self.timing,
                        *peer,
                        Draft {
                            id,
                            hlc,
                            kind,
                            text: &text,
                        },
                    ) {
                        return self.error(err);
                    }
                    if self.peers.get(*peer).is_none() {
                        self.events.push_back(CoreEvent::Queued { id, to: *peer });
                        // Mark it reported so going offline does not repeat it.
                        self.outbox.peer_offline(*peer);
                    }
                }
            }
            self.events.push_back(CoreEvent::Sent {
                id,
                chat,
                text: text.clone(),
                kind,
                hlc,
                author,
            });
        }
        self.run_outbox(now);
    }

    /// Puts a direct message from an earlier life back in the outbox, with
    /// its id and stamp; reported queued while the recipient is away.
    fn resend(
        &mut self,
        now: Instant,
        id: MsgId,
        to: NodeId,
        text: &str,
        kind: MessageKind,
        hlc: u64,
    ) {
        if to == self.id || text.len() > MAX_TEXT {
            return;
        }
        let draft = Draft {
            id,
            hlc,
            kind,
            text,
        };
        if let Err(err) = self.outbox.push(now, &self.timing, to, draft) {
            return self.error(err);
        }
        if self.peers.get(to).is_none() {
            self.events.push_back(CoreEvent::Queued { id, to });
            self.outbox.peer_offline(to);
        }
        self.run_outbox(now);
    }

    /// Tells a chat that I am typing, at most once per
    /// [`Timing::typing_every`]. A chat that does not resolve (a channel I am
    /// not in, a person not online) is ignored without an error: this comes
    /// with every keystroke. One copy, by multicast for a channel: a lost
    /// notice is made good by the next.
    fn typing(&mut self, now: Instant, target: &Target) {
        let (chat, dest, notice) = match target {
            Target::Channel(name) => match channel_name(name) {
                Ok(name) if self.channels.joined.contains_key(&name) => (
                    Chat::Channel(name.clone()),
                    Dest::Multicast,
                    TypingChat::Channel(name),
                ),
                _ => return,
            },
            person => {
                let online = self
                    .peers
                    .resolve(person, self.me())
                    .ok()
                    .filter(|id| *id != self.id)
                    .and_then(|id| self.peers.get(id).map(|p| (id, p.addr)));
                let Some((id, addr)) = online else {
                    return;
                };
                (
                    Chat::Direct(id),
                    Dest::Unicast(addr),
                    TypingChat::Direct(id),
                )
            }
        };
        if self.typing.allow(&chat, now, self.timing.typing_every) {
            self.send(dest, Body::Typing { chat: notice });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn send_channel(
        &mut self,
        now: Instant,
        channel: &str,
        id: MsgId,
        hlc: u64,
        kind: MessageKind,
        text: &str,
        author: AuthorSig,
    ) {
        let kept = Kept {
            id,
            from: self.id,
            nick: self.presence.nick.clone(),
            kind,
            text: text.to_string(),
            hlc,
            arrived_ms: 0,
            author: Some(author),
        };
        // Offered to catch-up only once sent: a comparison must not hand
        // out what still waits in the backlog, ahead of its own stream.
        self.unsent.insert(id, (channel.to_string(), kept));
        let pieces = wire::split_text(text);
        let parts = pieces.len() as u16;
        for (i, piece) in pieces.into_iter().enumerate() {
            self.backlog.push_back(ChannelMsg {
                channel: channel.to_string(),
                seq: 0,
                id,
                hlc,
                kind,
                part: i as u16,
                parts,
                text: piece.to_string(),
                sig: if i == 0 {
                    author.sig.to_vec()
                } else {
                    Vec::new()
                },
            });
        }
        self.release(now);
    }

    /// Sends the channel datagrams waiting in the backlog that the budget
    /// allows, numbering each as it goes (so my heartbeats' tails never
    /// name one not sent yet).
    fn release(&mut self, now: Instant) {
        let mut released = false;
        while !self.backlog.is_empty() && self.pacer.has(now, pace::GROUP_COPIES) {
            let Some(msg) = self.backlog.pop_front() else {
                break;
            };
            let unsent = self.unsent.remove(&msg.id);
            // A channel left meanwhile: what was said there is in history.
            let Some(joined) = self.channels.joined.get_mut(&msg.channel) else {
                continue;
            };
            let msg = joined.record(msg);
            if let Some((channel, kept)) = unsent {
                self.keep(now, &channel, kept);
            }
            self.send(Dest::Group, Body::Channel(msg));
            released = true;
        }
        if released {
            self.quick_beats = QUICK_BEATS.iter().map(|d| now + *d).collect();
            self.said_at = Some(now);
        }
    }

    fn join(&mut self, now: Instant, raw: &str, secret: Option<Secret>) {
        let name = match channel_name(raw) {
            Ok(n) => n,
            Err(err) => return self.error(format!("{raw}: {err}")),
        };
        if self.channels.joined.contains_key(&name) {
            return self.error(format!("you are already in {name}"));
        }
        if self.channels.joined.len() >= MAX_JOINED {
            return self.error(format!(
                "you are in {MAX_JOINED} channels already; /part one first"
            ));
        }
        let key = match secret {
            None if self.protected.known(&name, now) => {
                return self.error(format!("{name} has a password: /join {name} <password>"));
            }
            None => None,
            Some(secret) => match self.channel_key(&name, secret) {
                Ok(key) => Some(key),
                Err(err) => return self.error(err),
            },
        };
        self.channels.joined.insert(name.clone(), Joined::default());
        if let Some(key) = key {
            self.add_protected(&name, key);
        }
        self.sync_join(now, &name);
        self.events.push_back(CoreEvent::Joined {
            channel: name.clone(),
            id: self.id,
            nick: self.presence.nick.clone(),
        });
        // Members already known start their streams at their current tail
        // (a joiner gets what is said from now on) and tell us the topic.
        let members: Vec<(NodeId, u64, SocketAddr, u64, u64)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                p.presence
                    .channels
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| (*id, p.epoch, p.addr, c.tail, c.topic_stamp))
            })
            .collect();
        let mut asked = false;
        for (id, epoch, addr, tail, topic_stamp) in members {
            if let Some(s) = self.channels.stream((id, epoch, name.clone()), tail + 1) {
                s.saw_tail(tail);
            }
            if topic_stamp > 0 && !asked {
                asked = true;
                if let Some(joined) = self.channels.joined.get_mut(&name) {
                    joined.topic_asked = Some(now);
                }
                self.send(
                    Dest::Unicast(addr),
                    Body::TopicRequest {
                        channel: name.clone(),
                    },
                );
            }
        }
        self.announce_change(now);
    }

    /// The key of a password channel I may join.
    fn channel_key(&self, name: &str, secret: Secret) -> Result<ChannelKey, String> {
        if name == MAIN_CHANNEL {
            return Err(format!("{MAIN_CHANNEL} cannot have a password"));
        }
        if self.protected.keys.len() >= MAX_PROTECTED_JOINED {
            return Err(format!(
                "you are in {MAX_PROTECTED_JOINED} password channels already; /part one first"
            ));
        }
        let open = self
            .peers
            .iter()
            .any(|(_, p)| p.presence.open_channels().iter().any(|c| c.name == name));
        if open {
            return Err(format!(
                "{name} is an open channel; /join {name} without a password, or choose another name"
            ));
        }
        match secret {
            Secret::Key(key) => Ok(key),
            Secret::Password(password) => ChannelKey::derive(name, &password)
                .map_err(|_| format!("a password for {name} cannot be empty")),
        }
    }

    fn part(&mut self, now: Instant, raw: &str) {
        let name = match channel_name(raw) {
            Ok(n) => n,
            Err(err) => return self.error(format!("{raw}: {err}")),
        };
        if name == MAIN_CHANNEL {
            return self.error(format!("{MAIN_CHANNEL} cannot be left"));
        }
        if self.channels.joined.remove(&name).is_none() {
            return self.error(format!("you are not in {name}"));
        }
        self.channels.forget_channel(&name);
        self.remove_protected(&name);
        self.sync_part(&name);
        self.events.push_back(CoreEvent::Parted {
            channel: name,
            id: self.id,
            nick: self.presence.nick.clone(),
        });
        self.announce_change(now);
    }

    fn set_topic(&mut self, now: Instant, raw: &str, text: String) {
        let name = match channel_name(raw) {
            Ok(n) => n,
            Err(err) => return self.error(format!("{raw}: {err}")),
        };
        let Some(current) = self.channels.joined.get(&name).map(Joined::topic_stamp) else {
            return self.error(format!("you are not in {name}"));
        };
        if text.len() > MAX_TOPIC {
            return self.error(format!("a topic is at most {MAX_TOPIC} bytes"));
        }
        // A new topic replaces the one seen, even if that was stamped by a
        // clock far ahead (which would otherwise win for as long).
        let stamp = self
            .hlc
            .stamp(self.wall_ms(now))
            .max(current.saturating_add(1));
        let topic = TopicInfo {
            channel: name,
            text: text.trim().to_string(),
            stamp,
            setter: self.id,
            setter_nick: self.presence.nick.clone(),
        };
        self.on_topic(topic.clone());
        self.send(Dest::Group, Body::Topic(topic));
        self.announce_change(now);
    }

    fn set_nick(&mut self, now: Instant, nick: String) {
        let nick = nick.trim().to_string();
        if !valid_nick(&nick) {
            return self.error(format!(
                "\"{nick}\" is not a valid nick: 1 to {} bytes, no spaces, commas, '@' or leading '#'",
                crate::types::MAX_NICK
            ));
        }
        if nick == self.presence.nick {
            return;
        }
        let old = std::mem::replace(&mut self.presence.nick, nick.clone());
        self.events.push_back(CoreEvent::NickChanged {
            id: self.id,
            old,
            new: nick,
        });
        self.announce_change(now);
    }

    fn channel_list(&self) -> Vec<ChannelSummary> {
        let mut map: std::collections::BTreeMap<String, ChannelSummary> =
            std::collections::BTreeMap::new();
        for (name, j) in &self.channels.joined {
            map.insert(
                name.clone(),
                ChannelSummary {
                    name: name.clone(),
                    members: 1,
                    topic: j.topic.as_ref().map(|t| t.text.clone()),
                    joined: true,
                    protected: self.protected.keys.contains_key(name),
                },
            );
        }
        for (_, p) in self.peers.iter() {
            let public = p.presence.open_channels().len();
            for (i, c) in p.presence.channels.iter().enumerate() {
                map.entry(c.name.clone())
                    .and_modify(|s| s.members += 1)
                    .or_insert_with(|| ChannelSummary {
                        name: c.name.clone(),
                        members: 1,
                        topic: None,
                        joined: false,
                        protected: i >= public,
                    });
            }
        }
        for (name, _) in self.protected.heard_lately(self.last_now) {
            map.entry(name.clone())
                .and_modify(|s| s.protected = true)
                .or_insert_with(|| ChannelSummary {
                    name: name.clone(),
                    members: 0,
                    topic: None,
                    joined: false,
                    protected: true,
                });
        }
        map.into_values().collect()
    }
}
