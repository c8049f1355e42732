//! What every request handler shares.

use std::sync::Arc;

use crate::config::Config;
use crate::meeting::registry::MeetingRegistry;
use crate::metrics::Metrics;
use crate::store::Store;

/// Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub meetings: MeetingRegistry,
    pub metrics: Arc<Metrics>,
}
