use crate::error::{Error, ErrorCode};
use crate::random::Rng;
use crate::secret::Secret;

/// A password that meets the complexity policy (Entra's: 8–256 characters and three of the
/// four classes upper case, lower case, digit, symbol).
#[derive(Debug, Clone)]
pub struct Password(Secret);

impl Password {
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let len = s.chars().count();
        let classes = [
            s.chars().any(|c| c.is_uppercase()),
            s.chars().any(|c| c.is_lowercase()),
            s.chars().any(|c| c.is_ascii_digit()),
            s.chars().any(|c| !c.is_alphanumeric()),
        ];
        if !(8..=256).contains(&len) || classes.iter().filter(|c| **c).count() < 3 || s.chars().any(char::is_control) {
            return Err(Error::new(ErrorCode::WeakPassword).with_target(field));
        }
        Ok(Self(Secret::new(s)))
    }

    /// A random temporary password of 16 characters with every class present, from the
    /// injected randomness source. It avoids look-alike characters because people copy it.
    pub fn generate(rng: &dyn Rng) -> Self {
        const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
        const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
        const DIGIT: &[u8] = b"23456789";
        const SYMBOL: &[u8] = b"!@#$%*-_=+?";
        let sets: [&[u8]; 4] = [UPPER, LOWER, DIGIT, SYMBOL];
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        let mut out = String::with_capacity(16);
        for (i, b) in bytes.iter().take(16).enumerate() {
            // The first four characters cover each class; the rest draw from all of them.
            let set = if i < 4 { sets[i % 4] } else { sets[usize::from(*b) % 4] };
            let idx = usize::from(bytes[16 + (i % 16)] ^ b) % set.len();
            out.push(char::from(set[idx]));
        }
        // Rotate so the class order is not predictable.
        let rot = usize::from(bytes[31]) % 16;
        let out: String = out.chars().cycle().skip(rot).take(16).collect();
        Self(Secret::new(out))
    }

    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

/// An argon2id hash in PHC string form.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Rng;
    use std::sync::atomic::{AtomicU8, Ordering};

    struct Counter(AtomicU8);
    impl Rng for Counter {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(37, Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn policy() {
        assert!(Password::parse("Passw0rd", "password").is_ok());
        assert!(Password::parse("password1!", "password").is_ok());
        for weak in ["short1A", "alllowercase", "ALLUPPER123", "12345678"] {
            let e = Password::parse(weak, "password").unwrap_err();
            assert_eq!(e.code, ErrorCode::WeakPassword);
            assert_eq!(e.target.as_deref(), Some("password"));
        }
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        let rng = Counter(AtomicU8::new(0));
        for _ in 0..200 {
            let p = Password::generate(&rng);
            assert_eq!(p.secret().expose().chars().count(), 16);
            Password::parse(p.secret().expose(), "password").unwrap();
        }
    }
}
