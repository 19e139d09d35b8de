//! The officer pages: over plain HTTP forms (on both backends) and in a real browser
//! (Debian's chromium through chromedriver).

mod axe;
mod browser;
mod crawl;
mod days;
mod forms;
mod lists;
mod pickers;
mod requests;
