//! Partner Center–style account access: the permission catalog, grants, and effective-access
//! evaluation with an explanation (spec `partner-center.md` §9, DESIGN R7 and R8).
//!
//! Pure functions over plain data: no storage, no clock. Services load a member's own grant and
//! its groups' grants, then call [`evaluate`] or [`covers`].

pub mod bench;
mod catalog;
mod evaluate;
mod grant;

pub use catalog::*;
pub use evaluate::*;
pub use grant::*;
