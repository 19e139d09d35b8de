//! Who may see and change a person's data, provably: the route × role × scope matrix,
//! consent, reassignment and referral, sessions, tokens, throttling, hostile input.

mod keys;
mod matrix;
mod stories;
