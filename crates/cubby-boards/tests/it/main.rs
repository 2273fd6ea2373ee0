//! Integration tests for cubby-boards: one binary, one module per concern.

mod api;
mod board_sim;
mod codec_props;
mod faults;
#[cfg(unix)]
mod pty;
mod support;
mod tcp;
mod vectors;
