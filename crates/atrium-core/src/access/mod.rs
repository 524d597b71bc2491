//! placeholder: written by the access helper
