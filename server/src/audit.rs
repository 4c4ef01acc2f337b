//! The audit trail: who did what, on whose behalf, when, and what changed. Written in the
//! same transaction as the change it records.

use serde_json::Value;
use shared::auth::Role;
use sqlx::PgConnection;

/// Who acted.
#[derive(Clone, Copy, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub role: Option<Role>,
}

impl Actor {
    pub const SYSTEM: Actor = Actor {
        user_id: None,
        role: None,
    };

    pub fn user(id: i64, role: Role) -> Self {
        Actor {
            user_id: Some(id),
            role: Some(role),
        }
    }
}

/// One audit event.
pub struct Event<'a> {
    pub actor: Actor,
    pub on_behalf_company_id: Option<i64>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<String>,
    pub details: Value,
}

pub async fn record(conn: &mut PgConnection, e: Event<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (actor_user_id, actor_role, on_behalf_company_id, action, \
         entity_type, entity_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.actor.user_id)
    .bind(e.actor.role.map(Role::as_db))
    .bind(e.on_behalf_company_id)
    .bind(e.action)
    .bind(e.entity_type)
    .bind(e.entity_id)
    .bind(e.details)
    .execute(conn)
    .await?;
    Ok(())
}
