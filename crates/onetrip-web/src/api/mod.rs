//! The JSON API under `/api/v1`.

pub mod calendar;
pub mod catalog;
pub mod identifiers;
