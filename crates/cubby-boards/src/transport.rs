//! Byte transports to a bank of boards.
//!
//! [`Board`](crate::Board) needs only `AsyncRead + AsyncWrite`, so:
//!
//! * **Local RS-485 adapter**: [`open_serial`] (8N1, no flow control).
//! * **Serial-to-TCP gateway** (the usual way to reach a bank from a
//!   computer that is not inside it): a plain `tokio::net::TcpStream`
//!   connected to the gateway's raw TCP port. Gateways pass bytes through
//!   unchanged; set the gateway's own serial side to the family's baud rate.
//! * **Tests**: `tokio::io::duplex`, or a pseudo-terminal from [`pty_pair`]
//!   when the serial path itself must be exercised.

use tokio_serial::{DataBits, FlowControl, Parity, SerialPortBuilderExt, SerialStream, StopBits};

use crate::BoardError;

/// Baud rate of Kerong boards, and the factory default of most 0x8A/XOR ones.
pub const DEFAULT_BAUD: u32 = 19_200;

/// Open a serial port at `baud`, 8 data bits, no parity, 1 stop bit, no flow
/// control, in exclusive mode so a second agent cannot interleave frames on
/// the same bus.
pub async fn open_serial(path: &str, baud: u32) -> Result<SerialStream, BoardError> {
    tokio_serial::new(path, baud)
        .data_bits(DataBits::Eight)
        .parity(Parity::None)
        .stop_bits(StopBits::One)
        .flow_control(FlowControl::None)
        .open_native_async()
        .map_err(|e| {
            let kind = std::io::Error::from(e.clone()).kind();
            BoardError::Io(std::io::Error::new(
                kind,
                format!("opening serial port {path}: {e}"),
            ))
        })
}

#[cfg(unix)]
pub use pty::{PtyDevice, pty_pair};

#[cfg(unix)]
mod pty {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio_serial::{SerialPort, SerialStream};

    /// The device ("board") side of a pseudo-terminal made by [`pty_pair`].
    ///
    /// Reads and writes go to the pty master. It also keeps one handle to the
    /// other side open: on Linux a master whose other side has no open handle
    /// reads as an error, so without it a simulator serving this device would
    /// fail whenever the program under test has not opened the path yet, or
    /// has closed and is reopening it. Drop it to tear the pair down.
    #[derive(Debug)]
    pub struct PtyDevice {
        master: SerialStream,
        _keep_open: SerialStream,
    }

    /// Make a pseudo-terminal pair: the returned [`PtyDevice`] is the board
    /// side (hand it to [`SimulatedBank::serve`](crate::SimulatedBank::serve)),
    /// the string is the path of the host side (e.g. `/dev/pts/7`), to be
    /// opened with [`open_serial`](crate::open_serial) by this process or by
    /// the agent binary under test.
    ///
    /// Must be called inside a tokio runtime (the handles register with its
    /// reactor). The underlying descriptors are not close-on-exec, so child
    /// processes inherit them; that is harmless for a test but means a child
    /// still running keeps the pair alive.
    pub fn pty_pair() -> io::Result<(PtyDevice, String)> {
        let (master, slave) = SerialStream::pair().map_err(io::Error::from)?;
        let path = slave.name().ok_or_else(|| {
            io::Error::other("pseudo-terminal has no device path (ptsname failed)")
        })?;
        Ok((
            PtyDevice {
                master,
                _keep_open: slave,
            },
            path,
        ))
    }

    impl AsyncRead for PtyDevice {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.master).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for PtyDevice {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.master).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.master).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.master).poll_shutdown(cx)
        }
    }
}
