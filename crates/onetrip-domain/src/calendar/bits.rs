//! A set of days of one year, one bit per day, indexed by `day_of_year - 1`.
//!
//! 366 days fit in six `u64` words; counting and selecting working days is then a few
//! `count_ones` calls instead of a walk over dates.

/// Number of bits held (six words; days 366..384 are always clear).
pub(crate) const BITS: usize = 6 * 64;

/// One bit per day of a year; bit `i` is day-of-year `i + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct YearBits([u64; 6]);

/// Mask of the bits of word `w` whose global index lies in `lo..hi`.
fn word_mask(w: usize, lo: usize, hi: usize) -> u64 {
    let base = w * 64;
    let a = lo.saturating_sub(base).min(64);
    let b = hi.saturating_sub(base).min(64);
    if a >= b {
        return 0;
    }
    let upper = if b == 64 { u64::MAX } else { (1u64 << b) - 1 };
    // a < b <= 64, so a <= 63 and the shift cannot overflow.
    let lower = (1u64 << a) - 1;
    upper & !lower
}

impl YearBits {
    /// Whether day index `i` is set; out-of-range indices are clear.
    pub(crate) fn get(&self, i: usize) -> bool {
        self.0
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// Sets or clears day index `i`; out-of-range indices are ignored.
    pub(crate) fn set(&mut self, i: usize, value: bool) {
        if let Some(w) = self.0.get_mut(i / 64) {
            if value {
                *w |= 1u64 << (i % 64);
            } else {
                *w &= !(1u64 << (i % 64));
            }
        }
    }

    /// Number of set bits with index in `lo..hi`.
    pub(crate) fn count_range(&self, lo: usize, hi: usize) -> u32 {
        self.0
            .iter()
            .enumerate()
            .map(|(w, word)| (word & word_mask(w, lo, hi)).count_ones())
            .sum()
    }

    /// Index of the `k`-th (1-based) set bit whose index is `>= lo`, if there are `k` of them.
    pub(crate) fn nth_from(&self, lo: usize, k: u32) -> Option<usize> {
        if k == 0 {
            return None;
        }
        let mut k = k;
        for (w, word) in self.0.iter().enumerate() {
            let mut m = word & word_mask(w, lo, BITS);
            let c = m.count_ones();
            if k <= c {
                for _ in 1..k {
                    m &= m - 1; // m has at least k set bits, so it is non-zero here.
                }
                return Some(w * 64 + m.trailing_zeros() as usize);
            }
            k -= c;
        }
        None
    }
}

/// Monday–Friday bits of a year whose 1 January has weekday `jan1` (Monday = 0) and that has
/// `len` days.
const fn weekday_bits(jan1: usize, len: usize) -> YearBits {
    let mut words = [0u64; 6];
    let mut i = 0;
    while i < len {
        if (jan1 + i) % 7 < 5 {
            words[i / 64] |= 1u64 << (i % 64);
        }
        i += 1;
    }
    YearBits(words)
}

/// `WEEKDAYS[jan1][leap]`: Monday–Friday bits for every kind of year (7 first weekdays × 2
/// lengths), computed at compile time.
const WEEKDAYS: [[YearBits; 2]; 7] = {
    let mut table = [[YearBits([0; 6]); 2]; 7];
    let mut w = 0;
    while w < 7 {
        table[w][0] = weekday_bits(w, 365);
        table[w][1] = weekday_bits(w, 366);
        w += 1;
    }
    table
};

/// Monday–Friday bits of a year, given the weekday of its 1 January (Monday = 0, as from
/// `jiff::civil::Weekday::to_monday_zero_offset`) and whether it is a leap year.
pub(crate) fn weekdays_of_year(jan1_monday_zero: i8, leap: bool) -> YearBits {
    let row = usize::try_from(jan1_monday_zero.rem_euclid(7)).unwrap_or(0);
    WEEKDAYS
        .get(row)
        .and_then(|r| r.get(usize::from(leap)))
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_selection() {
        let mut b = YearBits::default();
        for i in [0, 5, 63, 64, 65, 200, 365] {
            b.set(i, true);
        }
        assert_eq!(b.count_range(0, BITS), 7);
        assert_eq!(b.count_range(1, 64), 2);
        assert_eq!(b.count_range(63, 65), 2);
        assert_eq!(b.count_range(66, 365), 1);
        assert_eq!(b.count_range(10, 10), 0);
        assert_eq!(b.nth_from(0, 1), Some(0));
        assert_eq!(b.nth_from(1, 1), Some(5));
        assert_eq!(b.nth_from(6, 3), Some(65));
        assert_eq!(b.nth_from(0, 7), Some(365));
        assert_eq!(b.nth_from(0, 8), None);
        assert_eq!(b.nth_from(366, 1), None);
        b.set(64, false);
        assert!(!b.get(64));
        assert!(b.get(65));
        assert!(!b.get(10_000));
    }

    #[test]
    fn weekday_table() {
        // 2024 starts on a Monday and is a leap year: 262 weekdays.
        let b = weekdays_of_year(0, true);
        assert_eq!(b.count_range(0, BITS), 262);
        assert!(b.get(0) && !b.get(5) && !b.get(6) && b.get(7));
        // 2023 starts on a Sunday: 260 weekdays.
        assert_eq!(weekdays_of_year(6, false).count_range(0, BITS), 260);
    }
}
