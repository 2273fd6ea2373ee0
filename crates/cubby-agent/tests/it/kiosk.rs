//! The kiosk's HTTP server under slow and idle clients: it serves through
//! `cubby-http`, so a slowloris client and sockets that never speak are cut
//! off at the header deadline and the touchscreen page is still served.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[tokio::test]
async fn slow_and_idle_clients_do_not_hold_the_kiosk() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (engine, _inputs) = tokio::sync::mpsc::channel(8);
    let limits = cubby_http::Limits {
        header_timeout: Duration::from_millis(700),
        body_timeout: Duration::from_millis(700),
        max_connections: 8,
    };
    tokio::spawn(cubby_agent::kiosk::serve(listener, engine, None, limits));
    let started = Instant::now();
    let cut_off = tokio::task::spawn_blocking(move || {
        let idle: Vec<std::net::TcpStream> = (0..16)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let mut slow = std::net::TcpStream::connect(addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let _ = slow.write_all(b"GET / HTTP/1.1\r\nHost: kiosk\r\n");
        let slow_cut = loop {
            let mut b = [0u8; 64];
            if matches!(slow.read(&mut b), Ok(0)) || slow.write_all(b"X-Slow: 1\r\n").is_err() {
                break Some(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(8) {
                break None;
            }
        };
        let idle_closed = idle.into_iter().all(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
            let mut b = [0u8; 8];
            !matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
        });
        (slow_cut, idle_closed)
    })
    .await
    .unwrap();
    assert!(
        cut_off.0.is_some_and(|t| t < Duration::from_secs(4)),
        "the slowloris client was held: {:?}",
        cut_off.0
    );
    assert!(cut_off.1, "an idle socket was held open");
    let page = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("kiosk.js"));
}
