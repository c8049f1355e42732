//! The TURN client state machine: one allocation on one TURN server, over UDP.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::stun::{self, attr, method, Class, Message, MessageBuilder, TransactionId};
use crate::TurnError;

/// The first retransmission wait of a request (RFC 8489 §6.2.1's RTO default)...
const INITIAL_RTO: Duration = Duration::from_millis(500);
/// ...doubled after each send, for this many sends (Rc)...
const MAX_SENDS: u32 = 7;
/// ...and after the last one, this many RTOs (Rm) before giving up: 39.5 s in all.
const LAST_WAIT_RTOS: u32 = 16;
/// How long we ask the allocation to live; servers may grant less.
const REQUESTED_LIFETIME: u32 = 600;
/// A refresh goes out this long before the allocation would expire (or at half its
/// lifetime when that is shorter), leaving room for retransmissions.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Permissions live 300 s on the server (RFC 8656 §9); refreshed well before.
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// A permission request that went unanswered is tried again after this long.
const PERMISSION_RETRY: Duration = Duration::from_secs(5);
/// Channel bindings live 600 s on the server (RFC 8656 §12); refreshed well before.
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// The channel numbers a client may use (RFC 8656 §12).
const FIRST_CHANNEL: u16 = 0x4000;
const LAST_CHANNEL: u16 = 0x4FFF;
/// REQUESTED-TRANSPORT's value for UDP: protocol 17 and three reserved bytes.
const UDP_TRANSPORT: [u8; 4] = [17, 0, 0, 0];
/// How many stale-nonce (438) answers one request may get before we give up on it: a server
/// that keeps calling a nonce it just gave us stale is broken.
const MAX_STALE_NONCE: u32 = 3;

/// Where a TURN server is and who we are on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnConfig {
    pub server: SocketAddr,
    pub username: String,
    /// The password (`credential`), ASCII in practice (see [`crate`] on SASLprep).
    pub password: String,
}

/// A datagram for the TURN server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub destination: SocketAddr,
    pub contents: Vec<u8>,
}

/// What happened to the allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server gave us `relay`, the address peers reach us on; `mapped` is our address as
    /// the server saw it (our server-reflexive address), when it said.
    Allocated {
        relay: SocketAddr,
        mapped: Option<SocketAddr>,
    },
    /// The allocation could not be made or was lost; the client is inert after this.
    Failed(TurnError),
    /// The server refused to let `peer` send to us (or us to it); other peers are unaffected.
    PermissionFailed { peer: IpAddr, error: TurnError },
}

/// What a datagram that came in on the socket turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// Not from our TURN server: it belongs to whoever else uses the socket (ICE).
    NotTurn,
    /// A TURN control message (or something malformed from the server), dealt with.
    Consumed,
    /// `payload` came from `peer` to our `relay` address.
    Data {
        peer: SocketAddr,
        relay: SocketAddr,
        payload: &'a [u8],
    },
}

/// What a request was for, to know what its answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    Allocate,
    Refresh { lifetime: u32 },
    CreatePermission(IpAddr),
    ChannelBind { peer: SocketAddr, channel: u16 },
}

/// A request on its way, retransmitted until answered.
#[derive(Debug)]
struct Pending {
    tid: TransactionId,
    request: Request,
    bytes: Vec<u8>,
    /// Whether it carried our credentials: a 401 to it means they are wrong.
    authenticated: bool,
    sends: u32,
    rto: Duration,
    next: Instant,
    stale_nonces: u32,
}

/// What the server told us to authenticate with (from its 401).
#[derive(Debug)]
struct Auth {
    realm: String,
    nonce: Vec<u8>,
    key: [u8; 16],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Allocating,
    Allocated {
        relay: SocketAddr,
        expires: Instant,
        refresh_at: Instant,
    },
    /// Failed or closed: nothing more is sent or accepted.
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Permission {
    installed: bool,
    /// When to ask again (refresh, or retry after a lost request).
    refresh_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Channel {
    number: u16,
    bound: bool,
    refresh_at: Option<Instant>,
}

/// A TURN client for one allocation, without sockets or clocks (like str0m): feed it what
/// arrives with [`TurnClient::handle_input`] and the time with
/// [`TurnClient::handle_timeout`], send what [`TurnClient::poll_transmit`] gives to the
/// server, and wrap outgoing datagrams for peers with [`TurnClient::wrap`].
///
/// Data goes over a channel (4 bytes of overhead) once one is bound to the peer, and in Send
/// indications (36 or more bytes) while the binding is on its way.
#[derive(Debug)]
pub struct TurnClient {
    config: TurnConfig,
    state: State,
    auth: Option<Auth>,
    pending: Vec<Pending>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    permissions: HashMap<IpAddr, Permission>,
    channels: HashMap<SocketAddr, Channel>,
    peers_by_channel: HashMap<u16, SocketAddr>,
    next_channel: u16,
}

impl TurnClient {
    /// Starts allocating: the first request is ready in [`TurnClient::poll_transmit`].
    pub fn new(config: TurnConfig, now: Instant) -> Self {
        let mut client = Self {
            config,
            state: State::Allocating,
            auth: None,
            pending: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            permissions: HashMap::new(),
            channels: HashMap::new(),
            peers_by_channel: HashMap::new(),
            next_channel: FIRST_CHANNEL,
        };
        client.request(now, Request::Allocate, 0);
        client
    }

    /// The TURN server's address: datagrams from it are the client's.
    pub fn server(&self) -> SocketAddr {
        self.config.server
    }

    /// Our relayed address, once allocated.
    pub fn relay(&self) -> Option<SocketAddr> {
        match self.state {
            State::Allocated { relay, .. } => Some(relay),
            _ => None,
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`TurnClient::handle_timeout`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let refresh = match self.state {
            State::Allocated { refresh_at, .. } => Some(refresh_at),
            State::Allocating => None,
            State::Done => return None,
        };
        let perms = self.permissions.values().filter_map(|p| p.refresh_at);
        let chans = self.channels.values().filter_map(|c| c.refresh_at);
        self.pending
            .iter()
            .map(|p| p.next)
            .chain(refresh)
            .chain(perms)
            .chain(chans)
            .min()
    }

    /// Retransmits unanswered requests, gives up on those out of tries and refreshes the
    /// allocation, permissions and channels that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Done {
            return;
        }
        let mut expired = Vec::new();
        for p in &mut self.pending {
            if p.next > now {
                continue;
            }
            if p.sends >= MAX_SENDS {
                expired.push(p.tid);
                continue;
            }
            p.sends += 1;
            p.rto *= 2;
            p.next = now
                + if p.sends == MAX_SENDS {
                    INITIAL_RTO * LAST_WAIT_RTOS
                } else {
                    p.rto
                };
            self.transmits.push_back(Transmit {
                destination: self.config.server,
                contents: p.bytes.clone(),
            });
        }
        for tid in expired {
            if let Some(p) = self.take_pending(&tid) {
                self.request_failed(now, p.request, TurnError::Timeout(MAX_SENDS));
            }
        }
        if let State::Allocated { refresh_at, .. } = self.state {
            let refreshing = self
                .pending
                .iter()
                .any(|p| matches!(p.request, Request::Refresh { .. }));
            if refresh_at <= now && !refreshing {
                self.request(
                    now,
                    Request::Refresh {
                        lifetime: REQUESTED_LIFETIME,
                    },
                    0,
                );
            }
        }
        let due_perms: Vec<IpAddr> = self
            .permissions
            .iter()
            .filter(|(_, p)| p.refresh_at.is_some_and(|t| t <= now))
            .map(|(ip, _)| *ip)
            .collect();
        for ip in due_perms {
            if let Some(p) = self.permissions.get_mut(&ip) {
                p.refresh_at = None;
            }
            self.request(now, Request::CreatePermission(ip), 0);
        }
        let due_chans: Vec<(SocketAddr, u16)> = self
            .channels
            .iter()
            .filter(|(_, c)| c.refresh_at.is_some_and(|t| t <= now))
            .map(|(peer, c)| (*peer, c.number))
            .collect();
        for (peer, channel) in due_chans {
            if let Some(c) = self.channels.get_mut(&peer) {
                c.refresh_at = None;
            }
            self.request(now, Request::ChannelBind { peer, channel }, 0);
        }
    }

    /// Looks at a datagram that came in on the socket the client sends from.
    pub fn handle_input<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &'a [u8],
    ) -> Incoming<'a> {
        if from != self.config.server {
            return Incoming::NotTurn;
        }
        let Some(relay) = self.relay() else {
            if stun::is_stun(data) {
                self.handle_stun(now, data);
            }
            return Incoming::Consumed;
        };
        if stun::is_stun(data) {
            return self
                .handle_stun(now, data)
                .map_or(Incoming::Consumed, |(peer, payload)| Incoming::Data {
                    peer,
                    relay,
                    payload,
                });
        }
        // ChannelData: channel number, length, then the payload (RFC 8656 §12.4).
        let Some(header) = data.get(..4) else {
            return Incoming::Consumed;
        };
        let number = u16::from_be_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        match (self.peers_by_channel.get(&number), data.get(4..4 + len)) {
            (Some(&peer), Some(payload)) => Incoming::Data {
                peer,
                relay,
                payload,
            },
            _ => {
                tracing::debug!(
                    number,
                    len,
                    "ChannelData for no channel of ours, or cut short"
                );
                Incoming::Consumed
            }
        }
    }

    /// Wraps `payload` for `peer`: in ChannelData once a channel is bound, else in a Send
    /// indication once the peer has a permission. Before that (and before the allocation)
    /// it is dropped (`None`) while the permission and channel are asked for: what str0m
    /// sends first are ICE checks, which it repeats.
    pub fn wrap(&mut self, now: Instant, peer: SocketAddr, payload: &[u8]) -> Option<Transmit> {
        self.relay()?;
        if let Entry::Vacant(slot) = self.permissions.entry(peer.ip()) {
            slot.insert(Permission {
                installed: false,
                refresh_at: None,
            });
            self.request(now, Request::CreatePermission(peer.ip()), 0);
        }
        if !self.channels.contains_key(&peer) && self.next_channel <= LAST_CHANNEL {
            let channel = self.next_channel;
            self.next_channel += 1;
            self.channels.insert(
                peer,
                Channel {
                    number: channel,
                    bound: false,
                    refresh_at: None,
                },
            );
            self.peers_by_channel.insert(channel, peer);
            self.request(now, Request::ChannelBind { peer, channel }, 0);
        }
        let contents = match self.channels.get(&peer) {
            Some(c) if c.bound => {
                let mut out = Vec::with_capacity(4 + payload.len());
                out.extend_from_slice(&c.number.to_be_bytes());
                out.extend_from_slice(&u16::try_from(payload.len()).ok()?.to_be_bytes());
                out.extend_from_slice(payload);
                out
            }
            _ if self
                .permissions
                .get(&peer.ip())
                .is_some_and(|p| p.installed) =>
            {
                let mut b = MessageBuilder::new(method::SEND, Class::Indication, rand::random());
                b.xor_address(attr::XOR_PEER_ADDRESS, peer)
                    .attr(attr::DATA, payload);
                b.fingerprint()
            }
            _ => return None,
        };
        Some(Transmit {
            destination: self.config.server,
            contents,
        })
    }

    /// Gives the allocation back (a Refresh with lifetime 0), so the server frees the relay
    /// port now instead of when it expires. Best effort: the answer is not waited for.
    pub fn close(&mut self, now: Instant) {
        if self.relay().is_some() {
            self.request(now, Request::Refresh { lifetime: 0 }, 0);
        }
        self.pending.clear();
        self.state = State::Done;
    }

    /// Sends a new request (carrying credentials once we have the server's realm and nonce).
    fn request(&mut self, now: Instant, request: Request, stale_nonces: u32) {
        let tid: TransactionId = rand::random();
        let (m, authenticated) = match request {
            Request::Allocate => (method::ALLOCATE, self.auth.is_some()),
            Request::Refresh { .. } => (method::REFRESH, true),
            Request::CreatePermission(_) => (method::CREATE_PERMISSION, true),
            Request::ChannelBind { .. } => (method::CHANNEL_BIND, true),
        };
        let mut b = MessageBuilder::new(m, Class::Request, tid);
        match request {
            Request::Allocate => {
                b.attr(attr::REQUESTED_TRANSPORT, &UDP_TRANSPORT)
                    .u32_attr(attr::LIFETIME, REQUESTED_LIFETIME);
            }
            Request::Refresh { lifetime } => {
                b.u32_attr(attr::LIFETIME, lifetime);
            }
            Request::CreatePermission(ip) => {
                b.xor_address(attr::XOR_PEER_ADDRESS, SocketAddr::new(ip, 0));
            }
            Request::ChannelBind { peer, channel } => {
                b.attr(
                    attr::CHANNEL_NUMBER,
                    &[(channel >> 8) as u8, channel as u8, 0, 0],
                )
                .xor_address(attr::XOR_PEER_ADDRESS, peer);
            }
        }
        if let (true, Some(auth)) = (authenticated, &self.auth) {
            b.attr(attr::USERNAME, self.config.username.as_bytes())
                .attr(attr::REALM, auth.realm.as_bytes())
                .attr(attr::NONCE, &auth.nonce)
                .integrity(&auth.key);
        }
        let bytes = b.fingerprint();
        self.transmits.push_back(Transmit {
            destination: self.config.server,
            contents: bytes.clone(),
        });
        if let Request::Refresh { lifetime: 0 } = request {
            // Deallocation is not retransmitted: the client is done either way.
            return;
        }
        self.pending.push(Pending {
            tid,
            request,
            bytes,
            authenticated,
            sends: 1,
            rto: INITIAL_RTO,
            next: now + INITIAL_RTO,
            stale_nonces,
        });
    }

    fn take_pending(&mut self, tid: &TransactionId) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.tid == *tid)?;
        Some(self.pending.swap_remove(i))
    }

    /// Handles a STUN message from the server; returns the contents of a Data indication.
    fn handle_stun<'a>(&mut self, now: Instant, data: &'a [u8]) -> Option<(SocketAddr, &'a [u8])> {
        let msg = match Message::parse(data) {
            Ok(msg) => msg,
            Err(err) => {
                tracing::debug!(%err, "unreadable STUN from the TURN server");
                return None;
            }
        };
        if msg.has_fingerprint() && !msg.check_fingerprint() {
            tracing::debug!("STUN from the TURN server with a wrong fingerprint");
            return None;
        }
        match msg.class {
            Class::Indication if msg.method == method::DATA => {
                let peer = msg.xor_address(attr::XOR_PEER_ADDRESS).ok()??;
                let payload = msg.get(attr::DATA)?;
                self.permissions
                    .get(&peer.ip())
                    .is_some_and(|p| p.installed)
                    .then_some((peer, payload))
            }
            Class::Success | Class::Error => {
                self.handle_response(now, &msg);
                None
            }
            _ => None,
        }
    }

    fn handle_response(&mut self, now: Instant, msg: &Message<'_>) {
        let Some(p) = self.pending.iter().find(|p| p.tid == msg.tid) else {
            return;
        };
        // An answer to an authenticated request must prove it knows the key; one that does
        // not could be anyone's, and the real answer may still come.
        let verified = match (&self.auth, msg.class) {
            (Some(auth), Class::Success) if p.authenticated => msg.check_integrity(&auth.key),
            _ => true,
        };
        if !verified {
            tracing::debug!("a TURN answer failed its integrity check; ignored");
            return;
        }
        let Some(p) = self.take_pending(&msg.tid) else {
            return;
        };
        if msg.class == Class::Success {
            self.request_succeeded(now, p.request, msg);
            return;
        }
        let (code, reason) = msg
            .error_code()
            .unwrap_or((0, "an error without ERROR-CODE".into()));
        match code {
            401 if !p.authenticated => match self.take_auth(msg) {
                Ok(()) => self.request(now, p.request, p.stale_nonces),
                Err(err) => self.request_failed(now, p.request, err),
            },
            401 => {
                let err = TurnError::Unauthorized {
                    username: self.config.username.clone(),
                    realm: self
                        .auth
                        .as_ref()
                        .map(|a| a.realm.clone())
                        .unwrap_or_default(),
                };
                self.request_failed(now, p.request, err);
            }
            438 if p.stale_nonces < MAX_STALE_NONCE => match self.take_auth(msg) {
                Ok(()) => self.request(now, p.request, p.stale_nonces + 1),
                Err(err) => self.request_failed(now, p.request, err),
            },
            _ => self.request_failed(now, p.request, TurnError::Rejected { code, reason }),
        }
    }

    /// Takes REALM and NONCE from a 401 or 438 and derives the key.
    fn take_auth(&mut self, msg: &Message<'_>) -> Result<(), TurnError> {
        let nonce = msg.get(attr::NONCE).ok_or(TurnError::Missing("NONCE"))?;
        let realm = match msg.get_str(attr::REALM) {
            Some(realm) => realm.to_owned(),
            None => self
                .auth
                .as_ref()
                .map(|a| a.realm.clone())
                .ok_or(TurnError::Missing("REALM"))?,
        };
        let key = stun::long_term_key(&self.config.username, &realm, &self.config.password);
        self.auth = Some(Auth {
            realm,
            nonce: nonce.to_vec(),
            key,
        });
        Ok(())
    }

    fn request_succeeded(&mut self, now: Instant, request: Request, msg: &Message<'_>) {
        match request {
            Request::Allocate => {
                let relay = match msg.xor_address(attr::XOR_RELAYED_ADDRESS) {
                    Ok(Some(relay)) => relay,
                    Ok(None) => return self.fail(TurnError::Missing("XOR-RELAYED-ADDRESS")),
                    Err(err) => return self.fail(err.into()),
                };
                let mapped = msg.xor_address(attr::XOR_MAPPED_ADDRESS).ok().flatten();
                self.set_lifetime(now, relay, msg.get_u32(attr::LIFETIME));
                self.events.push_back(Event::Allocated { relay, mapped });
            }
            Request::Refresh { .. } => {
                if let Some(relay) = self.relay() {
                    self.set_lifetime(now, relay, msg.get_u32(attr::LIFETIME));
                }
            }
            Request::CreatePermission(ip) => {
                if let Some(p) = self.permissions.get_mut(&ip) {
                    p.installed = true;
                    p.refresh_at = Some(now + PERMISSION_REFRESH);
                }
            }
            Request::ChannelBind { peer, channel } => {
                if let Some(c) = self.channels.get_mut(&peer).filter(|c| c.number == channel) {
                    c.bound = true;
                    c.refresh_at = Some(now + CHANNEL_REFRESH);
                }
            }
        }
    }

    fn set_lifetime(&mut self, now: Instant, relay: SocketAddr, lifetime: Option<u32>) {
        let lifetime = Duration::from_secs(u64::from(lifetime.unwrap_or(REQUESTED_LIFETIME)));
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        self.state = State::Allocated {
            relay,
            expires: now + lifetime,
            refresh_at: now + lifetime - margin,
        };
    }

    fn request_failed(&mut self, now: Instant, request: Request, error: TurnError) {
        match request {
            Request::Allocate => self.fail(error),
            Request::Refresh { .. } => {
                // A lost refresh is fatal only once the allocation has run out.
                if let State::Allocated { relay, expires, .. } = self.state {
                    if now < expires && matches!(error, TurnError::Timeout(_)) {
                        self.state = State::Allocated {
                            relay,
                            expires,
                            refresh_at: now,
                        };
                        return;
                    }
                }
                self.fail(error);
            }
            Request::CreatePermission(peer) => {
                // Unanswered: asked again later. Refused: not asked again (the peer stays
                // unreachable through this server rather than a request per datagram).
                let retry = matches!(error, TurnError::Timeout(_)).then(|| now + PERMISSION_RETRY);
                if let Some(p) = self.permissions.get_mut(&peer) {
                    p.installed = false;
                    p.refresh_at = retry;
                }
                self.events
                    .push_back(Event::PermissionFailed { peer, error });
            }
            Request::ChannelBind { peer, channel } => {
                // Data still goes in Send indications while the permission holds.
                if let Some(c) = self.channels.get_mut(&peer).filter(|c| c.number == channel) {
                    c.bound = false;
                    c.refresh_at = None;
                }
                tracing::debug!(%peer, channel, %error, "TURN channel bind failed");
            }
        }
    }

    fn fail(&mut self, error: TurnError) {
        self.state = State::Done;
        self.pending.clear();
        self.events.push_back(Event::Failed(error));
    }
}
