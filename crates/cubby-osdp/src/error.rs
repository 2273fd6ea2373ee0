//! Crate error type.

use crate::codec::EncodeError;
use crate::proto::NakCode;
use crate::sc::ScError;
use std::sync::Arc;
use thiserror::Error;

/// Everything that can go wrong talking to a PD.
#[derive(Debug, Error, Clone)]
pub enum Error {
    /// The underlying stream failed.
    #[error("I/O error on the OSDP link: {0}")]
    Io(Arc<std::io::Error>),
    /// The stream reached end of file (e.g. the TCP peer closed).
    #[error("the OSDP link was closed by the peer")]
    Disconnected,
    /// No valid reply after all retries.
    #[error("PD at address {address} did not answer command {command:#04x} ({attempts} attempts)")]
    NoResponse {
        /// PD address.
        address: u8,
        /// Command code sent.
        command: u8,
        /// Transmissions made.
        attempts: u32,
    },
    /// The PD answered osdp_NAK where another reply was required.
    #[error("PD refused command {command:#04x}: {nak}")]
    Nak {
        /// Command code sent.
        command: u8,
        /// NAK reason.
        nak: NakCode,
    },
    /// The PD answered with a reply that makes no sense for the command.
    #[error("unexpected reply {reply:#04x} to command {command:#04x}")]
    UnexpectedReply {
        /// Command code sent.
        command: u8,
        /// Reply code received.
        reply: u8,
    },
    /// Secure channel setup or operation failed.
    #[error(transparent)]
    SecureChannel(#[from] ScError),
    /// The PD dropped the secure session (answered in plain text).
    #[error("PD dropped the secure channel (plain-text NAK: {0})")]
    SecureChannelLost(NakCode),
    /// A secure channel was requested but the PD does not offer one.
    #[error("PD does not support the secure channel (no communication-security capability)")]
    SecureChannelUnsupported,
    /// The PD is offline; the command was not sent.
    #[error("PD is offline")]
    Offline,
    /// An operation did not complete in its time bound.
    #[error("timed out")]
    Timeout,
    /// The panel task has stopped.
    #[error("the OSDP panel has shut down")]
    Closed,
    /// A packet could not be built.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Invalid configuration or argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(Arc::new(e))
    }
}
