//! One file-transfer connection: the handshake, then encrypted frames.
//!
//! ```text
//! handshake (each side, plain):  "LCF1" | public key (32) | random (32)
//! frame (encrypted):             length (u32 LE) | ChaCha20-Poly1305(kind (1) | body) | tag (16)
//! ```
//!
//! Both sides derive the connection's keys from the X25519 secret of their
//! two node keys (as for direct messages) and both randoms
//! ([`Keys::stream_keys`]). Only the holder of the claimed key can read or
//! write a frame, so the first frame that opens is the proof of who is on
//! the other end; the client also checks that the server's key is the
//! sender's. Frames are numbered per direction (the nonce); a frame that
//! is changed, dropped or replayed fails to open and ends the connection.
//!
//! Generic over the stream, so the tests run it on an in-memory pipe.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::FileId;
use crate::envelope::{Keys, PublicKey, StreamKey};
use crate::types::NodeId;

const MAGIC: &[u8; 4] = b"LCF1";
const HELLO_LEN: usize = 68;
const TAG_LEN: usize = 16;
const KIND_CONTROL: u8 = 0;
const KIND_DATA: u8 = 1;

/// Bytes of file data in one frame.
pub const CHUNK: usize = 256 * 1024;
/// Largest control frame a server reads (what a client may send).
pub const MAX_REQUEST: usize = 4 * 1024;
/// Largest frame a client reads: a data chunk, or a folder's listing.
pub const MAX_REPLY: usize = 4 * 1024 * 1024;

/// One file of an offer, as the listing gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Path inside the offer (`/`-separated; the file's name for a file).
    pub path: String,
    /// Bytes.
    pub size: u64,
}

/// Why a server will not serve a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// No such offer (withdrawn, or never made).
    Unknown,
    /// The offer was made to someone else.
    NotForYou,
    /// Too many transfers at once; come back later.
    Busy,
    /// The file changed or went away since it was offered.
    Changed,
    /// The sender cancelled the offer.
    Cancelled,
}

/// A frame that is not file data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Client: I want this offer (answered by `Listing` or `Refuse`).
    Open {
        /// The offer.
        id: FileId,
    },
    /// Server: the offer's files, in order.
    Listing {
        /// The files.
        entries: Vec<Entry>,
    },
    /// Client: send file `file` of the listing from byte `offset`.
    Get {
        /// Index in the listing.
        file: u32,
        /// First byte wanted.
        offset: u64,
    },
    /// Server: that file is complete; its SHA-256 over all of it.
    End {
        /// The hash.
        sha256: [u8; 32],
    },
    /// Client: I have every file, verified.
    Done,
    /// Client: I do not want this offer.
    Decline {
        /// The offer.
        id: FileId,
    },
    /// Either side: stop, this transfer is cancelled.
    Cancel,
    /// Server: no.
    Refuse(Refusal),
}

/// What a frame held.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A control message.
    Control(Control),
    /// File data (valid until the next read).
    Data(&'a [u8]),
}

/// Why a connection ended badly.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The socket failed or closed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The other side is not a lanchat node of this version.
    #[error("not a lanchat file connection")]
    Magic,
    /// The other side's key is not the one expected, or gives no secret.
    #[error("the other side is not who it should be")]
    WrongPeer,
    /// A frame did not open (changed, replayed, or the wrong keys).
    #[error("a frame failed authentication")]
    Forged,
    /// A frame is larger than allowed here.
    #[error("a frame of {0} bytes is too large")]
    TooLarge(usize),
    /// A control frame does not decode.
    #[error("a frame does not decode")]
    Malformed,
    /// The system gave no random bytes for the session's keys.
    #[error("the system gives no randomness: {0}")]
    NoRandomness(getrandom::Error),
}

/// The control message a frame's body holds once it opened: exactly one,
/// decoded with a limit of [`MAX_REPLY`] bytes (nothing a peer sends makes
/// it allocate more).
pub fn decode_control(body: &[u8]) -> Result<Control, SessionError> {
    let config = bincode::config::standard().with_limit::<MAX_REPLY>();
    let (control, used) =
        bincode::serde::decode_from_slice(body, config).map_err(|_| SessionError::Malformed)?;
    if used != body.len() {
        return Err(SessionError::Malformed);
    }
    Ok(control)
}

/// The body of a control message's frame.
pub fn encode_control(control: &Control) -> Result<Vec<u8>, SessionError> {
    bincode::serde::encode_to_vec(control, bincode::config::standard())
        .map_err(|_| SessionError::Malformed)
}

/// The reading half of a connection.
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    key: StreamKey,
    counter: u64,
    buf: Vec<u8>,
    max: usize,
}

/// The writing half of a connection.
#[derive(Debug)]
pub struct Writer<W> {
    inner: W,
    key: StreamKey,
    counter: u64,
    buf: Vec<u8>,
}

/// My half of a connection's opening: magic, my key and 32 random bytes
/// from the OS (they make the session's keys fresh). Without the OS's
/// randomness there is no safe session, so no connection.
fn hello(keys: &Keys) -> Result<([u8; HELLO_LEN], [u8; 32]), SessionError> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(SessionError::NoRandomness)?;
    let mut out = [0u8; HELLO_LEN];
    out[..4].copy_from_slice(MAGIC);
    out[4..36].copy_from_slice(&keys.public().0);
    out[36..].copy_from_slice(&random);
    Ok((out, random))
}

fn parse_hello(bytes: &[u8; HELLO_LEN]) -> Result<(PublicKey, [u8; 32]), SessionError> {
    if &bytes[..4] != MAGIC {
        return Err(SessionError::Magic);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes[4..36]);
    let mut random = [0u8; 32];
    random.copy_from_slice(&bytes[36..]);
    Ok((PublicKey(key), random))
}

/// A connection's two halves, and who is on the other end.
pub type Halves<R, W> = (PublicKey, Reader<R>, Writer<W>);

/// Opens a connection to the node `expect` (the offer's sender).
pub async fn connect<R, W>(
    mut read: R,
    mut write: W,
    keys: &Keys,
    expect: NodeId,
) -> Result<Halves<R, W>, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mine, my_random) = hello(keys)?;
    write.write_all(&mine).await?;
    let mut theirs = [0u8; HELLO_LEN];
    read.read_exact(&mut theirs).await?;
    let (peer, their_random) = parse_hello(&theirs)?;
    if peer.id() != expect {
        return Err(SessionError::WrongPeer);
    }
    let salt = [my_random, their_random].concat();
    let (tx, rx) = keys
        .stream_keys(&peer, &salt)
        .ok_or(SessionError::WrongPeer)?;
    Ok(halves(peer, read, write, tx, rx, MAX_REPLY))
}

/// Answers a connection from anyone; who it is comes back with the halves
/// (proven once its first frame opens).
pub async fn accept<R, W>(
    mut read: R,
    mut write: W,
    keys: &Keys,
) -> Result<Halves<R, W>, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut theirs = [0u8; HELLO_LEN];
    read.read_exact(&mut theirs).await?;
    let (peer, their_random) = parse_hello(&theirs)?;
    let (mine, my_random) = hello(keys)?;
    write.write_all(&mine).await?;
    let salt = [their_random, my_random].concat();
    let (tx, rx) = keys
        .stream_keys(&peer, &salt)
        .ok_or(SessionError::WrongPeer)?;
    Ok(halves(peer, read, write, tx, rx, MAX_REQUEST))
}

fn halves<R, W>(
    peer: PublicKey,
    read: R,
    write: W,
    tx: StreamKey,
    rx: StreamKey,
    max: usize,
) -> Halves<R, W> {
    let reader = Reader {
        inner: read,
        key: rx,
        counter: 0,
        buf: Vec::new(),
        max,
    };
    let writer = Writer {
        inner: write,
        key: tx,
        counter: 0,
        buf: Vec::with_capacity(CHUNK + 64),
    };
    (peer, reader, writer)
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// The next frame.
    pub async fn next(&mut self) -> Result<Frame<'_>, SessionError> {
        let mut len = [0u8; 4];
        self.inner.read_exact(&mut len).await?;
        let len = u32::from_le_bytes(len) as usize;
        if len > self.max + 1 + TAG_LEN {
            return Err(SessionError::TooLarge(len));
        }
        if len < 1 + TAG_LEN {
            return Err(SessionError::Malformed);
        }
        self.buf.resize(len, 0);
        self.inner.read_exact(&mut self.buf).await?;
        let (body, tag) = self.buf.split_at_mut(len - TAG_LEN);
        let mut tag16 = [0u8; TAG_LEN];
        tag16.copy_from_slice(tag);
        if !self.key.open(self.counter, body, &tag16) {
            return Err(SessionError::Forged);
        }
        self.counter += 1;
        match body[0] {
            KIND_DATA => Ok(Frame::Data(&body[1..])),
            KIND_CONTROL => decode_control(&body[1..]).map(Frame::Control),
            _ => Err(SessionError::Malformed),
        }
    }

    /// The next frame, which must be a control message.
    pub async fn control(&mut self) -> Result<Control, SessionError> {
        match self.next().await? {
            Frame::Control(control) => Ok(control),
            Frame::Data(_) => Err(SessionError::Malformed),
        }
    }
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    /// Sends a control message.
    pub async fn send(&mut self, control: &Control) -> Result<(), SessionError> {
        let body = encode_control(control)?;
        self.frame(KIND_CONTROL, &body).await
    }

    /// Sends a piece of file data (at most [`CHUNK`] bytes).
    pub async fn data(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        self.frame(KIND_DATA, bytes).await
    }

    async fn frame(&mut self, kind: u8, body: &[u8]) -> Result<(), SessionError> {
        let len = 1 + body.len() + TAG_LEN;
        let len32 = u32::try_from(len).map_err(|_| SessionError::TooLarge(len))?;
        self.buf.clear();
        self.buf.extend_from_slice(&len32.to_le_bytes());
        self.buf.push(kind);
        self.buf.extend_from_slice(body);
        let tag = self.key.seal(self.counter, &mut self.buf[4..]);
        self.counter += 1;
        self.buf.extend_from_slice(&tag);
        self.inner.write_all(&self.buf).await?;
        Ok(())
    }

    /// Sends what is buffered and closes the writing side.
    pub async fn close(&mut self) {
        let _ = self.inner.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pipe = tokio::io::DuplexStream;
    type End = (
        Reader<tokio::io::ReadHalf<Pipe>>,
        Writer<tokio::io::WriteHalf<Pipe>>,
    );

    async fn pair(
        client: &Keys,
        server: &Keys,
        expect: NodeId,
    ) -> Result<(End, End), SessionError> {
        let (a, b) = tokio::io::duplex(1 << 20);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        let (c, s) = tokio::join!(connect(ar, aw, client, expect), accept(br, bw, server));
        let (server_key, cr, cw) = c?;
        let (client_key, sr, sw) = s?;
        assert_eq!(server_key, server.public());
        assert_eq!(client_key, client.public());
        Ok(((cr, cw), (sr, sw)))
    }

    fn keys() -> Keys {
        Keys::generate().expect("keys")
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn frames_cross_both_ways() {
        block_on(async {
            let (alice, bob) = (keys(), keys());
            let ((mut cr, mut cw), (mut sr, mut sw)) =
                pair(&alice, &bob, bob.id()).await.expect("pair");
            let id = FileId::random();
            cw.send(&Control::Open { id }).await.expect("send");
            assert_eq!(sr.control().await.expect("open"), Control::Open { id });
            let entries = vec![Entry {
                path: "a/b.txt".into(),
                size: 5 << 30,
            }];
            sw.send(&Control::Listing {
                entries: entries.clone(),
            })
            .await
            .expect("listing");
            sw.data(b"hello").await.expect("data");
            assert_eq!(
                cr.control().await.expect("listing"),
                Control::Listing { entries }
            );
            assert_eq!(cr.next().await.expect("data"), Frame::Data(b"hello"));
        });
    }

    #[test]
    fn a_server_with_another_key_is_refused() {
        block_on(async {
            let (alice, bob, mallory) = (keys(), keys(), keys());
            let got = pair(&alice, &mallory, bob.id()).await;
            assert!(matches!(got, Err(SessionError::WrongPeer)), "{got:?}");
        });
    }

    #[test]
    fn a_client_claiming_another_key_cannot_speak() {
        block_on(async {
            // Mallory sends Alice's public key but has only her own secret:
            // the server derives keys with Alice's, so her frame fails.
            let (alice, bob, mallory) = (keys(), keys(), keys());
            let (a, b) = tokio::io::duplex(1 << 16);
            let (mut ar, mut aw) = tokio::io::split(a);
            let (br, bw) = tokio::io::split(b);
            let server = tokio::spawn(async move {
                let (_, mut sr, _) = accept(br, bw, &bob).await.expect("accept");
                sr.control().await.map(|_| ())
            });
            let mut forged = [0u8; HELLO_LEN];
            forged[..4].copy_from_slice(MAGIC);
            forged[4..36].copy_from_slice(&alice.public().0);
            aw.write_all(&forged).await.expect("hello");
            let mut theirs = [0u8; HELLO_LEN];
            ar.read_exact(&mut theirs).await.expect("their hello");
            let (bob_key, their_random) = parse_hello(&theirs).expect("parse");
            let salt = [[0u8; 32], their_random].concat();
            let (tx, rx) = mallory.stream_keys(&bob_key, &salt).expect("keys");
            let (_, _, mut w) = halves(bob_key, ar, aw, tx, rx, MAX_REPLY);
            w.send(&Control::Open {
                id: FileId::random(),
            })
            .await
            .expect("send");
            let got = server.await.expect("join");
            assert!(matches!(got, Err(SessionError::Forged)), "{got:?}");
        });
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever a peer sends after the handshake that is not a frame
        /// sealed with the connection's key is an error, never a panic or
        /// a frame taken as good; and a real frame with any one bit flipped
        /// is refused.
        #[test]
        fn garbage_and_changed_frames_are_errors(
            garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            flip in proptest::prelude::any::<usize>(),
        ) {
            block_on(async {
                let (alice, bob) = (keys(), keys());
                let ((_, mut cw), (mut sr, _)) = pair(&alice, &bob, bob.id()).await.expect("pair");
                let mut sealed = Writer { inner: Vec::new(), key: cw.key.clone(), counter: 0, buf: Vec::new() };
                sealed.send(&Control::Done).await.expect("frame");
                let frame = sealed.inner;
                cw.inner.write_all(&garbage).await.expect("garbage");
                cw.close().await;
                proptest::prop_assert!(sr.next().await.is_err());
                let reader = |bytes: Vec<u8>| Reader {
                    inner: std::io::Cursor::new(bytes),
                    key: sr.key.clone(),
                    counter: 0,
                    buf: Vec::new(),
                    max: MAX_REQUEST,
                };
                let mut good = reader(frame.clone());
                proptest::prop_assert_eq!(good.control().await.expect("the frame as sent"), Control::Done);
                let mut changed = frame;
                let at = flip % changed.len();
                changed[at] ^= 1 << (flip / changed.len() % 8);
                proptest::prop_assert!(reader(changed).next().await.is_err());
                Ok(())
            })?;
        }
    }

    #[test]
    fn oversized_and_garbage_frames_end_the_connection() {
        block_on(async {
            let (alice, bob) = (keys(), keys());
            let ((_, mut cw), (mut sr, _)) = pair(&alice, &bob, bob.id()).await.expect("pair");
            cw.data(&vec![0u8; MAX_REQUEST + 1]).await.expect("send");
            assert!(matches!(sr.next().await, Err(SessionError::TooLarge(_))));
        });
    }
}
