//! Servers that are not SSH servers, for failure tests: one that answers
//! with random bytes, one that accepts and never says anything.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::LabError;

struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    fn start(
        addr: SocketAddr,
        on_accept: impl Fn(TcpStream, &mut Vec<TcpStream>) + Send + 'static,
    ) -> Result<Listener, LabError> {
        assert!(addr.ip().is_loopback(), "the lab only listens on loopback addresses");
        let listener = TcpListener::bind(addr)
            .map_err(|e| LabError::Command { what: format!("binding {addr}"), detail: e.to_string() })?;
        let addr = listener
            .local_addr()
            .map_err(|e| LabError::Command { what: "local_addr".into(), detail: e.to_string() })?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    on_accept(s, &mut held);
                }
            }
        });
        Ok(Listener { addr, stop, thread: Some(thread) })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers every connection with 64 KiB of random bytes, then closes it.
pub struct GarbageServer(Listener);

impl GarbageServer {
    pub fn start(addr: SocketAddr) -> Result<GarbageServer, LabError> {
        Listener::start(addr, |mut s, _| {
            // A thread per connection: a client that never reads must not
            // hold up the next one, nor Drop.
            std::thread::spawn(move || {
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (s.peer_addr().map(|a| a.port()).unwrap_or(1) as u64);
                let bytes: Vec<u8> = (0..65_536)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                let _ = s.set_write_timeout(Some(std::time::Duration::from_secs(5)));
                let _ = s.write_all(&bytes);
            });
        })
        .map(GarbageServer)
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }
}

/// Accepts connections and holds them open in silence until dropped.
pub struct SilentServer(Listener);

impl SilentServer {
    pub fn start(addr: SocketAddr) -> Result<SilentServer, LabError> {
        Listener::start(addr, |s, held| held.push(s)).map(SilentServer)
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }
}
