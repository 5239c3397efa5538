//! Pictures of an embedding: a PNG scatter drawn by our own rasteriser (an
//! embedded 8×8 bitmap font, no system fonts or libraries) and a
//! self-contained interactive HTML page. Labels colour the points.

mod html;
mod raster;

use crate::error::{Error, Result};
pub use crate::io::labels::{Labels, MAX_LEGEND};
use crate::points::Points;

/// A PNG scatter plot of 1-, 2- or 3-dimensional coordinates: 2D one
/// panel, 3D the three axis-pair projections, 1D a strip per label.
pub fn render_png(coords: &Points, labels: Option<&Labels>, title: &str) -> Result<Vec<u8>> {
    Ok(match coords.d() {
        1 => raster::render_png(coords.rows::<1>(), labels, title),
        2 => raster::render_png(coords.rows::<2>(), labels, title),
        3 => raster::render_png(coords.rows::<3>(), labels, title),
        d => return Err(not_drawable(d)),
    })
}

/// A self-contained interactive HTML viewer of 1-, 2- or 3-dimensional
/// coordinates.
pub fn render_html(coords: &Points, labels: Option<&Labels>, title: &str) -> Result<String> {
    Ok(match coords.d() {
        1 => html::render_html(coords.rows::<1>(), labels, title),
        2 => html::render_html(coords.rows::<2>(), labels, title),
        3 => html::render_html(coords.rows::<3>(), labels, title),
        d => return Err(not_drawable(d)),
    })
}

fn not_drawable(d: usize) -> Error {
    Error::Input(format!(
        "cannot draw {d}-dimensional coordinates (1, 2 or 3)"
    ))
}

/// A colour as 8-bit RGB.
pub type Rgb = [u8; 3];

/// 30 distinguishable categorical colours (Tableau 20, then 10 more).
pub const PALETTE: [Rgb; 30] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
    [174, 199, 232],
    [255, 187, 120],
    [152, 223, 138],
    [255, 152, 150],
    [197, 176, 213],
    [196, 156, 148],
    [247, 182, 210],
    [199, 199, 199],
    [219, 219, 141],
    [158, 218, 229],
    [0, 0, 128],
    [128, 0, 0],
    [0, 128, 128],
    [128, 128, 0],
    [70, 240, 240],
    [240, 50, 230],
    [60, 180, 75],
    [255, 225, 25],
    [0, 0, 0],
    [170, 110, 40],
];

/// Viridis at t ∈ [0, 1], by linear interpolation of 6 stops.
pub fn viridis(t: f64) -> Rgb {
    const STOPS: [[f64; 3]; 6] = [
        [68.0, 1.0, 84.0],
        [65.0, 68.0, 135.0],
        [42.0, 120.0, 142.0],
        [34.0, 168.0, 132.0],
        [122.0, 209.0, 81.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    } * 5.0;
    let i = (t.floor() as usize).min(4);
    let f = t - i as f64;
    let mut c = [0u8; 3];
    for k in 0..3 {
        c[k] = (STOPS[i][k] * (1.0 - f) + STOPS[i + 1][k] * f).round() as u8;
    }
    c
}

/// Every point's colour: categorical up to [`MAX_LEGEND`] labels, a
/// continuous map when there are more and all are numbers, else the
/// palette repeated.
pub fn point_colours(n: usize, labels: Option<&Labels>) -> Vec<Rgb> {
    match labels {
        None => vec![PALETTE[0]; n],
        Some(l) => {
            if l.names.len() > MAX_LEGEND {
                if let Some(v) = &l.numeric {
                    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let span = if hi > lo { hi - lo } else { 1.0 };
                    return v.iter().map(|x| viridis((x - lo) / span)).collect();
                }
            }
            l.of.iter()
                .map(|&c| PALETTE[c as usize % PALETTE.len()])
                .collect()
        }
    }
}
