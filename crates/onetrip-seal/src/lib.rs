//! SM2/SM3 electronic seals (电子印章, GB/T 38540): canonical encoding of signed content,
//! signing behind a trait, and verification.
#![forbid(unsafe_code)]
