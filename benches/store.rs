//! The history database at scale: insert throughput, and full-text search
//! over 1,000,000 stored messages (median and p99; goal ≤ 50 ms).
//!
//! `cargo bench --bench store` (`LANCHAT_STORE_MESSAGES` for another count).
//! The database is a file in the temp directory, WAL mode, as in use.

// A bench may stop on what it did not expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use lanchat::api::ChatMessage;
use lanchat::store::{Store, Stored, Write};
use lanchat::types::{Chat, MessageKind, MsgId, NodeId};

fn main() {
    let count: usize = std::env::var("LANCHAT_STORE_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("lanchat-bench-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut store = Store::open(&dir).expect("open");

    // A vocabulary with a few very common words and a long tail, in two
    // scripts, so queries hit from a handful to a large share of rows.
    let common = ["the", "and", "release", "build", "и", "релиз", "сборка"];
    let tail: Vec<String> = (0..20_000).map(|i| format!("w{i:05}")).collect();
    let mut rng = fastrand::Rng::with_seed(7);
    let chats: Vec<Chat> = (0..20)
        .map(|i| Chat::Channel(format!("#chan{i}")))
        .chain((0..20u8).map(|i| Chat::Direct(NodeId([i; 16]))))
        .collect();

    let start = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    for n in 0..count {
        let words = 4 + rng.usize(..12);
        let text: Vec<&str> = (0..words)
            .map(|_| {
                if rng.u8(..) < 90 {
                    common[rng.usize(..common.len())]
                } else {
                    // Skewed towards the start of the tail.
                    let i = (rng.f64().powi(3) * tail.len() as f64) as usize;
                    tail[i.min(tail.len() - 1)].as_str()
                }
            })
            .collect();
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(n as u64).to_le_bytes());
        batch.push(Write::Message(Stored {
            message: ChatMessage {
                id: MsgId(id),
                chat: chats[n % chats.len()].clone(),
                from: NodeId([(n % 50) as u8; 16]),
                nick: format!("user{}", n % 50),
                kind: MessageKind::Text,
                text: text.join(" "),
                time_ms: 1_700_000_000_000 + n as u64 * 1000,
                hlc: n as u64,
                // Channel messages keep their author's key and signature.
                author: Some(lanchat::envelope::AuthorSig {
                    key: lanchat::envelope::PublicKey([7; 32]),
                    sig: [9; 64],
                }),
            },
            dm_state: None,
        }));
        if batch.len() == 1000 {
            store.write(&batch).expect("write");
            batch.clear();
        }
    }
    store.write(&batch).expect("write");
    let took = start.elapsed();
    println!(
        "store insert: {count} messages in {:.1} s = {:.0} messages/s (batches of 1000, one transaction each)",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );

    let mut queries: Vec<String> = Vec::new();
    for i in 0..200 {
        queries.push(match i % 5 {
            0 => common[i % common.len()].to_string(),
            1 => tail[i * 7 % 200].clone(),
            2 => tail[5_000 + i * 13].clone(),
            3 => format!("{} {}", common[i % common.len()], tail[i % 500]),
            _ => "релиз сборка".to_string(),
        });
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        hits += store.search(q, 50).expect("search").len();
        times.push(t.elapsed());
    }
    times.sort();
    let pick = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "store search over {count} messages: median {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} queries, 50 newest hits each, {hits} hits)",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3,
        queries.len()
    );
    let size: u64 = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!("store size: {:.0} MB on disk", size as f64 / 1e6);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
