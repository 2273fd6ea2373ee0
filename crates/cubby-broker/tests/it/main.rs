//! Integration tests for the embedded broker, driven by rumqttc's real client
//! (and raw sockets where a client must misbehave on purpose).

mod auth;
mod common;
mod limits;
mod protocol;
mod pubsub;
mod retained;
mod topics;
mod wills;
