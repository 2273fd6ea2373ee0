//! Physical sizes and the 3-D fit test.

use serde::{Deserialize, Serialize};

/// Inner or outer size of a box in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dimensions {
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
}

/// Largest side we accept for anything (a 3 m parcel is a typo, not a parcel).
pub const MAX_SIDE_MM: u32 = 3_000;

impl Dimensions {
    pub fn new(width_mm: u32, height_mm: u32, depth_mm: u32) -> Self {
        Self {
            width_mm,
            height_mm,
            depth_mm,
        }
    }

    /// Every side positive and at most [`MAX_SIDE_MM`].
    pub fn is_valid(&self) -> bool {
        [self.width_mm, self.height_mm, self.depth_mm]
            .iter()
            .all(|&s| s > 0 && s <= MAX_SIDE_MM)
    }

    pub fn volume_mm3(&self) -> u64 {
        u64::from(self.width_mm) * u64::from(self.height_mm) * u64::from(self.depth_mm)
    }

    /// The six axis-aligned orientations of this box as (width, height, depth).
    pub fn orientations(&self) -> [(u32, u32, u32); 6] {
        let (a, b, c) = (self.width_mm, self.height_mm, self.depth_mm);
        [
            (a, b, c),
            (a, c, b),
            (b, a, c),
            (b, c, a),
            (c, a, b),
            (c, b, a),
        ]
    }

    /// Whether this box fits inside `inner` in some axis-aligned rotation.
    /// Sorting both side lists is equivalent to trying all six rotations.
    pub fn fits_in(&self, inner: &Dimensions) -> bool {
        let mut p = [self.width_mm, self.height_mm, self.depth_mm];
        let mut c = [inner.width_mm, inner.height_mm, inner.depth_mm];
        p.sort_unstable();
        c.sort_unstable();
        p.iter().zip(c.iter()).all(|(p, c)| p <= c)
    }

    /// The lowest height this box can be laid at with its footprint inside a
    /// `width × depth` floor, if any orientation fits that floor at all.
    pub fn lowest_height_on_floor(&self, width_mm: u32, depth_mm: u32) -> Option<u32> {
        self.orientations()
            .iter()
            .filter(|(w, _, d)| *w <= width_mm && *d <= depth_mm)
            .map(|(_, h, _)| *h)
            .min()
    }
}

/// Whether `parcels` can all stand in a compartment of size `inner`, stacked one on
/// another, each laid at its lowest height whose footprint fits the floor.
/// Stacking is a sufficient (not necessary) packing: a compartment it accepts can
/// really hold the parcels, which is what consolidation must guarantee.
pub fn stack_fits(parcels: &[Dimensions], inner: &Dimensions) -> bool {
    let mut total: u64 = 0;
    for parcel in parcels {
        match parcel.lowest_height_on_floor(inner.width_mm, inner.depth_mm) {
            Some(h) => total += u64::from(h),
            None => return false,
        }
    }
    total <= u64::from(inner.height_mm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_allowed() {
        let long = Dimensions::new(600, 50, 50);
        assert!(long.fits_in(&Dimensions::new(80, 380, 640)));
        assert!(!long.fits_in(&Dimensions::new(80, 380, 590)));
    }

    #[test]
    fn stacking_sums_lowest_heights() {
        let inner = Dimensions::new(380, 190, 640);
        let flat = Dimensions::new(300, 80, 400);
        assert!(stack_fits(&[flat, flat], &inner));
        assert!(!stack_fits(&[flat, flat, flat], &inner));
    }
}
