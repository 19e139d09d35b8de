//! The Prakerja journey: stages as events, scheme rules as data, eligibility advice, the
//! benefits ledger, assistance sessions, the follow-up list, the timeline and the funnel.

pub mod api;
pub mod demo;
pub mod funnel;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
pub mod texts;
