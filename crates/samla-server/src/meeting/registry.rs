//! The live meetings of this server, by id.
//!
//! The map is touched only when a connection joins or resumes and when a meeting empties,
//! never per message: once attached, a connection talks to its meeting's actor directly.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use samla_protocol::{MeetingId, SharePolicy};

use super::actor::{self, ActorMsg, MeetingHandle};
use super::ratelimit::PasscodeLimiter;
use super::{ConnId, MeetingConfig};
use crate::metrics::Metrics;
use crate::sfu::SfuHandle;
use crate::store::{MeetingRecord, Store, StoreError};

/// How many chat messages a meeting replays to late joiners.
const CHAT_REPLAY: u32 = 500;

#[derive(Clone)]
pub struct MeetingRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    metrics: Arc<Metrics>,
    live: Mutex<HashMap<MeetingId, MeetingHandle>>,
    limiter: Mutex<PasscodeLimiter>,
    next_conn: AtomicU64,
    next_generation: AtomicU64,
    /// The SFU media requests go to; without one they are dropped.
    sfu: Option<SfuHandle>,
}

impl MeetingRegistry {
    pub fn new(store: Store, metrics: Arc<Metrics>) -> Self {
        Self::with_sfu(store, metrics, None)
    }

    /// A registry whose meetings hand media to `sfu`.
    pub fn with_sfu(store: Store, metrics: Arc<Metrics>, sfu: Option<SfuHandle>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                metrics,
                live: Mutex::new(HashMap::new()),
                limiter: Mutex::new(PasscodeLimiter::default()),
                next_conn: AtomicU64::new(1),
                next_generation: AtomicU64::new(1),
                sfu,
            }),
        }
    }

    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.inner.next_conn.fetch_add(1, Ordering::Relaxed))
    }

    /// The running actor of a meeting, if it is live.
    pub fn live(&self, id: &MeetingId) -> Option<MeetingHandle> {
        self.inner
            .live
            .lock()
            .expect("registry lock")
            .get(id)
            .cloned()
    }

    /// Tells every live meeting of organisation `org_id` its new cap on video height.
    pub async fn apply_video_cap(&self, org_id: &str, max_video_height: Option<u32>) {
        let handles: Vec<MeetingHandle> = self
            .inner
            .live
            .lock()
            .expect("registry lock")
            .values()
            .filter(|h| h.org_id() == org_id)
            .cloned()
            .collect();
        for handle in handles {
            // A meeting that just ended has nothing left to cap.
            let _ = handle.send(ActorMsg::VideoCap(max_video_height)).await;
        }
    }

    /// The running actor of a meeting, started from its stored record if it is not live.
    pub async fn get_or_start(&self, record: &MeetingRecord) -> Result<MeetingHandle, StoreError> {
        if let Some(handle) = self.live(&record.id) {
            return Ok(handle);
        }
        // Load outside the lock; if another connection started the meeting meanwhile, its
        // actor wins and this load is dropped.
        let history = self
            .inner
            .store
            .chat_history(&record.id, CHAT_REPLAY)
            .await?;
        let next_participant = self.inner.store.max_participant_id(&record.id).await? + 1;
        let max_video_height = self
            .inner
            .store
            .organisation(&record.org_id)
            .await?
            .and_then(|org| org.settings.max_video_height);
        let config = MeetingConfig {
            id: record.id.clone(),
            topic: record.topic.clone(),
            waiting_room: record.waiting_room,
            signed_in_only: record.signed_in_only,
            has_passcode: record.passcode_hash.is_some(),
            owner_user_id: Some(record.owner_user_id.clone()),
            mute_on_entry: record.mute_on_entry,
            share_policy: if record.share_hosts_only {
                SharePolicy::HostsOnly
            } else {
                SharePolicy::Everyone
            },
        };
        let mut live = self.inner.live.lock().expect("registry lock");
        if let Some(handle) = live.get(&record.id) {
            return Ok(handle.clone());
        }
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let handle = actor::spawn(
            config,
            history,
            next_participant,
            max_video_height,
            record.org_id.clone(),
            generation,
            self.clone(),
        );
        live.insert(record.id.clone(), handle.clone());
        Ok(handle)
    }

    pub(super) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(super) fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub(super) fn sfu(&self) -> Option<&SfuHandle> {
        self.inner.sfu.as_ref()
    }

    /// Called by an actor whose meeting emptied; removes it unless a newer actor replaced it.
    pub(super) fn forget(&self, id: &MeetingId, generation: u64) {
        let mut live = self.inner.live.lock().expect("registry lock");
        if live.get(id).is_some_and(|h| h.generation() == generation) {
            live.remove(id);
        }
    }

    /// Whether this address may guess a passcode for this meeting now; `Err` holds the seconds
    /// to wait.
    pub fn passcode_guess_allowed(
        &self,
        now_ms: i64,
        meeting: &MeetingId,
        addr: IpAddr,
    ) -> Result<(), u64> {
        self.inner
            .limiter
            .lock()
            .expect("limiter lock")
            .check(now_ms, (meeting.clone(), addr))
    }

    pub fn passcode_guess_result(&self, now_ms: i64, meeting: &MeetingId, addr: IpAddr, ok: bool) {
        let mut limiter = self.inner.limiter.lock().expect("limiter lock");
        if ok {
            limiter.record_success(now_ms, (meeting.clone(), addr));
        } else {
            limiter.record_failure(now_ms, (meeting.clone(), addr));
        }
    }
}
