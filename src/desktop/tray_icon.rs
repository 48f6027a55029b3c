//! The tray icon's pixmaps: the shipped icon, optionally with an unread badge.
//!
//! The icon comes from `assets/tray-*.argb` (made by `assets/make_assets.py`):
//! raw ARGB32 in network byte order, straight alpha, which is what a
//! StatusNotifierItem sends. The badge is drawn here, so it needs no asset
//! per size and state.

// Only the Linux and Windows trays use this; the tests run everywhere.
#![cfg_attr(not(any(target_os = "linux", windows)), allow(dead_code))]

/// The shipped pixmaps: (side in pixels, ARGB32 bytes).
const SHIPPED: [(usize, &[u8]); 4] = [
    (22, include_bytes!("../../assets/tray-22.argb")),
    (32, include_bytes!("../../assets/tray-32.argb")),
    (48, include_bytes!("../../assets/tray-48.argb")),
    (64, include_bytes!("../../assets/tray-64.argb")),
];

/// Which badge the icon carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Badge {
    /// Nothing unread.
    None,
    /// Unread messages: a red dot.
    Unread,
    /// A mention or direct message: a larger orange dot.
    Attention,
}

impl Badge {
    /// The badge for an unread count and attention flag.
    pub(crate) fn for_unread(unread: usize, attention: bool) -> Badge {
        match (unread, attention) {
            (0, _) => Badge::None,
            (_, false) => Badge::Unread,
            (_, true) => Badge::Attention,
        }
    }

    /// Dot radius as a fraction of the icon side, and its colour (r, g, b).
    fn dot(self) -> Option<(f32, [u8; 3])> {
        match self {
            Badge::None => None,
            Badge::Unread => Some((0.18, [0xE5, 0x39, 0x35])),
            Badge::Attention => Some((0.24, [0xFF, 0x6D, 0x00])),
        }
    }
}

/// One square ARGB32 pixmap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pixmap {
    /// Width and height in pixels.
    pub(crate) side: usize,
    /// `side * side * 4` bytes, A R G B per pixel.
    pub(crate) argb: Vec<u8>,
}

/// The icon at every shipped size with `badge` drawn on.
pub(crate) fn pixmaps(badge: Badge) -> Vec<Pixmap> {
    SHIPPED
        .iter()
        .filter(|(side, bytes)| bytes.len() == side * side * 4)
        .map(|&(side, bytes)| {
            let mut p = Pixmap {
                side,
                argb: bytes.to_vec(),
            };
            draw_badge(&mut p, badge);
            p
        })
        .collect()
}

/// Draws the badge's dot in the top-right corner, with a white ring that
/// keeps it apart from the blue icon, anti-aliased by 4×4 supersampling.
fn draw_badge(p: &mut Pixmap, badge: Badge) {
    let Some((radius, colour)) = badge.dot() else {
        return;
    };
    let side = p.side as f32;
    let r_dot = radius * side;
    let r_ring = r_dot + (0.06 * side).max(1.0);
    let (cx, cy) = (side - r_ring, r_ring);
    const SS: usize = 4;
    for y in 0..p.side {
        for x in 0..p.side {
            let (mut dot, mut ring) = (0u32, 0u32);
            for sy in 0..SS {
                for sx in 0..SS {
                    let dx = x as f32 + (sx as f32 + 0.5) / SS as f32 - cx;
                    let dy = y as f32 + (sy as f32 + 0.5) / SS as f32 - cy;
                    let d2 = dx * dx + dy * dy;
                    if d2 <= r_dot * r_dot {
                        dot += 1;
                    } else if d2 <= r_ring * r_ring {
                        ring += 1;
                    }
                }
            }
            if dot + ring == 0 {
                continue;
            }
            let n = (SS * SS) as f32;
            let i = (y * p.side + x) * 4;
            // "Over" compositing of the badge (white ring + dot) onto the pixel.
            let cover = (dot + ring) as f32 / n;
            let src = [0, 1, 2].map(|c| {
                (f32::from(colour[c]) * dot as f32 + 255.0 * ring as f32) / (dot + ring) as f32
            });
            let dst_a = f32::from(p.argb[i]) / 255.0;
            let out_a = cover + dst_a * (1.0 - cover);
            for (channel, s) in p.argb[i + 1..i + 4].iter_mut().zip(src) {
                let dst = f32::from(*channel);
                let v = (s * cover + dst * dst_a * (1.0 - cover)) / out_a;
                *channel = v.round().clamp(0.0, 255.0) as u8;
            }
            p.argb[i] = (out_a * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(p: &Pixmap, x: usize, y: usize) -> [u8; 4] {
        let i = (y * p.side + x) * 4;
        [p.argb[i], p.argb[i + 1], p.argb[i + 2], p.argb[i + 3]]
    }

    #[test]
    fn every_shipped_size_is_there_with_the_right_length() {
        let plain = pixmaps(Badge::None);
        let sides: Vec<usize> = plain.iter().map(|p| p.side).collect();
        assert_eq!(sides, [22, 32, 48, 64]);
        for p in &plain {
            assert_eq!(p.argb.len(), p.side * p.side * 4);
        }
    }

    #[test]
    fn icon_is_the_blue_bubble() {
        for p in pixmaps(Badge::None) {
            // Corners are transparent, the middle of the top edge of the body is opaque blue.
            assert_eq!(pixel(&p, 0, 0)[0], 0, "top-left corner at {}", p.side);
            assert_eq!(pixel(&p, p.side - 1, p.side - 1)[0], 0);
            let [a, r, g, b] = pixel(&p, p.side / 2, p.side / 5);
            assert_eq!(a, 255, "size {}", p.side);
            assert!(b > 200 && r < 60 && g < 140, "not blue: {r} {g} {b}");
        }
    }

    #[test]
    fn badges_change_pixels_only_in_the_top_right_corner() {
        let plain = pixmaps(Badge::None);
        let unread = pixmaps(Badge::Unread);
        let attention = pixmaps(Badge::Attention);
        for ((p, u), a) in plain.iter().zip(&unread).zip(&attention) {
            let changed = |q: &Pixmap| -> Vec<(usize, usize)> {
                (0..p.side)
                    .flat_map(|y| (0..p.side).map(move |x| (x, y)))
                    .filter(|&(x, y)| pixel(p, x, y) != pixel(q, x, y))
                    .collect()
            };
            let cu = changed(u);
            let ca = changed(a);
            assert!(!cu.is_empty(), "unread badge drew nothing at {}", p.side);
            assert!(ca.len() > cu.len(), "attention badge should be larger");
            for &(x, y) in cu.iter().chain(&ca) {
                assert!(
                    x >= p.side / 3 && y < p.side * 2 / 3,
                    "{x},{y} outside the corner"
                );
            }
            // The dot's centre is opaque and its colour: red, then orange.
            let c = |q: &Pixmap, badge: Badge| {
                let r = badge.dot().unwrap().0;
                let side = q.side as f32;
                let ring = r * side + (0.06 * side).max(1.0);
                pixel(q, (side - ring) as usize, ring as usize)
            };
            let [a_u, r_u, g_u, b_u] = c(u, Badge::Unread);
            assert_eq!(a_u, 255);
            assert!(
                r_u > 200 && g_u < 100 && b_u < 100,
                "unread not red: {r_u} {g_u} {b_u}"
            );
            let [a_a, r_a, g_a, b_a] = c(a, Badge::Attention);
            assert_eq!(a_a, 255);
            assert!(
                r_a > 200 && (80..200).contains(&g_a) && b_a < 60,
                "attention not orange"
            );
        }
    }

    #[test]
    fn badge_follows_count_and_attention() {
        assert_eq!(Badge::for_unread(0, false), Badge::None);
        assert_eq!(Badge::for_unread(0, true), Badge::None);
        assert_eq!(Badge::for_unread(3, false), Badge::Unread);
        assert_eq!(Badge::for_unread(1, true), Badge::Attention);
    }
}
