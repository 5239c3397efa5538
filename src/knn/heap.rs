//! A bounded max-heap of (distance, index), ordered lexicographically so
//! that ties resolve the same way every run.

#[derive(Clone, Debug)]
pub(crate) struct BoundedHeap {
    cap: usize,
    items: Vec<(f64, u32)>,
}

#[inline]
fn gt(a: (f64, u32), b: (f64, u32)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
}

impl BoundedHeap {
    pub(crate) fn new(cap: usize) -> Self {
        BoundedHeap {
            cap,
            items: Vec::with_capacity(cap),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    /// The largest distance kept, or +∞ while not full.
    #[inline]
    pub(crate) fn bound(&self) -> f64 {
        if self.items.len() < self.cap {
            f64::INFINITY
        } else {
            self.items[0].0
        }
    }

    /// Offers a candidate; returns true when it was kept.
    #[inline]
    pub(crate) fn push(&mut self, d: f64, j: u32) -> bool {
        let it = (d, j);
        if self.items.len() < self.cap {
            self.items.push(it);
            let mut c = self.items.len() - 1;
            while c > 0 {
                let p = (c - 1) / 2;
                if gt(self.items[c], self.items[p]) {
                    self.items.swap(c, p);
                    c = p;
                } else {
                    break;
                }
            }
            return true;
        }
        if !gt(self.items[0], it) {
            return false;
        }
        self.items[0] = it;
        let n = self.items.len();
        let mut p = 0;
        loop {
            let l = 2 * p + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && gt(self.items[r], self.items[l]) {
                r
            } else {
                l
            };
            if gt(self.items[c], self.items[p]) {
                self.items.swap(c, p);
                p = c;
            } else {
                break;
            }
        }
        true
    }

    /// The kept items, nearest first.
    pub(crate) fn sorted(&self) -> Vec<(f64, u32)> {
        let mut v = self.items.clone();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        v
    }

    pub(crate) fn items(&self) -> &[(f64, u32)] {
        &self.items
    }
}
