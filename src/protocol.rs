//! The protocol core's API: what goes into [`crate::node::Node`] and what
//! comes out of it. Commands from a user, events for a user, datagrams for
//! the driver to send, the core's timing and its picture of the network.
//! Only protocol things: history, files and the network doctor are the
//! app's ([`crate::api`]), which wraps these.

use std::net::SocketAddr;
use std::time::Duration;

use crate::types::{Chat, MessageKind, MsgId, NodeId, Status};

/// How long a window shows "bob is typing…" after the last
/// [`CoreEvent::Typing`] from that person in that chat; a message from that
/// person in that chat clears it at once. Expiry is the window's job (the
/// core sends no "stopped typing"). Twice the default
/// [`Timing::typing_every`], so the indicator stays up while notices keep
/// coming even if one is lost.
pub const TYPING_SHOWN: Duration = Duration::from_secs(6);

/// Something a user asks the protocol core to do.
#[derive(Clone, Debug, PartialEq)]
pub enum CoreCommand {
    /// Send a text (or `/me` action) to one or more chats.
    Say {
        /// Channels and people; several people make a memo with one id.
        to: Vec<Target>,
        /// The text, at most [`crate::types::MAX_TEXT`] bytes.
        text: String,
        /// Text or action.
        kind: MessageKind,
    },
    /// Join (or create) a channel.
    Join {
        /// Channel name, with or without `#`.
        channel: String,
        /// For a password channel: its password, or the key remembered from
        /// an earlier join ([`CoreEvent::ChannelKey`]).
        secret: Option<Secret>,
    },
    /// Leave a channel (not `#Main`).
    Part {
        /// Channel name.
        channel: String,
    },
    /// Set a channel's topic.
    Topic {
        /// Channel name.
        channel: String,
        /// The new topic.
        text: String,
    },
    /// Change my nickname.
    Nick(String),
    /// Change my status and its text.
    Status {
        /// Available, away or do-not-disturb.
        status: Status,
        /// Free text, may be empty.
        text: String,
    },
    /// Ask a person for attention.
    Beep(Target),
    /// I am typing in this chat. Meant to be sent on every keystroke: the
    /// core sends at most one notice per chat every [`Timing::typing_every`]
    /// and ignores a chat it cannot reach (no error: it would come with
    /// every key).
    Typing(Target),
    /// Channel messages of earlier lives, read from the store at start:
    /// catch-up compares them with peers' and fetches only what is missing
    /// (the driver gives them; other commands may follow at once).
    Recall(Vec<ChatMessage>),
    /// List the people online.
    Who,
    /// List the channels known on the LAN.
    Channels,
    /// Send again a direct message of mine that was not delivered before
    /// this node restarted (the driver does this at start from the
    /// history database; it keeps its id, so the recipient can tell it was
    /// seen already). No `Sent` follows: it was shown when first sent.
    Resend {
        /// Its id.
        id: MsgId,
        /// The recipient.
        to: NodeId,
        /// The text.
        text: String,
        /// Text or action.
        kind: MessageKind,
        /// Its original HLC stamp.
        hlc: u64,
    },
    /// Reach a node at this address by unicast, for networks where the
    /// group does not (another subnet, blocked multicast and broadcast).
    /// The driver remembers it across restarts.
    AddPeer(SocketAddr),
    /// Stop trying an address added with [`CoreCommand::AddPeer`].
    ForgetPeer(SocketAddr),
    /// Leave the network gracefully.
    Quit,
}

/// Whom a command is about, as the user named it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A channel name, with its `#`.
    Channel(String),
    /// A nick, `nick#abcd` (nick and the start of the node id), or a node id.
    Person(String),
    /// A node, by id.
    Node(NodeId),
}

/// What a peer looks like to the user.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerInfo {
    /// Stable id.
    pub id: NodeId,
    /// Current life.
    pub epoch: u64,
    /// Display name as the peer set it.
    pub nick: String,
    /// `nick`, or `nick#abcd` when someone else online has the same nick.
    pub label: String,
    /// The peer's unicast socket.
    pub addr: SocketAddr,
    /// Available, away or do-not-disturb.
    pub status: Status,
    /// Status text.
    pub status_text: String,
    /// Host name.
    pub host: String,
    /// Program version.
    pub version: String,
    /// Wall time (ms since the Unix epoch) it came online.
    pub since_ms: u64,
    /// The channels it is in.
    pub channels: Vec<String>,
    /// Its public key (the node id is derived from it); compare
    /// [`crate::envelope::PublicKey::fingerprint`] to verify who it is.
    pub key: crate::envelope::PublicKey,
}

/// A message shown in a chat.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    /// Message id.
    pub id: MsgId,
    /// The channel, or the direct chat with the other party.
    pub chat: Chat,
    /// The author.
    pub from: NodeId,
    /// The author's nick when it was received.
    pub nick: String,
    /// Text or action.
    pub kind: MessageKind,
    /// The whole text, reassembled.
    pub text: String,
    /// Wall time of sending in ms since the Unix epoch, as the sender's clock
    /// said (clamped so a clock far ahead cannot move it into the future).
    pub time_ms: u64,
    /// Hybrid logical clock stamp: display order across senders is
    /// `(hlc, from)`.
    pub hlc: u64,
    /// A channel message's signature by its author (kept with it, so it
    /// can be handed on as history); `None` for direct messages.
    pub author: Option<crate::envelope::AuthorSig>,
}

/// A channel as `/channels` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelSummary {
    /// Name with `#`.
    pub name: String,
    /// People in it, me included.
    pub members: usize,
    /// Current topic, if any.
    pub topic: Option<String>,
    /// Whether I am in it.
    pub joined: bool,
    /// A password channel: only its members see who is in it (`members`
    /// counts me and the members I see; 0 when I am not in it).
    pub protected: bool,
}

/// What a user asked that cannot be done, and why: a mistake to tell in
/// the user's language ([`crate::i18n::Strings::refusal`]). The English
/// words here are what the headless mode prints.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An empty message.
    #[error("nothing to send")]
    NothingToSend,
    /// A message longer than the limit.
    #[error("the text is {len} bytes; the limit is {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A message to nobody.
    #[error("no recipient")]
    NoRecipient,
    /// Saying something in a channel I am not in.
    #[error("you are not in {0}; /join {0} first")]
    SayNotIn(String),
    /// A channel name that is no name.
    #[error("{raw}: {cause}")]
    BadChannel {
        /// As typed.
        raw: String,
        /// What is wrong with it.
        cause: crate::types::NameError,
    },
    /// A message or beep to myself.
    #[error("that is you")]
    ThatIsYou,
    /// A person's command naming a channel.
    #[error("{0} is a channel, not a person")]
    NotAPerson(String),
    /// Nobody known by that name.
    #[error("no one called {0} is known")]
    NoOneCalled(String),
    /// Several people by that nick.
    #[error("{} people are called {nick}: say which, e.g. {}", .labels.len(), .labels.join(", "))]
    WhichOne {
        /// The nick.
        nick: String,
        /// Their `nick#abcd` labels.
        labels: Vec<String>,
    },
    /// A beep to a channel.
    #[error("a beep goes to a person, not a channel")]
    BeepToChannel,
    /// Too many direct messages wait for delivery.
    #[error("too many messages wait for delivery; try again later")]
    OutboxFull,
    /// Joining a channel I am in.
    #[error("you are already in {0}")]
    AlreadyIn(String),
    /// Joining one channel too many.
    #[error("you are in {0} channels already; /part one first")]
    TooManyChannels(usize),
    /// Joining a password channel without its password.
    #[error("{0} has a password: /join {0} <password>")]
    NeedsPassword(String),
    /// A password for #Main.
    #[error("{} cannot have a password", crate::types::MAIN_CHANNEL)]
    MainNoPassword,
    /// Joining one password channel too many.
    #[error("you are in {0} password channels already; /part one first")]
    TooManyPasswordChannels(usize),
    /// A password for a channel that is open.
    #[error("{0} is an open channel; /join {0} without a password, or choose another name")]
    OpenChannel(String),
    /// An empty password.
    #[error("a password for {0} cannot be empty")]
    EmptyPassword(String),
    /// Leaving #Main.
    #[error("{} cannot be left", crate::types::MAIN_CHANNEL)]
    MainCannotBeLeft,
    /// Leaving, or naming the topic of, a channel I am not in.
    #[error("you are not in {0}")]
    NotIn(String),
    /// A topic longer than the limit.
    #[error("a topic is at most {0} bytes")]
    TopicTooLong(usize),
    /// A nick that is not one.
    #[error("\"{0}\" is not a valid nick: 1 to {max} bytes, no spaces, commas, '@' or leading '#'", max = crate::types::MAX_NICK)]
    BadNick(String),
    /// Adding one address too many.
    #[error("at most {0} addresses can be added")]
    TooManyAddresses(usize),
    /// Trusting someone not online (their key is learnt when they are).
    #[error("trust: that person is not online (their key is learnt when they are)")]
    TrustOffline,
    /// A file offer id that names no offer.
    #[error("no file offer {0} (/files lists them)")]
    NoSuchOffer(String),
    /// Answering or cancelling a file offer that is past it.
    #[error("the file offer {id} {state}")]
    OfferPast {
        /// The offer's id.
        id: String,
        /// Where it stands.
        state: OfferPast,
    },
}

impl Refusal {
    /// A channel name as typed, normalised ([`crate::types::channel_name`]),
    /// or the refusal that says what is wrong with it.
    pub fn channel(raw: &str) -> Result<String, Refusal> {
        crate::types::channel_name(raw).map_err(|cause| Refusal::BadChannel {
            raw: raw.to_string(),
            cause,
        })
    }
}

/// Where a file offer stands that is past what was asked of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfferPast {
    /// Accepted and coming in.
    #[error("is being received already")]
    Receiving,
    /// Received.
    #[error("was received already")]
    Received,
    /// Over (failed, declined or cancelled).
    #[error("has ended")]
    Ended,
    /// Accepted or declined before.
    #[error("was answered already")]
    Answered,
}

/// How far a direct message I sent got: [`CoreEvent::Sent`], then
/// [`CoreEvent::Queued`] while the recipient is away and
/// [`CoreEvent::Delivered`] once it has it. The history database keeps it
/// as its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmState {
    /// Sent, not acknowledged yet.
    Sending = 0,
    /// The recipient is away; it goes when they are back.
    Queued = 1,
    /// The recipient has it.
    Delivered = 2,
}

/// Why a peer went offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfflineReason {
    /// It said goodbye.
    Quit,
    /// It stopped answering.
    Timeout,
}

impl OfflineReason {
    /// The word used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            OfflineReason::Quit => "quit",
            OfflineReason::Timeout => "timeout",
        }
    }
}

/// What opens a password channel.
#[derive(Clone, Debug, PartialEq)]
pub enum Secret {
    /// The password, as typed (the key is derived from it and the name).
    Password(String),
    /// The key, as remembered from an earlier join.
    Key(crate::envelope::ChannelKey),
}

/// What the protocol core tells its user.
#[derive(Clone, Debug, PartialEq)]
pub enum CoreEvent {
    /// A peer came online, came back, or restarted.
    PeerOnline(PeerInfo),
    /// A channel message this node missed (it was away, or joined late),
    /// received from a peer that held it; to be shown in its place by its
    /// stamp, as history (a [`NodeHandle`](crate::net::NodeHandle) marks it
    /// `history`; the headless mode prints it as a `message` with
    /// `"history":true`).
    Recalled(ChatMessage),
    /// A peer went offline.
    PeerOffline {
        /// Who.
        id: NodeId,
        /// Its nick.
        nick: String,
        /// Quit or timeout.
        reason: OfflineReason,
    },
    /// A node speaks another wire version (an office upgrading one PC at a
    /// time): it is heard but cannot be read until one of the two is
    /// updated. Said once per address and version an hour.
    OtherVersion {
        /// Where it was heard.
        addr: SocketAddr,
        /// The version it speaks ([`crate::wire::VERSION`] is this one's).
        version: u8,
        /// The nick of the peer last online at that address, if any.
        nick: Option<String>,
    },
    /// Someone (maybe me) changed nick.
    NickChanged {
        /// Who.
        id: NodeId,
        /// Before.
        old: String,
        /// After.
        new: String,
    },
    /// Someone (maybe me) changed status.
    StatusChanged {
        /// Who.
        id: NodeId,
        /// Their nick.
        nick: String,
        /// New status.
        status: Status,
        /// New status text.
        text: String,
    },
    /// A message arrived.
    Message(ChatMessage),
    /// I sent a message (one event per chat it went to).
    Sent {
        /// Message id.
        id: MsgId,
        /// Where it went.
        chat: Chat,
        /// Its text.
        text: String,
        /// Text or action.
        kind: MessageKind,
        /// Its HLC stamp, for ordering beside received messages.
        hlc: u64,
        /// My signature of a channel message (kept with it for handing on).
        author: Option<crate::envelope::AuthorSig>,
    },
    /// A direct message reached its recipient.
    Delivered {
        /// Message id.
        id: MsgId,
        /// Recipient.
        to: NodeId,
    },
    /// A direct message could not be delivered yet; it is kept and retried
    /// when the recipient is seen again.
    Queued {
        /// Message id.
        id: MsgId,
        /// Recipient.
        to: NodeId,
    },
    /// Someone (maybe me) joined a channel I am in.
    Joined {
        /// Channel.
        channel: String,
        /// Who.
        id: NodeId,
        /// Their nick.
        nick: String,
    },
    /// I joined a password channel: the key to remember for joining it
    /// again at the next start without the password (comes before my
    /// [`CoreEvent::Joined`]).
    ChannelKey {
        /// Channel.
        channel: String,
        /// Its key.
        key: crate::envelope::ChannelKey,
    },
    /// Someone (maybe me) left a channel I am in.
    Parted {
        /// Channel.
        channel: String,
        /// Who.
        id: NodeId,
        /// Their nick.
        nick: String,
    },
    /// A channel's topic changed (or was learnt on joining).
    Topic {
        /// Channel.
        channel: String,
        /// The topic.
        text: String,
        /// Who set it.
        by: NodeId,
        /// Their nick then.
        nick: String,
    },
    /// Someone is typing in a chat of mine. Shown until [`TYPING_SHOWN`]
    /// after the last such event, or until a message of theirs arrives there.
    Typing {
        /// The channel, or the direct chat with the typist.
        chat: Chat,
        /// Who is typing.
        id: NodeId,
        /// Their nick.
        nick: String,
    },
    /// Someone beeped me.
    Beep {
        /// Who.
        from: NodeId,
        /// Their nick.
        nick: String,
    },
    /// Answer to [`CoreCommand::Who`].
    Who(Vec<PeerInfo>),
    /// Answer to [`CoreCommand::Channels`].
    Channels(Vec<ChannelSummary>),
    /// Messages that can no longer be had (their sender left before
    /// repairing them).
    Missed {
        /// The chat.
        chat: Chat,
        /// The sender.
        from: NodeId,
        /// How many datagrams were skipped.
        count: u64,
    },
    /// A command could not be done.
    Error(Refusal),
    /// The addresses tried by unicast changed ([`CoreCommand::AddPeer`],
    /// [`CoreCommand::ForgetPeer`]): all of them now.
    StaticPeers(Vec<SocketAddr>),
    /// The node has said goodbye; nothing more will come.
    Stopped,
}

/// Where the driver sends a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// Everyone: the multicast group and every interface's broadcast address.
    Group,
    /// Everyone, by the multicast group only (heartbeats alternate between
    /// the two ways to halve the idle cost).
    Multicast,
    /// Everyone, by every interface's broadcast address only.
    Broadcast,
    /// One peer's unicast socket.
    Unicast(SocketAddr),
}

/// A datagram for the driver to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub dest: Dest,
    /// The encoded datagram.
    pub bytes: Vec<u8>,
}

/// The protocol's timing, one place for every interval (tests shrink or
/// stretch none of them; they are the product's figures).
#[derive(Clone, Debug)]
pub struct Timing {
    /// Mean heartbeat interval.
    pub heartbeat: Duration,
    /// Heartbeat jitter, as a fraction of the interval (±).
    pub jitter: f64,
    /// Delays of the start-up announces after start.
    pub announces: Vec<Duration>,
    /// Silence after which a peer is suspected and probed: two and a half
    /// heartbeats, so that one lost heartbeat (common under loss, and
    /// common among many peers) is not a suspicion.
    pub suspect_after: Duration,
    /// Silence after which a peer is declared offline.
    pub offline_after: Duration,
    /// Interval between direct probes of a suspect.
    pub probe_interval: Duration,
    /// Helpers asked for an indirect probe each round.
    pub indirect_probes: usize,
    /// Longest random wait before the first repair request for a gap.
    pub nack_delay: Duration,
    /// First wait before asking again for a gap; grows by half per try.
    pub nack_retry: Duration,
    /// Longest wait between repair requests.
    pub nack_retry_max: Duration,
    /// First direct-message retransmission timeout; grows by a quarter per try.
    pub dm_rto: Duration,
    /// Longest retransmission timeout.
    pub dm_rto_max: Duration,
    /// Unacknowledged tries after which a direct message is reported queued.
    pub dm_tries_before_queued: u32,
    /// Least time between two typing notices for one chat, however often
    /// [`CoreCommand::Typing`] comes; well under [`TYPING_SHOWN`], so one lost
    /// notice does not make the indicator flicker.
    pub typing_every: Duration,
    /// Mean time between two catch-up comparisons of a channel with a peer.
    pub sync_every: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Timing {
            heartbeat: ms(1000),
            jitter: 0.2,
            announces: vec![
                ms(0),
                ms(60),
                ms(150),
                ms(300),
                ms(450),
                ms(600),
                ms(750),
                ms(900),
                ms(2000),
            ],
            suspect_after: ms(2500),
            offline_after: ms(5000),
            probe_interval: ms(300),
            indirect_probes: 3,
            nack_delay: ms(30),
            nack_retry: ms(100),
            nack_retry_max: ms(1000),
            dm_rto: ms(200),
            dm_rto_max: ms(3200),
            dm_tries_before_queued: 10,
            typing_every: ms(3000),
            sync_every: ms(30_000),
        }
    }
}

/// What the core knows of the network.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreReport {
    /// Whether my own multicast came back to me lately (the group works
    /// here, at least on this host).
    pub own_multicast_back: bool,
    /// Whether my own broadcast came back to me lately.
    pub own_broadcast_back: bool,
    /// The peers online.
    pub peers: Vec<PeerReport>,
    /// Addresses added by hand (`--peer`) or learned from peers that no
    /// online peer answers from yet.
    pub unanswered: Vec<SocketAddr>,
    /// Datagrams dropped as malformed.
    pub malformed: u64,
    /// Datagrams dropped for a bad signature or a wrong key.
    pub forged: u64,
    /// Datagrams of another workgroup (or the open LAN in a workgroup).
    pub foreign: u64,
    /// Datagrams dropped by the rate limit.
    pub rate_limited: u64,
    /// Nodes heard in the last minute that speak another wire version:
    /// address, version, and the nick of the peer last online there.
    pub other_versions: Vec<(SocketAddr, u8, Option<String>)>,
    /// How far this computer's clock is from the LAN's, in ms (positive:
    /// ahead); messages are stamped by the LAN's time.
    pub clock_off_ms: i64,
}

/// One online peer, as the core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerReport {
    /// Its id.
    pub id: NodeId,
    /// Its label (nick, or nick#abcd when two share it).
    pub label: String,
    /// The addresses it was heard from (the one in use first).
    pub addrs: Vec<SocketAddr>,
    /// Whether its group traffic (multicast or broadcast) reaches me.
    pub by_group: bool,
    /// Whether it answers what I send it: `None` while not known yet.
    pub hears_me: Option<bool>,
    /// Whether I send it my group traffic by unicast too (it does not get
    /// it by the group).
    pub relayed: bool,
    /// How far its clock is from the LAN's, in ms (positive: ahead), from
    /// its signed presences; `None` until one came.
    pub clock_off_ms: Option<i64>,
}
