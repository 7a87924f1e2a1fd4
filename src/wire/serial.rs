//! Serial number arithmetic (RFC 1982 §3) for SOA serials.

use core::cmp::Ordering;

/// A 32-bit SOA serial compared with RFC 1982 arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Serial(pub u32);

impl Serial {
    /// Compares per RFC 1982 §3.2. Two serials exactly 2^31 apart are
    /// undefined; `None` then.
    pub fn partial_cmp_rfc1982(self, other: Serial) -> Option<Ordering> {
        let (a, b) = (self.0, other.0);
        if a == b {
            return Some(Ordering::Equal);
        }
        let d = b.wrapping_sub(a);
        if d == 1 << 31 {
            None
        } else if d < 1 << 31 {
            Some(Ordering::Less)
        } else {
            Some(Ordering::Greater)
        }
    }

    /// Whether `self` is newer than `other`.
    pub fn is_newer_than(self, other: Serial) -> bool {
        self.partial_cmp_rfc1982(other) == Some(Ordering::Greater)
    }

    /// Adds `n` (at most 2^31 - 1), per RFC 1982 §3.1.
    pub fn plus(self, n: u32) -> Serial {
        Serial(self.0.wrapping_add(n.min((1 << 31) - 1)))
    }
}

impl core::fmt::Display for Serial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around() {
        assert!(Serial(1).is_newer_than(Serial(0)));
        assert!(Serial(0).is_newer_than(Serial(u32::MAX)));
        assert!(Serial(5).is_newer_than(Serial(u32::MAX - 5)));
        assert!(!Serial(u32::MAX).is_newer_than(Serial(0)));
        assert!(!Serial(7).is_newer_than(Serial(7)));
        assert_eq!(Serial(0).partial_cmp_rfc1982(Serial(1 << 31)), None);
        assert!(Serial((1 << 31) - 1).is_newer_than(Serial(0)));
        assert_eq!(Serial(u32::MAX).plus(2), Serial(1));
    }
}
