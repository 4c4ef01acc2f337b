//! Users, roles and sign-in input.

use crate::company::CompanyCode;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// What a user may do. Staff work in the operations portal; customers in the customer portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum Role {
    /// Staff who also manage staff and customer users.
    Admin,
    /// AR staff: clerks and credit managers.
    Clerk,
    /// A customer company's AP person.
    Customer,
}

impl Role {
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Clerk)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Clerk => "Clerk",
            Role::Customer => "Customer",
        }
    }

    /// Where this role lands after signing in.
    pub fn home(self) -> &'static str {
        if self.is_staff() {
            "/ops"
        } else {
            "/portal"
        }
    }
}

/// The signed-in user, as every screen and server function sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: crate::UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// For customer users: their company. Staff have none.
    pub company: Option<CompanyRef>,
}

impl SessionUser {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

/// A company by its Company ID and name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRef {
    pub id: crate::CompanyId,
    pub code: CompanyCode,
    pub name: String,
}

/// An email address, trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldError::new("email", "Enter your email address."));
        }
        let valid = email.len() <= 254
            && !email.contains(char::is_whitespace)
            && matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if !valid {
            return Err(FieldError::new(
                "email",
                "Enter a valid email address, like name@example.com.",
            ));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the sign-in form sends, checked.
#[derive(Clone, Debug)]
pub struct LoginInput {
    pub email: Email,
    pub password: String,
}

impl LoginInput {
    pub const MAX_PASSWORD: usize = 1024;

    pub fn parse(email: &str, password: &str) -> Result<Self, FieldError> {
        let email = Email::parse(email)?;
        if password.is_empty() {
            return Err(FieldError::new("password", "Enter your password."));
        }
        if password.len() > Self::MAX_PASSWORD {
            return Err(FieldError::new("password", "That password is too long."));
        }
        Ok(LoginInput {
            email,
            password: password.to_string(),
        })
    }
}

/// Checks a password a user chooses: 12 to 128 characters, not the one it replaces.
pub fn check_new_password(new: &str, old: &str) -> Result<(), FieldError> {
    let field = "new_password";
    let n = new.chars().count();
    if n == 0 {
        return Err(FieldError::new(
            field,
            "Choose a password of your own to finish signing in.",
        ));
    }
    if n < 12 {
        return Err(FieldError::new(field, "Use at least 12 characters."));
    }
    if n > 128 {
        return Err(FieldError::new(field, "Use at most 128 characters."));
    }
    if new == old {
        return Err(FieldError::new(
            field,
            "Choose a password different from the temporary one.",
        ));
    }
    Ok(())
}

/// A customer user as staff see them on the company's Users tab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerUser {
    pub id: crate::UserId,
    pub name: String,
    pub email: String,
    pub active: bool,
    /// Has not signed in yet to choose their own password.
    pub must_set_password: bool,
    pub last_sign_in: Option<chrono::DateTime<chrono::Utc>>,
}

/// A staff user as admins see them on System → Staff Users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: crate::UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// Invited, and has not chosen a password yet.
    pub must_set_password: bool,
    pub last_sign_in: Option<chrono::DateTime<chrono::Utc>>,
    /// A clerk who may give money back (admins always may).
    #[serde(default)]
    pub may_refund: bool,
}

/// A demo account listed on the sign-in page in demo mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    /// Who it signs in as, in words ("Admin", "Customer (C1001)").
    pub label: String,
    pub email: String,
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn login_input() {
        assert_eq!(LoginInput::parse("", "x").unwrap_err().field, "email");
        assert_eq!(
            LoginInput::parse("a@b.co", "").unwrap_err().field,
            "password"
        );
        assert!(LoginInput::parse("a@b.co", "secret").is_ok());
    }

    #[test]
    fn roles() {
        assert!(Role::Clerk.is_staff());
        assert!(!Role::Customer.is_staff());
        assert_eq!(Role::Customer.home(), "/portal");
        assert_eq!(Role::Clerk.home(), "/ops");
    }

    #[test]
    fn new_passwords() {
        assert!(check_new_password("correct horse battery", "Temp-1234567").is_ok());
        assert_eq!(
            check_new_password("short", "x").unwrap_err().message,
            "Use at least 12 characters."
        );
        assert!(check_new_password("", "x")
            .unwrap_err()
            .message
            .starts_with("Choose a password"));
        assert!(check_new_password("same-as-before!", "same-as-before!").is_err());
    }
}
