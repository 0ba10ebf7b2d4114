//! A TCP proxy in front of the test database that a test can cut: the database "goes away"
//! for the service behind it (every connection dropped, new ones refused) and comes back.

use std::sync::Arc;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A proxy to `upstream` listening on a free local port.
pub struct DbProxy {
    /// The local port.
    pub port: u16,
    down: Arc<watch::Sender<bool>>,
}

impl DbProxy {
    /// Starts forwarding connections to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (down, _) = watch::channel(false);
        let down = Arc::new(down);
        let state = down.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut cut = state.subscribe();
                if *cut.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        Self { port, down }
    }

    /// Drops every connection and refuses new ones until [`DbProxy::restore`].
    pub fn cut(&self) {
        self.down.send_replace(true);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.down.send_replace(false);
    }
}
