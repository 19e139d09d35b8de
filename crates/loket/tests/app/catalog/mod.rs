//! The training catalogue: search quality on the demo catalogue, identical results on both
//! backends, all-or-nothing imports, the API and the officer pages.

mod balance;
mod files;
mod pages;
mod quality;
mod web_api;
