//! Opening one authenticated connection: TCP, SSH handshake with the host key
//! checked against the pinned one (before any credential is sent), then
//! public-key authentication.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::breaker::{BreakerPolicy, RetryPolicy};
use super::exec::ExecLimits;
use super::SshError;
use crate::db::PinnedHostKey;
use crate::ids::ServerId;
use crate::keys::fingerprint_of;
use crate::secret::Secret;
use crate::validate::{Host, Port, UnixUser};

/// Deadlines and bounds of the SSH engine.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// TCP connect plus SSH handshake plus authentication.
    pub connect_timeout: Duration,
    /// An ad-hoc command, a probe, a read.
    pub command_timeout: Duration,
    /// A CHOM script that changes a server (setup, site, deploy,
    /// certificate): long by nature (package installs, uploads, composer),
    /// with its progress streaming meanwhile.
    pub script_timeout: Duration,
    /// A pooled connection unused this long is closed.
    pub idle_timeout: Duration,
    /// Whether a fleet-wide probe or run leaves each server's connection in
    /// the pool when that server is done. The app keeps them (the next
    /// probe is warm); a CLI process, which exits after one command, closes
    /// each as soon as its server is done, so 2,000 servers never hold
    /// 2,000 idle connections (and their memory) at once.
    pub keep_fleet_connections: bool,
    pub keepalive_interval: Duration,
    /// Connection attempts in flight at once, fleet-wide, at most: the
    /// pacer finds how many the machines keep up with, up to this.
    pub max_connecting: usize,
    pub exec_limits: ExecLimits,
    /// Retries of a connection attempt that failed before anything ran.
    pub retry: RetryPolicy,
    /// When a server that keeps failing is paused.
    pub breaker: BreakerPolicy,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(60),
            script_timeout: Duration::from_secs(30 * 60),
            idle_timeout: Duration::from_secs(300),
            keep_fleet_connections: true,
            keepalive_interval: Duration::from_secs(15),
            max_connecting: 64,
            exec_limits: ExecLimits::default(),
            retry: RetryPolicy::default(),
            breaker: BreakerPolicy::default(),
        }
    }
}

/// Where and as whom to connect, and which host key to expect.
#[derive(Clone)]
pub struct Target {
    pub server_id: ServerId,
    pub server: String,
    pub host: Host,
    pub port: Port,
    pub user: UnixUser,
    /// `None`: the host has no trusted key yet, so only its offer is collected.
    pub pinned: Option<PinnedHostKey>,
    /// More keys pinned beside `pinned` (a server with keys of several
    /// types): any of them is accepted.
    pub pinned_more: Vec<PinnedHostKey>,
    /// Fingerprints of host keys refused for good on this host (a
    /// known_hosts `@revoked` line): never pinned, never accepted.
    pub revoked: Vec<String>,
    /// Key name and what signs with it.
    pub key: Option<(String, Credential)>,
    /// The server this one is reached through (ProxyJump), itself a
    /// target with its own pinned key, credentials and jump host.
    pub jump: Option<Box<Target>>,
}

/// What signs a login: a private key from the keyring, decoded, or the
/// operator's ssh-agent holding the private half of this public key.
#[derive(Clone)]
pub enum Credential {
    Private(Arc<PrivateKey>),
    Agent(PublicKey),
}

/// How the SSH stream reaches a server: TCP from this computer, or a
/// direct-tcpip channel of an authenticated connection to its jump host
/// (which then opens the TCP connection, as `ssh -J` does).
pub enum Route {
    Direct,
    Via(Arc<Connection>),
}

impl Target {
    pub fn addr(&self) -> String {
        match self.host.ip() {
            Some(std::net::IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

/// A host key as a server offered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HostKeyOffer {
    pub algorithm: String,
    pub fingerprint: String,
    /// OpenSSH line without comment.
    pub public_key: String,
}

impl HostKeyOffer {
    pub fn of(key: &PublicKey) -> HostKeyOffer {
        let mut key = key.clone();
        key.set_comment("");
        HostKeyOffer {
            algorithm: key.algorithm().as_str().to_owned(),
            fingerprint: fingerprint_of(&key),
            public_key: key.to_openssh().unwrap_or_default().trim().to_owned(),
        }
    }
}

/// The russh handler: accepts exactly the pinned keys, remembers what was
/// offered so a refusal can say what the server showed.
pub struct Checker {
    /// OpenSSH lines of the keys pinned.
    accepted: Vec<String>,
    offered: Arc<Mutex<Option<HostKeyOffer>>>,
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        // Host certificates are not advertised (see `preferred`), so a
        // certificate here is unexpected: judge its key like any other.
        let offer = HostKeyOffer::of(&key.public_key());
        let accepted = self.accepted.contains(&offer.public_key);
        *self.offered.lock().unwrap_or_else(|p| p.into_inner()) = Some(offer);
        Ok(accepted)
    }
}

pub type Connection = Handle<Checker>;

/// Whether this CPU has AES instructions: then AES-256-GCM (aws-lc, with
/// them) is asked for first, as it moves a large transfer with less CPU
/// than ChaCha20-Poly1305, russh's (and OpenSSH's) first choice otherwise.
fn aes_in_hardware() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

fn russh_config<'p>(cfg: &SshConfig, pinned: impl Iterator<Item = &'p PinnedHostKey>) -> client::Config {
    let mut preferred = russh::Preferred::default();
    // Ask for the pinned keys' types first (the main one first), as OpenSSH
    // does with known_hosts, so a server holding several host keys shows a
    // pinned one. An RSA key is pinned as "ssh-rsa" but signs as
    // rsa-sha2-512/256: keep the whole family, strongest first.
    let family = |a: &Algorithm| match a {
        Algorithm::Rsa { .. } => "rsa".to_owned(),
        other => other.as_str().to_owned(),
    };
    let mut first: Vec<Algorithm> = Vec::new();
    let mut rest: Vec<Algorithm> = preferred.key.to_vec();
    for alg in pinned.filter_map(|p| p.algorithm.parse::<Algorithm>().ok()) {
        let (mut same, others): (Vec<Algorithm>, Vec<Algorithm>) =
            rest.into_iter().partition(|a| family(a) == family(&alg));
        if same.is_empty() && !first.iter().any(|a| family(a) == family(&alg)) {
            same.push(alg);
        }
        first.extend(same);
        rest = others;
    }
    if !first.is_empty() {
        first.extend(rest);
        preferred.key = Cow::Owned(first);
    }
    if aes_in_hardware() {
        let (mut ciphers, rest): (Vec<_>, Vec<_>) =
            preferred.cipher.iter().copied().partition(|c| *c == russh::cipher::AES_256_GCM);
        ciphers.extend(rest);
        preferred.cipher = Cow::Owned(ciphers);
    }
    client::Config {
        preferred,
        keepalive_interval: Some(cfg.keepalive_interval),
        keepalive_max: 3,
        ..Default::default()
    }
}

/// How to log in once the host key checked out.
pub enum Auth<'a> {
    /// The target's key (the normal way).
    Key,
    /// A one-time password, to install a key (never stored).
    Password(&'a Secret),
}

/// Connects along `route` and authenticates with the target's key, or
/// says precisely why not.
pub async fn connect(target: &Target, cfg: &SshConfig, route: &Route) -> Result<Connection, SshError> {
    connect_with(target, cfg, route, Auth::Key).await
}

pub async fn connect_with(
    target: &Target,
    cfg: &SshConfig,
    route: &Route,
    auth: Auth<'_>,
) -> Result<Connection, SshError> {
    timeout(cfg.connect_timeout, connect_inner(target, cfg, route, auth))
        .await
        .unwrap_or_else(|_| Err(connect_timeout(target, cfg)))
}

/// Runs only the handshake and returns the host key the server offers (the
/// first contact, before the operator accepted anything). Nothing is
/// authenticated and no credential is sent.
pub async fn fetch_host_key(target: &Target, cfg: &SshConfig, route: &Route) -> Result<HostKeyOffer, SshError> {
    // The pinned key (if any) only orders the algorithms, so a server with
    // several host keys shows the pinned type; whatever it offers is returned.
    let run = async {
        let (result, offer) = raw_handshake(target, cfg, route).await?;
        match (result, offer) {
            (_, Some(offer)) => Ok(offer),
            (Err(e), None) => Err(failed_before_host_key(e, target)),
            (Ok(_), None) => Err(no_host_key(target)),
        }
    };
    timeout(cfg.connect_timeout, run).await.unwrap_or_else(|_| Err(connect_timeout(target, cfg)))
}

async fn connect_inner(
    target: &Target,
    cfg: &SshConfig,
    route: &Route,
    auth: Auth<'_>,
) -> Result<Connection, SshError> {
    let (result, offer) = raw_handshake(target, cfg, route).await?;
    let conn = match (result, offer) {
        (Ok(conn), Some(_)) => conn,
        (Err(russh::Error::UnknownKey), Some(offer)) => {
            return Err(match &target.pinned {
                _ if target.revoked.contains(&offer.fingerprint) => {
                    SshError::HostKeyRevoked { server: target.server.clone(), offered: offer.fingerprint }
                }
                None => SshError::HostKeyUnknown {
                    server: target.server.clone(),
                    algorithm: offer.algorithm,
                    offered: offer.fingerprint,
                },
                Some(p) => SshError::HostKeyChanged {
                    server: target.server.clone(),
                    pinned: p.fingerprint.clone(),
                    offered: offer.fingerprint,
                },
            })
        }
        (Ok(_), None) => return Err(no_host_key(target)),
        (Err(e), None) => return Err(failed_before_host_key(e, target)),
        (Err(e), Some(_)) => return Err(map_transport_error(e, target)),
    };
    match auth {
        Auth::Key => authenticate(conn, target).await,
        Auth::Password(password) => authenticate_password(conn, target, password).await,
    }
}

/// TCP connect and SSH handshake; the host key offer is returned whether or
/// not the checker accepted it.
async fn raw_handshake(
    target: &Target,
    cfg: &SshConfig,
    route: &Route,
) -> Result<(Result<Connection, russh::Error>, Option<HostKeyOffer>), SshError> {
    let offered = Arc::new(Mutex::new(None));
    let accepted = target.pinned.iter().chain(&target.pinned_more).map(|p| p.public_key.trim().to_owned()).collect();
    let checker = Checker { accepted, offered: offered.clone() };
    let config = Arc::new(russh_config(cfg, target.pinned.iter().chain(&target.pinned_more)));
    let result = match route {
        Route::Direct => client::connect_stream(config, tcp(target).await?, checker).await,
        Route::Via(jump) => {
            let channel = jump
                .channel_open_direct_tcpip(target.host.as_str(), u32::from(target.port.get()), "127.0.0.1", 0)
                .await
                .map_err(|e| through_jump(e, target))?;
            client::connect_stream(config, channel.into_stream(), checker).await
        }
    };
    let offer = offered.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok((result, offer))
}

/// The jump host could not open the TCP connection onward (it says why:
/// refused, unreachable, or its sshd forbids forwarding).
fn through_jump(e: russh::Error, target: &Target) -> SshError {
    let jump = target.jump.as_ref().map_or("its jump host", |j| j.server.as_str());
    SshError::Unreachable {
        server: target.server.clone(),
        addr: target.addr(),
        detail: format!(
            "{jump} could not connect onward ({e}); is sshd listening there, and does {jump} allow TCP forwarding?"
        ),
    }
}

async fn tcp(target: &Target) -> Result<TcpStream, SshError> {
    let addr = target.addr();
    let stream = TcpStream::connect((target.host.as_str(), target.port.get())).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            SshError::Refused { server: target.server.clone(), addr: addr.clone() }
        }
        _ => SshError::Unreachable { server: target.server.clone(), addr: addr.clone(), detail: e.to_string() },
    })?;
    // russh sets TCP_NODELAY only on sockets it opens itself; without it a
    // small request waits out the peer's delayed ACK (40 ms a round trip).
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Failing before any host key arrived: whatever answers is not a working
/// SSH server (garbage, another protocol, a server closing at once).
fn failed_before_host_key(e: russh::Error, target: &Target) -> SshError {
    SshError::Protocol {
        server: target.server.clone(),
        addr: target.addr(),
        detail: format!("the handshake failed before a host key was offered ({e})"),
    }
}

fn no_host_key(target: &Target) -> SshError {
    SshError::Protocol {
        server: target.server.clone(),
        addr: target.addr(),
        detail: "the server never presented a host key".into(),
    }
}

fn connect_timeout(target: &Target, cfg: &SshConfig) -> SshError {
    SshError::ConnectTimeout { server: target.server.clone(), addr: target.addr(), timeout: cfg.connect_timeout }
}

async fn authenticate(mut conn: Connection, target: &Target) -> Result<Connection, SshError> {
    let Some((key_name, key)) = target.key.clone() else {
        return Err(SshError::NoKey { server: target.server.clone() });
    };
    let hash = conn.best_supported_rsa_hash().await.map_err(|e| map_transport_error(e, target))?.flatten();
    let result = match key {
        Credential::Private(key) => conn
            .authenticate_publickey(target.user.as_str(), PrivateKeyWithHashAlg::new(key, hash))
            .await
            .map_err(|e| map_transport_error(e, target))?,
        Credential::Agent(public) => {
            let mut agent = super::agent::connect().await?;
            conn.authenticate_publickey_with(target.user.as_str(), public, hash, &mut agent).await.map_err(|e| {
                SshError::Agent {
                    detail: format!("signing the login to {} with key {key_name} failed: {e}", target.server),
                }
            })?
        }
    };
    if result.success() {
        Ok(conn)
    } else {
        Err(SshError::AuthFailed { server: target.server.clone(), user: target.user.to_string(), key: key_name })
    }
}

async fn authenticate_password(
    mut conn: Connection,
    target: &Target,
    password: &Secret,
) -> Result<Connection, SshError> {
    let result = conn
        .authenticate_password(target.user.as_str(), password.expose())
        .await
        .map_err(|e| map_transport_error(e, target))?;
    if result.success() {
        Ok(conn)
    } else {
        Err(SshError::PasswordRejected { server: target.server.clone(), user: target.user.to_string() })
    }
}

pub(super) fn map_transport_error(e: russh::Error, target: &Target) -> SshError {
    let server = target.server.clone();
    let addr = target.addr();
    match e {
        russh::Error::IO(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            SshError::Refused { server, addr }
        }
        russh::Error::IO(io) => SshError::Disconnected { server, detail: io.to_string() },
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::SendError | russh::Error::RecvError => {
            SshError::Disconnected { server, detail: "the server closed the connection".into() }
        }
        russh::Error::KeepaliveTimeout | russh::Error::InactivityTimeout | russh::Error::ConnectionTimeout => {
            SshError::Disconnected { server, detail: "the server stopped answering keepalives".into() }
        }
        other => SshError::Protocol { server, addr, detail: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(algorithm: &str) -> PinnedHostKey {
        PinnedHostKey {
            algorithm: algorithm.into(),
            fingerprint: String::new(),
            public_key: String::new(),
            first_seen: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_pinned_key_type_is_asked_for_first() {
        let cfg = SshConfig::default();
        let rsa = russh_config(&cfg, [pinned("ssh-rsa")].iter());
        let first: Vec<&str> = rsa.preferred.key.iter().take(2).map(|a| a.as_str()).collect();
        assert_eq!(first, ["rsa-sha2-512", "rsa-sha2-256"], "RSA signs with SHA-2 first");
        let ecdsa = russh_config(&cfg, [pinned("ecdsa-sha2-nistp384")].iter());
        assert_eq!(ecdsa.preferred.key[0].as_str(), "ecdsa-sha2-nistp384");
        let ed = russh_config(&cfg, [pinned("ssh-ed25519")].iter());
        assert_eq!(ed.preferred.key[0].as_str(), "ssh-ed25519");
        let n = russh::Preferred::default().key.len();
        assert_eq!(rsa.preferred.key.len(), n, "no algorithm dropped or repeated");
    }

    /// With several keys pinned, their types come first, the main key's
    /// first, each once.
    #[test]
    fn several_pinned_key_types_are_asked_for_in_order() {
        let cfg = SshConfig::default();
        let keys = [pinned("ecdsa-sha2-nistp256"), pinned("ssh-rsa"), pinned("ssh-ed25519"), pinned("ssh-rsa")];
        let config = russh_config(&cfg, keys.iter());
        let first: Vec<&str> = config.preferred.key.iter().take(5).map(|a| a.as_str()).collect();
        assert_eq!(first, ["ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"]);
        assert_eq!(config.preferred.key.len(), russh::Preferred::default().key.len());
    }
}
