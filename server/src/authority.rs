//! Who acts, and with what authority: the one door. Every request is resolved once into a
//! [`Principal`] (a staff member with their role, a customer user of one company, a pay link
//! of one company and its invoices, or an API key with its scope), and what an operation
//! needs it takes as a value only this module can make:
//!
//! - [`CompanyScope`]: proof that the caller may act for one company (staff for any, a
//!   customer or a pay link for their own). Company-scoped reads and writes take it, never a
//!   bare [`CompanyId`]; [`Principal::reach`] is the one place a row's company is checked
//!   against the caller.
//! - [`Staff`] and [`Admin`]: proof of a staff member, and of an admin.
//! - [`PayLink`]: a live link, its company and its invoices.
//!
//! Every role and scope check of the server functions is a method here; nothing else compares
//! roles.
//!
//! A company's invoices cannot be read without a scope:
//! ```compile_fail
//! async fn peek(pool: &sqlx::PgPool, search: &shared::invoice::InvoiceSearch) {
//!     let today = chrono::Utc::now().date_naive();
//!     server::invoices::search(pool, shared::CompanyId(7), search, 20, today).await;
//! }
//! ```
//! nor its saved methods:
//! ```compile_fail
//! async fn peek(pool: &sqlx::PgPool) {
//!     server::methods::active_methods(pool, shared::CompanyId(7)).await;
//! }
//! ```
//! and no code outside this module can write a scope for a company it names:
//! ```compile_fail
//! let forged = server::authority::CompanyScope { company: shared::CompanyId(7) };
//! ```
//! An admin operation does not take a clerk's capability:
//! ```compile_fail
//! async fn keys(pool: &sqlx::PgPool, clerk: &server::authority::Staff) {
//!     server::integration::api_keys::list(pool, clerk).await;
//! }
//! ```
//! nor can an admin capability be written by hand:
//! ```compile_fail
//! fn promote(clerk: server::authority::Staff) -> server::authority::Admin {
//!     server::authority::Admin(clerk)
//! }
//! ```
//! while the same calls with the capability the door gives do compile:
//! ```no_run
//! async fn keys(pool: &sqlx::PgPool, who: &server::authority::Principal) -> server::Result<()> {
//!     let admin = who.admin()?;
//!     server::integration::api_keys::list(pool, &admin).await?;
//!     let scope = who.company(pool, "C1001").await?;
//!     server::methods::active_methods(pool, &scope).await?;
//!     Ok(())
//! }
//! ```

use crate::audit::Actor;
use crate::Result;
use shared::auth::{CompanyRef, Role, SessionUser};
use shared::company::CompanyCode;
use shared::integration::ApiScope;
use shared::payment::Consent;
use shared::{ApiKeyId, AppError, CompanyId, InvoiceId, PayLinkId, UserId};
use sqlx::PgPool;

/// Who acts in a request, resolved once by the door.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in clerk or admin: acts for any company, on its behalf.
    Staff(Staff),
    /// A signed-in customer user: acts for their own company only.
    Customer(Customer),
    /// Whoever holds a live pay link: its company and its invoices only.
    PayLink(PayLink),
    /// The seller's ERP with an API key.
    ApiKey(ApiKey),
}

/// A signed-in staff member (clerk or admin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    user: SessionUser,
}

/// A signed-in admin: may manage users, keys, webhooks and imports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin(Staff);

/// A signed-in customer user and their company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    user: SessionUser,
    company: CompanyRef,
}

/// A live pay link: who it was sent to, for which company and invoices, by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayLink {
    id: PayLinkId,
    company: CompanyRef,
    invoices: Vec<InvoiceId>,
    email: String,
    sent_by_name: String,
}

/// An API key that was checked, with its scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiKey {
    id: ApiKeyId,
    scope: ApiScope,
}

/// Proof that `by` may act for `company`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyScope {
    company: CompanyId,
    by: Principal,
}

/// The internal id of a company by its Company ID.
pub async fn id_of(pool: &PgPool, code: &CompanyCode) -> Result<CompanyId> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: CompanyId" FROM companies WHERE code = $1"#,
        code.as_str()
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Company".into()).into())
}

fn forbidden<T>() -> std::result::Result<T, AppError> {
    Err(AppError::Forbidden)
}

impl Principal {
    /// The principal of a signed-in user, as their session names them. A customer user
    /// without a company acts for nobody.
    pub fn of_session(user: SessionUser) -> std::result::Result<Principal, AppError> {
        match (user.role, user.company.clone()) {
            (Role::Admin | Role::Clerk, _) => Ok(Principal::Staff(Staff { user })),
            (Role::Customer, Some(company)) => Ok(Principal::Customer(Customer { user, company })),
            (Role::Customer, None) => forbidden(),
        }
    }

    /// The principal of an active user, read from the database: the door for what runs
    /// without a session (`settle make-api-key`, benchmarks, tests).
    pub async fn of_user(pool: &PgPool, id: UserId) -> Result<Principal> {
        let mut conn = pool.acquire().await?;
        let active = sqlx::query_scalar!("SELECT active FROM users WHERE id = $1", id as UserId)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(false);
        if !active {
            return Err(AppError::Forbidden.into());
        }
        let user = crate::people::sessions::user_row(&mut conn, id)
            .await?
            .into_session_user()?;
        Ok(Principal::of_session(user)?)
    }

    /// The first active admin (by id), for work on the command line that an admin does in
    /// the app (`app api-key`); `None` when there is none.
    pub async fn first_admin(pool: &PgPool) -> Result<Option<Admin>> {
        let id = sqlx::query_scalar!(
            r#"SELECT id AS "id: UserId" FROM users WHERE role = 'admin' AND active ORDER BY id LIMIT 1"#
        )
        .fetch_optional(pool)
        .await?;
        Ok(match id {
            Some(id) => Some(Principal::of_user(pool, id).await?.admin()?),
            None => None,
        })
    }

    /// Staff only (what customers never do, such as browsing every company).
    pub fn staff(&self) -> std::result::Result<Staff, AppError> {
        match self {
            Principal::Staff(s) => Ok(s.clone()),
            _ => forbidden(),
        }
    }

    /// Admins only.
    pub fn admin(&self) -> std::result::Result<Admin, AppError> {
        self.staff()?.admin()
    }

    /// The pay link acting, if this is one.
    pub fn pay_link(&self) -> Option<&PayLink> {
        match self {
            Principal::PayLink(l) => Some(l),
            _ => None,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Principal::Staff(_))
    }

    /// The company a customer or a link is bound to; `None` for staff and API keys.
    fn own_company(&self) -> Option<&CompanyRef> {
        match self {
            Principal::Customer(c) => Some(&c.company),
            Principal::PayLink(l) => Some(&l.company),
            Principal::Staff(_) | Principal::ApiKey(_) => None,
        }
    }

    /// The company the caller acts for when they name one by Company ID: staff any company;
    /// a customer their own (naming it, or naming none); a pay link its own, whatever is
    /// named. Another company, or an
    /// unknown or malformed ID, is "not found": a customer learns nothing of other companies.
    pub async fn company(&self, pool: &PgPool, code: &str) -> Result<CompanyScope> {
        let not_found = || AppError::NotFound("Company".into());
        // A link acts for its own company whatever its forms name: the link is the authority.
        if let Principal::PayLink(link) = self {
            return Ok(link.scope());
        }
        match self.own_company() {
            Some(own) => {
                let code = code.trim();
                if code.is_empty() || own.code.as_str().eq_ignore_ascii_case(code) {
                    Ok(self.scope(own.id))
                } else {
                    Err(not_found().into())
                }
            }
            None => {
                if matches!(self, Principal::ApiKey(_)) {
                    return Err(AppError::Forbidden.into());
                }
                let code = CompanyCode::parse(code).map_err(|_| not_found())?;
                Ok(self.scope(id_of(pool, &code).await?))
            }
        }
    }

    /// The caller's scope for a row of `company` they asked for by its own id (an invoice, a
    /// payment, a method): granted when they may act for that company, else "`what` not
    /// found". The one place a row's company is checked against who asks.
    pub fn reach(
        &self,
        company: CompanyId,
        what: &str,
    ) -> std::result::Result<CompanyScope, AppError> {
        let allowed = match self.own_company() {
            Some(own) => own.id == company,
            None => self.is_staff(),
        };
        if allowed {
            Ok(self.scope(company))
        } else {
            Err(AppError::NotFound(what.into()))
        }
    }

    fn scope(&self, company: CompanyId) -> CompanyScope {
        CompanyScope {
            company,
            by: self.clone(),
        }
    }

    /// The customer's consent to a payment, as this caller gives it: staff say how the
    /// customer consented (`channel`, `reference`); a customer consents by paying in the
    /// portal, a link's addressee by paying through the link. An API key takes no payments.
    pub fn consent(
        &self,
        channel: &str,
        reference: &str,
    ) -> std::result::Result<Consent, AppError> {
        match self {
            Principal::Staff(_) => Ok(Consent::parse_staff(channel, reference)?),
            Principal::Customer(c) => Ok(Consent::portal(&c.user.email)),
            Principal::PayLink(l) => Ok(Consent::pay_link(&l.email, &l.sent_by_name)),
            Principal::ApiKey(_) => forbidden(),
        }
    }

    /// Who is recorded in the audit trail.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Staff(s) => s.actor(),
            Principal::Customer(c) => Actor::user(c.user.id, Role::Customer),
            // Nobody signed in: the customer through the link (its id is in the details).
            Principal::PayLink(_) => Actor {
                user_id: None,
                role: Some(Role::Customer),
                api_key_id: None,
            },
            Principal::ApiKey(k) => k.actor(),
        }
    }

    /// The signed-in user who starts what this request does (a payment, a new method):
    /// `None` through a pay link (the customer there holds no account) or an API key.
    pub fn initiator(&self) -> Option<UserId> {
        match self {
            Principal::Staff(s) => Some(s.user.id),
            Principal::Customer(c) => Some(c.user.id),
            Principal::PayLink(_) | Principal::ApiKey(_) => None,
        }
    }

    /// The address of the person acting, as they are known here (a user's sign-in, a link's
    /// addressee); empty for an API key.
    pub fn email(&self) -> &str {
        match self {
            Principal::Staff(s) => &s.user.email,
            Principal::Customer(c) => &c.user.email,
            Principal::PayLink(l) => &l.email,
            Principal::ApiKey(_) => "",
        }
    }
}

impl Staff {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    pub fn name(&self) -> &str {
        &self.user.name
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// This staff member as an admin, when they are one.
    pub fn admin(&self) -> std::result::Result<Admin, AppError> {
        if self.user.role == Role::Admin {
            Ok(Admin(self.clone()))
        } else {
            forbidden()
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, self.user.role)
    }
}

impl Admin {
    /// Every admin is staff.
    pub fn staff(&self) -> &Staff {
        &self.0
    }

    pub fn id(&self) -> UserId {
        self.0.id()
    }

    pub fn actor(&self) -> Actor {
        self.0.actor()
    }
}

impl PayLink {
    /// Made by [`crate::people::pay_links::resolve`] from a live link only.
    pub(crate) fn new(
        id: PayLinkId,
        company: CompanyRef,
        invoices: Vec<InvoiceId>,
        email: String,
        sent_by_name: String,
    ) -> PayLink {
        PayLink {
            id,
            company,
            invoices,
            email,
            sent_by_name,
        }
    }

    pub fn id(&self) -> PayLinkId {
        self.id
    }

    /// The link's own company.
    pub fn company(&self) -> CompanyId {
        self.company.id
    }

    /// The invoices the link was sent for (fixed when it is sent).
    pub fn invoices(&self) -> &[InvoiceId] {
        &self.invoices
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    /// The name of the clerk who sent the link.
    pub fn sent_by_name(&self) -> &str {
        &self.sent_by_name
    }

    /// The link's own company.
    pub fn scope(&self) -> CompanyScope {
        CompanyScope {
            company: self.company.id,
            by: Principal::PayLink(self.clone()),
        }
    }
}

impl ApiKey {
    /// Made by [`crate::integration::api_keys::authenticate`] from a checked secret only.
    pub(crate) fn new(id: ApiKeyId, scope: ApiScope) -> ApiKey {
        ApiKey { id, scope }
    }

    pub fn id(&self) -> ApiKeyId {
        self.id
    }

    pub fn scope(&self) -> ApiScope {
        self.scope
    }

    /// Whether the key may write (the upserts), not only read.
    pub fn may_write(&self) -> bool {
        self.scope == ApiScope::ReadWrite
    }

    pub fn actor(&self) -> Actor {
        Actor::api_key(self.id)
    }
}

impl CompanyScope {
    /// The company this scope is for.
    pub fn id(&self) -> CompanyId {
        self.company
    }

    /// Who acts in it.
    pub fn by(&self) -> &Principal {
        &self.by
    }

    pub fn actor(&self) -> Actor {
        self.by.actor()
    }

    pub fn initiator(&self) -> Option<UserId> {
        self.by.initiator()
    }

    pub fn pay_link(&self) -> Option<&PayLink> {
        self.by.pay_link()
    }

    pub fn is_staff(&self) -> bool {
        self.by.is_staff()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, company: Option<CompanyId>) -> SessionUser {
        SessionUser {
            id: UserId(5),
            name: "Pat".into(),
            email: "pat@example.com".into(),
            role,
            company: company.map(|id| CompanyRef {
                id,
                code: CompanyCode::parse("C1001").unwrap(),
                name: "Acme".into(),
            }),
        }
    }

    #[test]
    fn each_role_reaches_what_it_may_and_nothing_else() {
        let clerk = Principal::of_session(user(Role::Clerk, None)).unwrap();
        let admin = Principal::of_session(user(Role::Admin, None)).unwrap();
        let customer = Principal::of_session(user(Role::Customer, Some(CompanyId(1)))).unwrap();
        assert_eq!(
            Principal::of_session(user(Role::Customer, None)),
            Err(AppError::Forbidden)
        );
        assert!(clerk.staff().is_ok() && clerk.admin().is_err());
        assert!(admin.admin().is_ok());
        assert!(customer.staff().is_err() && customer.admin().is_err());
        assert_eq!(
            clerk.reach(CompanyId(9), "Invoice").unwrap().id(),
            CompanyId(9)
        );
        assert_eq!(
            customer.reach(CompanyId(1), "Invoice").unwrap().id(),
            CompanyId(1)
        );
        assert_eq!(
            customer.reach(CompanyId(2), "Invoice"),
            Err(AppError::NotFound("Invoice".into()))
        );
        let key = Principal::ApiKey(ApiKey::new(ApiKeyId(3), ApiScope::Read));
        assert!(key.reach(CompanyId(1), "Invoice").is_err() && key.staff().is_err());
    }

    #[test]
    fn a_link_acts_for_its_own_company_as_nobody_signed_in() {
        let link = PayLink::new(
            PayLinkId(4),
            user(Role::Customer, Some(CompanyId(1))).company.unwrap(),
            vec![InvoiceId(10)],
            "ann@example.com".into(),
            "Pat".into(),
        );
        let who = Principal::PayLink(link);
        assert_eq!(
            who.reach(CompanyId(1), "Invoice").unwrap().id(),
            CompanyId(1)
        );
        assert!(who.reach(CompanyId(2), "Invoice").is_err());
        assert!(who.staff().is_err());
        assert_eq!(who.initiator(), None);
        assert_eq!(who.actor().user_id, None);
        assert_eq!(who.email(), "ann@example.com");
    }
}
