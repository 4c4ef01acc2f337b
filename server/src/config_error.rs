//! Why the settings cannot be used: its own module, so the settings of each part (the NACHA
//! rail's, Stripe's) can say so without depending on the whole configuration.

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DATABASE_URL is not set (run `make run`, which starts a local PostgreSQL, or set it to your server)")]
    MissingDatabaseUrl,
    #[error("SETTLE_SECRET_KEY (or SETTLE_SECRET_KEY_FILE) is not set: links in emails are signed with it. Set it to at least 32 random characters, the same on every instance (only demo mode, SETTLE_DEMO=1, runs without one)")]
    MissingSecretKey,
    #[error("SETTLE_SECRET_KEY_FILE {path:?} cannot be read: {error}")]
    SecretKeyFile { path: String, error: String },
    #[error("{name} must be {expected}, got {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
}
