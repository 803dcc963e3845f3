//! Browser tests of the fake's Campaign Manager view: Debian's chromium, driven through
//! chromedriver, clicks through the pages as a user would, against a fake that a seeded run
//! has filled. Screenshots of every step land in `target/browser-screenshots/<test>/`.
//!
//! Run just these with `cargo test -p talon-harness --test browser`. Without chromium and
//! chromedriver every test here fails and says what to install (`.ci/test` installs them).

mod access;
mod catalog;
mod customers;
mod driver;
mod journal;
mod setup;
mod traffic;
