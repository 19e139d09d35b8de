//! Who may see and change a person's data, provably: the route × role × scope matrix,
//! consent, reassignment and referral, sessions, tokens, throttling, hostile input.

// Test code may unwrap: a panic is a failed test with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod keys;
mod matrix;
mod stories;
