//! The finite network's mechanics, each on its own: a full send queue
//! holds the driver and loses nothing, a flood takes a switch slot per
//! port, a slow reader's socket overflows, a first unicast waits for ARP.

use std::time::{Duration, Instant};

use lanchat::envelope::{self, Way};
use lanchat::wire::{MAGIC, VERSION};

use super::net::buffers::Buffers;
use super::net::fabric::{Fabric, Frame, Out};
use super::net::{Faults, Sim};
use super::secs;

/// Room for everything unless a test says otherwise: a core each, fast
/// forwarding, big queues, no ARP.
fn roomy() -> Buffers {
    Buffers {
        send_queue: 1 << 30,
        line_rate: 1_000_000_000,
        switch_frames: 1 << 20,
        forward: Duration::from_micros(1),
        recv_queue: 1 << 30,
        cpu_fresh: Duration::from_micros(10),
        cpu_again: Duration::from_micros(1),
        cores: None,
        slice: Duration::from_millis(1),
        latency: Duration::from_micros(20),
        neighbours: false,
    }
}

/// A datagram-shaped frame of `len` bytes, stamped with `way`; `seq`
/// makes its end (what tells copies apart) its own.
fn datagram(len: usize, way: Way, seq: u8) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend([VERSION, 0]);
    b.resize(len, seq);
    envelope::stamp(&mut b, way);
    b
}

/// Runs the fabric until it has nothing to do, handing each forwarded copy
/// straight to its receiver; returns what it gave out.
fn drain(fabric: &mut Fabric, start: Instant) -> Vec<Out> {
    let mut outs = Vec::new();
    let mut now = start;
    while let Some(at) = fabric.next() {
        now = now.max(at);
        if let Some(out) = fabric.step(now) {
            if let Out::Forwarded { from, to, bytes } = &out {
                fabric.arrive(now, *to, *from, bytes.clone());
            }
            outs.push(out);
        }
        fabric.dispatch(now);
    }
    outs
}

fn forwarded(outs: &[Out]) -> Vec<(usize, usize)> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Forwarded { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

fn read(outs: &[Out]) -> Vec<(usize, usize)> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Read { host, from, .. } => Some((*from, *host)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_full_send_queue_holds_the_driver_and_loses_nothing() {
    // A line of 200 kbit/s with room for 2 frames: every start-up burst
    // waits in the driver.
    let buffers = Buffers {
        send_queue: 800,
        line_rate: 200_000,
        ..roomy()
    };
    let mut sim = Sim::with_buffers(7, Faults::none(), buffers);
    for i in 0..4 {
        sim.add(&format!("slow{i}"));
    }
    sim.run_until(secs(10.0));
    assert!(sim.waits > 0, "the send queues never filled");
    assert_eq!(sim.drops().total(), 0, "{:?}", sim.drops());
    for i in 0..4 {
        assert_eq!(sim.node(i).expect("alive").peers().len(), 3, "host {i}");
    }
}

#[test]
fn a_flood_takes_a_switch_slot_per_port() {
    let mut fabric = Fabric::new(Buffers {
        switch_frames: 10,
        ..roomy()
    });
    for _ in 0..21 {
        fabric.add_host(&[0]);
    }
    let start = Instant::now();
    fabric.send(
        start,
        Frame {
            from: 0,
            targets: (1..21).collect(),
            bytes: datagram(200, Way::Broadcast, 1),
            group: true,
        },
    );
    let outs = drain(&mut fabric, start);
    assert_eq!(
        forwarded(&outs),
        (1..11).map(|to| (0, to)).collect::<Vec<_>>()
    );
    assert_eq!(fabric.drops().switch, 10);
    assert_eq!(read(&outs).len(), 10);
}

#[test]
fn a_slow_reader_overflows_each_of_its_sockets() {
    let len = 200;
    let size = super::net::buffers::truesize(len);
    let mut fabric = Fabric::new(Buffers {
        recv_queue: 3 * size,
        cpu_fresh: Duration::from_secs(1),
        ..roomy()
    });
    for _ in 0..3 {
        fabric.add_host(&[0]);
    }
    let start = Instant::now();
    // Ten datagrams at once to host 2's unicast socket, ten to its group
    // socket: each socket takes what fits (it may go over by one).
    for seq in 0..10 {
        fabric.arrive(start, 2, 0, datagram(len, Way::Unicast, seq));
        fabric.arrive(start, 2, 1, datagram(len, Way::Multicast, 100 + seq));
    }
    let drops = fabric.drops();
    assert_eq!((drops.unicast_socket, drops.group_socket), (6, 6));
    fabric.dispatch(start);
    let outs = drain(&mut fabric, start);
    assert_eq!(read(&outs).len(), 8);
}

#[test]
fn a_first_unicast_waits_for_arp_and_the_next_does_not() {
    let mut fabric = Fabric::new(Buffers {
        neighbours: true,
        ..roomy()
    });
    for _ in 0..3 {
        fabric.add_host(&[0]);
    }
    let start = Instant::now();
    let unicast = |seq| Frame {
        from: 0,
        targets: vec![1],
        bytes: datagram(200, Way::Unicast, seq),
        group: false,
    };
    fabric.send(start, unicast(1));
    let outs = drain(&mut fabric, start);
    // The request flooded to both others, the reply, then the datagram.
    assert_eq!(forwarded(&outs), vec![(0, 1), (0, 2), (1, 0), (0, 1)]);
    assert_eq!(read(&outs), vec![(0, 1)]);
    // Host 1 learned host 0 from the request: its answer needs no ARP.
    fabric.send(start, unicast(2));
    fabric.send(
        start,
        Frame {
            from: 1,
            targets: vec![0],
            bytes: datagram(200, Way::Unicast, 3),
            group: false,
        },
    );
    let outs = drain(&mut fabric, start);
    assert_eq!(forwarded(&outs), vec![(0, 1), (1, 0)]);
    assert_eq!(fabric.drops().total(), 0);
}

#[test]
fn an_unanswered_arp_drops_what_waited() {
    let mut fabric = Fabric::new(Buffers {
        neighbours: true,
        ..roomy()
    });
    for _ in 0..2 {
        fabric.add_host(&[0]);
    }
    let start = Instant::now();
    for seq in 0..3 {
        fabric.send(
            start,
            Frame {
                from: 0,
                targets: vec![1],
                bytes: datagram(200, Way::Unicast, seq),
                group: false,
            },
        );
    }
    // Nothing reaches host 1 (its cable is out): the requests go unanswered.
    let mut now = start;
    let mut requests = 0;
    while let Some(at) = fabric.next() {
        now = now.max(at);
        if let Some(Out::Forwarded { .. }) = fabric.step(now) {
            requests += 1;
        }
        fabric.dispatch(now);
    }
    assert_eq!(requests, 3, "three tries");
    assert_eq!(fabric.drops().neighbour, 3);
    assert!(now - start >= Duration::from_secs(3));
}
