//! In-process HTTP tests of the onetrip web crate: every request goes through the real router
//! (`tower::ServiceExt::oneshot`) over a fresh application (own SQLite file, demo catalog).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod account;
mod accounts;
mod admin;
mod authz;
mod calendar;
mod cases;
mod catalog;
mod certificates;
mod common;
mod counter;
mod data;
mod guide_versions;
mod identifiers;
mod ops;
mod pages;
mod partner;
mod portal;
mod resolution;
mod roles;
mod sso;
mod uploads;
mod validation_import;
mod work;
mod workbench;
