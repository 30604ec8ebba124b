//! The JSON API under `/api/v1`.

pub mod accounts;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod certificates;
pub mod data;
pub mod identifiers;
pub mod organisations;
pub mod resolution;
pub mod staff;
pub mod uploads;
