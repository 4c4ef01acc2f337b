//! The ledger identity checked on a database after whatever ran on it (`make test` runs it
//! on the browser suite's database): prints each check's count of rows off, and fails when
//! any is not 0.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the database to check");
    let pool = sqlx::PgPool::connect(&url).await.expect("the database");
    let checks = [
        ("invoices_off", server::ledger::balances_off(&pool).await),
        (
            "company_figures_off",
            server::ledger::company_balances_off(&pool).await,
        ),
        (
            "lines_refunded_past_paid",
            server::ledger::refunds_over(&pool).await,
        ),
        ("credits_off", server::ledger::credits_off(&pool).await),
        (
            "payments_not_their_lines",
            server::ledger::payments_off(&pool).await,
        ),
    ];
    let mut off = false;
    for (name, n) in checks {
        let n = n.expect("the check ran");
        println!("{name}={n}");
        off |= n != 0;
    }
    if off {
        eprintln!("the ledger identity does not hold on this database");
        std::process::exit(1);
    }
}
