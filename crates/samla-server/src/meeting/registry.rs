//! Live meetings by id (stub; being written).
#[derive(Clone)]
pub struct MeetingRegistry;
