//! Fast tests of the server in the test's own process: the router on a fresh
//! SQLite store, the error-code contract and the layering rules. Process-level
//! tests (the real binary, brokers, agents, browsers) live in
//! `cubby-cli/tests/it`.

mod authority;
mod capacity;
mod carriers;
mod codes;
mod input;
mod lifecycle;
mod places;
mod support;
mod tidy;
mod trust;
mod web_guards;
