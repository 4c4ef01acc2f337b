//! Who acts, and for which company: the one front door every operation takes. Staff act for
//! any company (on its behalf); a customer user only for their own. Resolved once per request
//! from the session, so no operation decides "scoped or not" by itself.

use crate::audit::Actor;
use crate::Result;
use shared::auth::{Role, SessionUser};
use shared::company::CompanyCode;
use shared::{AppError, CompanyId, UserId};
use sqlx::PgPool;

/// Whose data an operation may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Staff: every company, each on its behalf.
    Staff,
    /// A customer user: this company only.
    Company(CompanyId),
}

/// The signed-in user and their scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acting {
    pub user: SessionUser,
    pub scope: Scope,
    /// Set when a customer acts through an emailed pay link: `user` is then the link's
    /// addressee (the id is the clerk who sent it, who owns the link), not a signed-in user.
    pub pay_link: Option<i64>,
}

impl Acting {
    /// The scope of a signed-in user. A customer user without a company acts for nobody.
    pub fn of(user: SessionUser) -> std::result::Result<Acting, AppError> {
        let scope = match (user.role, &user.company) {
            (Role::Admin | Role::Clerk, _) => Scope::Staff,
            (Role::Customer, Some(c)) => Scope::Company(c.id),
            (Role::Customer, None) => return Err(AppError::Forbidden),
        };
        Ok(Acting {
            user,
            scope,
            pay_link: None,
        })
    }

    pub fn is_staff(&self) -> bool {
        self.scope == Scope::Staff
    }

    /// Staff only (for what customers never do, such as browsing every company).
    pub fn staff(&self) -> std::result::Result<(), AppError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Admins only (managing users).
    pub fn admin(&self) -> std::result::Result<(), AppError> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The company a query is limited to: `None` for staff, the customer's own otherwise.
    pub fn only(&self) -> Option<CompanyId> {
        match self.scope {
            Scope::Staff => None,
            Scope::Company(id) => Some(id),
        }
    }

    /// The company the user acts for when they name one by Company ID: staff any company;
    /// a customer their own (naming it, or naming none). Another company, or an unknown or
    /// malformed ID, is "not found": a customer learns nothing of other companies.
    pub async fn company(&self, pool: &PgPool, code: &str) -> Result<CompanyId> {
        let not_found = || AppError::NotFound("Company".into());
        match self.scope {
            Scope::Company(own) => {
                let named_own = code.trim().is_empty()
                    || self
                        .user
                        .company
                        .as_ref()
                        .is_some_and(|c| c.code.as_str().eq_ignore_ascii_case(code.trim()));
                if named_own {
                    Ok(own)
                } else {
                    Err(not_found().into())
                }
            }
            Scope::Staff => {
                let code = CompanyCode::parse(code).map_err(|_| not_found())?;
                crate::companies::id_of(pool, &code).await
            }
        }
    }

    /// Who is recorded in the audit trail.
    pub fn actor(&self) -> Actor {
        match self.pay_link {
            None => Actor::user(self.user.id, self.user.role),
            // Nobody signed in: the customer through the link (its id is in the details).
            Some(_) => Actor {
                user_id: None,
                role: Some(Role::Customer),
                api_key_id: None,
            },
        }
    }

    /// The user who starts what this request does (a payment, a new method): `None` through
    /// a pay link, where it is the customer who holds no account.
    pub fn initiator(&self) -> Option<UserId> {
        self.pay_link.is_none().then_some(self.user.id)
    }
}
