//! Domain core of onetrip: types and rules only.
//!
//! No IO, no async, no clocks: time and randomness are passed in by the caller.
//! Every error type here implements [`Localized`] so that the web layer can render it
//! as `application/problem+json` with a stable code and messages in zh-CN and en.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod calendar;
pub mod case;
pub mod catalog;
pub mod certificate;
pub mod form;
pub mod identifiers;
pub mod identity;
pub mod registry;
pub mod resolution;
pub mod sharing;
pub mod sso;

/// An error or finding that can be shown to a person in Chinese and English.
///
/// `code` is stable: clients and tests match on it, so it never changes once published.
pub trait Localized {
    /// Stable machine-readable code, `snake_case` (for example `resident_id_checksum`).
    fn code(&self) -> &'static str;
    /// Message in Simplified Chinese.
    fn message_zh(&self) -> String;
    /// Message in English.
    fn message_en(&self) -> String;
}
