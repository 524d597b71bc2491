//! Values parsed at the edge ("parse, don't validate"). The store and the services accept only
//! these, so an invalid UPN, email or domain cannot get past an adapter.

mod app_uri;
mod domain_name;
mod email;
mod names;
mod password;
mod upn;

pub use app_uri::{AppIdUri, ReplyUrl};
pub use domain_name::{DomainPrefix, DomainSuffix, TenantDomain};
pub use email::Email;
pub use names::{Description, DisplayName, GroupName, PersonName};
pub use password::{Password, PasswordHash};
pub use upn::Upn;
