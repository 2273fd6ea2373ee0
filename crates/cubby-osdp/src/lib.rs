//! # cubby-osdp
//!
//! The control-panel (CP) side of OSDP v2.2 (IEC 60839-11-5), including the
//! Secure Channel, for Cubby door controllers talking to card readers and
//! keypads over RS-485 or a TCP serial gateway.
//!
//! * [`codec`]: packet framing, CRC-16/checksum, incremental bounded decoder
//!   (pure, no IO).
//! * [`sc`]: secure channel crypto and handshake state (SCS_11..SCS_18).
//! * [`proto`]: command/reply codes, osdp_LED / osdp_BUZ records, keypad and
//!   card report parsing.
//! * [`OsdpPanel`]: an async session with one PD over any
//!   `AsyncRead + AsyncWrite + Unpin` stream: identification, secure channel,
//!   poll loop, retries, offline detection, events and commands.
//!
//! ```no_run
//! use cubby_osdp::{LedColor, LedCommand, OsdpPanel, PanelConfig, PanelEvent};
//! use std::time::Duration;
//!
//! # async fn demo(scbk: [u8; 16]) -> Result<(), cubby_osdp::Error> {
//! let stream = tokio::net::TcpStream::connect("127.0.0.1:4001").await?;
//! let (panel, mut events) = OsdpPanel::connect(stream, PanelConfig::secure(1, scbk)).await?;
//! while let Some(event) = events.recv().await {
//!     if let PanelEvent::Keypad { digits, .. } = event {
//!         let ok = digits == "1234#";
//!         let color = if ok { LedColor::Green } else { LedColor::Red };
//!         panel.led(LedCommand::flash(color, Duration::from_secs(2))).await?;
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod codec;
mod error;
mod panel;
pub mod proto;
pub mod sc;

pub use error::Error;
pub use panel::{
    CommandOutcome, LinkState, MAX_COMMAND_DATA, OfflineReason, OsdpPanel, PanelConfig, PanelEvent,
    PdInfo,
};
pub use proto::{
    BuzzerCommand, Capability, CardFormat, LedColor, LedCommand, LedPattern, LedPermanent,
    LedTemporary, NakCode, PdId, Tone,
};
pub use sc::{BaseKey, SCBK_D, ScError};
