//! Who is asking: the organisation a request is for (by host name), the signed-in user (by
//! API token), and the secrets involved (token and passcode hashing).

pub mod org;
pub mod passcode;
pub mod token;
pub mod user;

pub use org::Org;
pub use user::CurrentUser;
