//! The randomness port, apart from the other ports so that typed ids (which draw random
//! UUIDs) depend on nothing above them.

/// A cryptographically secure randomness source, injected for deterministic tests.
pub trait Rng: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}
