//! In-process HTTP tests of the onetrip web crate: every request goes through the real router
//! (`tower::ServiceExt::oneshot`) over a fresh application with the demo catalog.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
mod explore;
