//! A packet-aware man in the middle between the CP and a PD, able to lose
//! replies on purpose.

use cubby_osdp::codec::Decoder;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use tokio::net::TcpStream;

/// Handle to a running proxy.
#[derive(Clone)]
pub struct Proxy {
    drop_replies: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Proxy {
    /// Bridge a new in-memory CP stream to `pd`. Returns the CP's end.
    pub fn start(pd: TcpStream) -> (Proxy, DuplexStream) {
        let (cp_end, mine) = duplex(4096);
        let proxy = Proxy {
            drop_replies: Arc::new(AtomicUsize::new(0)),
            dropped: Arc::new(AtomicUsize::new(0)),
        };
        let (mut pd_rd, mut pd_wr) = pd.into_split();
        let (mut cp_rd, mut cp_wr) = tokio::io::split(mine);
        // CP -> PD: pass through.
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok(n) = cp_rd.read(&mut buf).await {
                if n == 0 || pd_wr.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        // PD -> CP: whole packets, some of them lost.
        let p = proxy.clone();
        tokio::spawn(async move {
            let mut dec = Decoder::new();
            let mut buf = [0u8; 512];
            while let Ok(n) = pd_rd.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                dec.push(&buf[..n]);
                while let Some(pkt) = dec.next_packet() {
                    let lose = p
                        .drop_replies
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
                        .is_ok();
                    if lose {
                        p.dropped.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                    if cp_wr.write_all(pkt.raw()).await.is_err() {
                        return;
                    }
                }
            }
        });
        (proxy, cp_end)
    }

    /// Lose the next `n` replies from the PD.
    pub fn lose_replies(&self, n: usize) {
        self.drop_replies.store(n, Ordering::SeqCst);
    }

    /// Replies lost so far.
    pub fn lost(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}
