//! The migrations are embedded by `sqlx::migrate!`: a new or changed file under `migrations/`
//! must rebuild the server, or it would start without it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
