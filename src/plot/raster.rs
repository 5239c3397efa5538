//! The PNG scatter plot: our own small rasteriser (anti-aliased discs,
//! alpha blending, an embedded 8×8 bitmap font), encoded by the pure-Rust
//! `png` crate.

use super::{point_colours, viridis, Labels, Rgb, MAX_LEGEND, PALETTE};

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![[1.0; 3]; w * h],
        }
    }

    #[inline]
    fn blend(&mut self, x: i64, y: i64, c: Rgb, a: f32) {
        if x < 0 || y < 0 || x >= self.w as i64 || y >= self.h as i64 || a <= 0.0 {
            return;
        }
        let p = &mut self.px[y as usize * self.w + x as usize];
        for k in 0..3 {
            p[k] = p[k] * (1.0 - a) + (c[k] as f32 / 255.0) * a;
        }
    }

    fn disc(&mut self, cx: f64, cy: f64, r: f64, c: Rgb, alpha: f32) {
        if r < 0.8 {
            // Sub-pixel points: one pixel whose opacity carries the area.
            let a = alpha * ((std::f64::consts::PI * r * r) as f32).min(1.0);
            self.blend(cx.floor() as i64, cy.floor() as i64, c, a);
            return;
        }
        let (x0, x1) = ((cx - r - 1.0).floor() as i64, (cx + r + 1.0).ceil() as i64);
        let (y0, y1) = ((cy - r - 1.0).floor() as i64, (cy + r + 1.0).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt();
                let cov = (r + 0.5 - d).clamp(0.0, 1.0) as f32;
                if cov > 0.0 {
                    self.blend(x, y, c, alpha * cov);
                }
            }
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, w: usize, h: usize, c: Rgb, fill: bool) {
        for y in y0..(y0 + h).min(self.h) {
            for x in x0..(x0 + w).min(self.w) {
                if fill || y == y0 || y + 1 == y0 + h || x == x0 || x + 1 == x0 + w {
                    self.blend(x as i64, y as i64, c, 1.0);
                }
            }
        }
    }

    /// ASCII text from the embedded 8×8 font, `scale` pixels per font pixel.
    fn text(&mut self, x: usize, y: usize, s: &str, scale: usize, c: Rgb) {
        let mut cx = x;
        for ch in s.chars() {
            let code = if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            };
            let glyph = font8x8::legacy::BASIC_LEGACY[code];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits >> col & 1 == 1 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.blend(
                                    (cx + col * scale + dx) as i64,
                                    (y + row * scale + dy) as i64,
                                    c,
                                    1.0,
                                );
                            }
                        }
                    }
                }
            }
            cx += 8 * scale;
        }
    }

    fn png(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(self.w * self.h * 3);
        for p in &self.px {
            for v in p {
                data.push((v.clamp(0.0, 1.0) * 255.0).round() as u8);
            }
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.w as u32, self.h as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc.write_header().expect("PNG header to memory");
            wr.write_image_data(&data).expect("PNG data to memory");
        }
        out
    }
}

const TITLE_H: usize = 40;
const LEGEND_W: usize = 280;
const GREY: Rgb = [110, 110, 110];
const INK: Rgb = [20, 20, 20];

/// Point radius (pixels) and opacity for N points: large and opaque for a
/// hundred, sub-pixel and faint for a million, so dense regions stay legible.
fn point_style(n: usize) -> (f64, f32) {
    let n = n.max(1) as f64;
    let r = (3.5 * (1000.0 / n).powf(0.25)).clamp(0.6, 4.0);
    let a = ((3000.0 / n).powf(0.3)).clamp(0.15, 0.9);
    (r, a as f32)
}

/// A fixed pseudo-random drawing order, so no class is always on top.
fn draw_order(n: usize) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize)> = (0..n)
        .map(|i| {
            let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31), i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Maps coordinates into a panel with equal scales on both axes, data y
/// upward.
struct Frame {
    x0: f64,
    y_bottom: f64,
    lo: [f64; 2],
    scale: f64,
}

impl Frame {
    fn fit(
        origin: (usize, usize),
        size: (usize, usize),
        pts: impl Iterator<Item = [f64; 2]>,
    ) -> Frame {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for p in pts {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        if !(lo[0].is_finite() && lo[1].is_finite()) {
            lo = [0.0; 2];
            hi = [1.0; 2];
        }
        let pad = 14.0;
        let span = [(hi[0] - lo[0]).max(1e-12), (hi[1] - lo[1]).max(1e-12)];
        let avail = [size.0 as f64 - 2.0 * pad, size.1 as f64 - 2.0 * pad - 16.0];
        let scale = (avail[0] / span[0]).min(avail[1] / span[1]);
        let used = [span[0] * scale, span[1] * scale];
        let x0 = origin.0 as f64 + pad + (avail[0] - used[0]) / 2.0;
        let y0 = origin.1 as f64 + pad + (avail[1] - used[1]) / 2.0;
        Frame {
            x0,
            y_bottom: y0 + used[1],
            lo,
            scale,
        }
    }

    fn map(&self, p: [f64; 2]) -> (f64, f64) {
        (
            self.x0 + (p[0] - self.lo[0]) * self.scale,
            self.y_bottom - (p[1] - self.lo[1]) * self.scale,
        )
    }
}

fn legend(c: &mut Canvas, x: usize, labels: Option<&Labels>) {
    let Some(l) = labels else { return };
    let top = TITLE_H + 10;
    if l.names.len() > MAX_LEGEND {
        if let Some(v) = &l.numeric {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let bar_h = (c.h - top - 40).min(400);
            for t in 0..bar_h {
                let col = viridis(1.0 - t as f64 / bar_h as f64);
                c.rect(x + 10, top + 20 + t, 24, 1, col, true);
            }
            c.text(x + 42, top + 20, &short(&format!("{hi}"), 20), 1, INK);
            c.text(
                x + 42,
                top + 12 + bar_h,
                &short(&format!("{lo}"), 20),
                1,
                INK,
            );
            c.text(x + 10, top, &format!("{} values", l.names.len()), 1, INK);
            return;
        }
    }
    let shown = l.names.len().min(MAX_LEGEND);
    let more = l.names.len() - shown;
    let rows = shown + (more > 0) as usize;
    let step = ((c.h - top - 10) / rows.max(1)).clamp(9, 22);
    let scale = if step >= 18 { 2 } else { 1 };
    for (i, name) in l.names.iter().take(shown).enumerate() {
        let y = top + i * step;
        let box_ = 8 * scale - 2;
        c.rect(x + 10, y, box_, box_, PALETTE[i % PALETTE.len()], true);
        c.text(
            x + 14 + box_,
            y,
            &short(name, if scale == 2 { 15 } else { 30 }),
            scale,
            INK,
        );
    }
    if more > 0 {
        c.text(
            x + 10,
            top + shown * step,
            &format!("... {more} more (colours repeat)"),
            1,
            INK,
        );
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 2).collect::<String>() + ".."
    }
}

/// Renders the embedding as a PNG: 2D one panel, 3D the three axis-pair
/// projections side by side, 1D one strip per label. Coloured by `labels`.
pub fn render_png<const D: usize>(y: &[[f64; D]], labels: Option<&Labels>, title: &str) -> Vec<u8> {
    let n = y.len();
    let colours = point_colours(n, labels);
    let (r, alpha) = point_style(n);
    let order = draw_order(n);
    let legend_w = if labels.is_some() { LEGEND_W } else { 0 };
    let mut canvas;
    match D {
        1 => {
            let strips = labels
                .map(|l| l.names.len().min(MAX_LEGEND))
                .unwrap_or(1)
                .max(1);
            let strip_h = (720 / strips).clamp(14, 120);
            let (w, h) = (1200, strip_h * strips + 28);
            canvas = Canvas::new(w + legend_w, h + TITLE_H);
            let lo = y.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
            let hi = y.iter().map(|p| p[0]).fold(f64::NEG_INFINITY, f64::max);
            let span = (hi - lo).max(1e-12);
            for s in 0..strips {
                canvas.rect(
                    8,
                    TITLE_H + s * strip_h,
                    w - 16,
                    strip_h,
                    [225, 225, 225],
                    false,
                );
            }
            for &i in &order {
                let strip = labels.map(|l| l.of[i] as usize % strips).unwrap_or(0);
                // Jitter inside the strip, fixed by the vertex id.
                let jit = ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64
                    / (1u64 << 24) as f64;
                let x = 20.0 + (y[i][0] - lo) / span * (w as f64 - 40.0);
                let yy = (TITLE_H + strip * strip_h) as f64 + 3.0 + jit * (strip_h as f64 - 6.0);
                canvas.disc(x, yy, r.min(strip_h as f64 / 4.0), colours[i], alpha);
            }
            canvas.text(20, TITLE_H + strips * strip_h + 10, "x1", 1, GREY);
        }
        2 => {
            let side = 900;
            canvas = Canvas::new(side + legend_w, side + TITLE_H);
            let f = Frame::fit(
                (0, TITLE_H),
                (side, side),
                y.iter().map(|p| [p[0], p[1 % D]]),
            );
            for &i in &order {
                let (px, py) = f.map([y[i][0], y[i][1 % D]]);
                canvas.disc(px, py, r, colours[i], alpha);
            }
            canvas.rect(4, TITLE_H, side - 8, side - 4, [225, 225, 225], false);
            canvas.text(12, TITLE_H + side - 16, "x1 / x2", 1, GREY);
        }
        _ => {
            let side = 640;
            canvas = Canvas::new(3 * side + legend_w, side + TITLE_H);
            for (pi, (a, b)) in [(0usize, 1usize), (0, 2), (1, 2)].into_iter().enumerate() {
                let (a, b) = (a % D, b % D);
                let f = Frame::fit(
                    (pi * side, TITLE_H),
                    (side, side),
                    y.iter().map(|p| [p[a], p[b]]),
                );
                for &i in &order {
                    let (px, py) = f.map([y[i][a], y[i][b]]);
                    canvas.disc(px, py, r * 0.85, colours[i], alpha);
                }
                canvas.rect(
                    pi * side + 4,
                    TITLE_H,
                    side - 8,
                    side - 4,
                    [225, 225, 225],
                    false,
                );
                canvas.text(
                    pi * side + 12,
                    TITLE_H + side - 16,
                    &format!("x{} / x{}", a + 1, b + 1),
                    1,
                    GREY,
                );
            }
        }
    }
    canvas.text(12, 12, &short(title, 100), 2, INK);
    let lx = canvas.w - legend_w;
    legend(&mut canvas, lx, labels);
    canvas.png()
}
