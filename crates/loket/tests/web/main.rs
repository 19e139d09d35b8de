//! The officer pages: over plain HTTP forms (on both backends) and in a real browser
//! (Debian's chromium through chromedriver).
// Test code may unwrap: a panic is a failed test with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod forms;
