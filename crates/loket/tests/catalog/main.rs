//! The training catalogue: search quality on the demo catalogue, identical results on both
//! backends, all-or-nothing imports, the API and the officer pages.
// Test code may unwrap: a panic is a failed test with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod files;
mod pages;
mod quality;
mod web_api;
