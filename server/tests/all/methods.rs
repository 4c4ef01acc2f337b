//! Saved payment methods on a real PostgreSQL: adding cards and ACH accounts from gateway
//! tokens, the debit authorization rule, uploads judged by content, the methods list, and
//! that no full card number is ever stored.

use crate::common;

use common::{card_request, fixture, Fixture};
use server::authority::Principal;
use server::gateway::{tokenize, TokenizeRefusal, TEST_ACH_SETTLES, TEST_CARDS, TEST_ROUTING};
use server::methods;
use shared::card::CardBrand;
use shared::method::{
    AuthorizationInput, Instrument, MethodKind, MethodOption, MethodQuery, MethodSearch,
    MethodSort, MethodStatus, NewBankAccount, NewBankAccountInput, NewCard, TokenizeRequest,
};
use shared::{AppError, CompanyId, DocumentId};
use sqlx::PgPool;

fn today() -> chrono::NaiveDate {
    server::companies::today()
}

/// A one-page PDF, as a scanner would make.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn bank_request(account: &str) -> TokenizeRequest {
    TokenizeRequest::BankAccount {
        routing_number: TEST_ROUTING.into(),
        account_number: account.into(),
        holder_name: "C1002 AP".into(),
        account_type: None,
    }
}

fn field_of(e: server::Error) -> (String, String) {
    match e.into_app() {
        AppError::Invalid(fe) => (fe.field, fe.message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

impl Fixture {
    async fn bank_token(&self, account: &str) -> String {
        tokenize(&self.gateway, &bank_request(account), today())
            .await
            .unwrap()
            .token
    }

    fn ach_input(
        &self,
        token: &str,
        document_id: Option<DocumentId>,
        signed_on: &str,
    ) -> NewBankAccountInput {
        NewBankAccountInput {
            company: "C1002".into(),
            token: token.into(),
            holder_name: "C1002 AP".into(),
            holder_type: "business".into(),
            account_type: "savings".into(),
            authorization: AuthorizationInput::Uploaded {
                document_id,
                signed_on: signed_on.into(),
            },
        }
    }

    /// Adds a bank account as the server function does: parsed at the edge, then saved for
    /// C1002 by `who`.
    async fn add_ach(
        &self,
        who: &Principal,
        input: NewBankAccountInput,
    ) -> server::Result<MethodOption> {
        self.add_ach_for(who, self.company_id, input).await
    }

    /// [`Fixture::add_ach`] for another company.
    async fn add_ach_for(
        &self,
        who: &Principal,
        company: CompanyId,
        input: NewBankAccountInput,
    ) -> server::Result<MethodOption> {
        let account = NewBankAccount::parse(&input, today())?;
        methods::add_bank_account(
            &self.pool,
            &self.gateway,
            &who.reach(company, "Company")?,
            &account,
            Some("203.0.113.7"),
            Some("Mozilla/5.0 (X11; Linux x86_64)"),
            today(),
        )
        .await
    }

    /// Saves a card from `token` as the server function does.
    async fn add_card_token(&self, token: &str, holder: &str) -> server::Result<MethodOption> {
        let card = NewCard::parse(&shared::method::NewCardInput {
            company: "C1002".into(),
            token: token.into(),
            holder_name: holder.into(),
        })?;
        methods::add_card(
            &self.pool,
            &self.gateway,
            &self.scope(&self.clerk),
            &card,
            today(),
        )
        .await
    }

    /// Every row of every table, as text, holding none of the test card numbers.
    async fn assert_no_card_numbers(&self) {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(table_name) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        for table in tables {
            for (number, _, _) in TEST_CARDS {
                let hits: i64 = sqlx::query_scalar(&format!(
                    "SELECT count(*) FROM {table} t WHERE t::text LIKE '%' || $1 || '%'"
                ))
                .bind(number)
                .fetch_one(&self.pool)
                .await
                .unwrap();
                assert_eq!(hits, 0, "{table} holds the card number {number}");
            }
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_card_is_saved_from_its_token_with_an_audit_row_and_no_number(pool: PgPool) {
    let f = fixture(pool).await;
    let id = f.add_card("5555 5555 5555 4444").await;
    let m = methods::active_methods(&f.pool, &f.scope(&f.clerk))
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == id)
        .expect("the new card is offered at once");
    assert_eq!((m.kind(), m.last4.as_str()), (MethodKind::Card, "4444"));
    assert_eq!(
        m.instrument,
        Instrument::Card {
            brand: CardBrand::Mastercard,
            exp_month: 12,
            exp_year: 2030,
            funding: shared::card::CardFunding::Credit,
        }
    );
    assert_eq!(
        f.count(&format!("SELECT count(*) FROM audit_events WHERE action = 'payment_method.added' AND entity_id = '{id}'")).await,
        1
    );
    let d = methods::detail(&f.pool, &f.clerk.staff().unwrap(), id, today())
        .await
        .unwrap();
    assert_eq!(d.summary.added_by.as_deref(), Some("Casey Clerk"));
    assert_eq!(d.history.len(), 1);
    assert!(d.history[0].what.starts_with("Added Mastercard"));
    f.add_card("4242424242424242").await;
    f.assert_no_card_numbers().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn the_tokenizer_refuses_bad_cards_beside_their_fields(pool: PgPool) {
    let f = fixture(pool).await;
    let before = f.count("SELECT count(*) FROM sandbox_tokens").await;
    let refusal = |r: Result<_, TokenizeRefusal>| match r {
        Err(TokenizeRefusal::Field(fe)) => (fe.field, fe.message),
        other => panic!("expected a field refusal, got {other:?}"),
    };
    let card = |number: &str, month: u32, year: i32, cvc: &str| TokenizeRequest::Card {
        number: number.into(),
        exp_month: month,
        exp_year: year,
        cvc: cvc.into(),
        postal_code: "94107".into(),
        holder_name: "A Holder".into(),
    };
    let t = today();
    let cases = [
        (card("4242424242424241", 12, 2030, "123"), "card_number"),
        (card("4242424242424242", 1, 2020, "123"), "expiry"),
        (card("4242424242424242", 12, 2030, "12"), "cvc"),
        (card("378282246310005", 12, 2030, "123"), "cvc"),
    ];
    for (request, field) in cases {
        let (got, message) = refusal(tokenize(&f.gateway, &request, t).await);
        assert_eq!(got, field, "{message}");
    }
    let bad_routing = TokenizeRequest::BankAccount {
        routing_number: "110000001".into(),
        account_number: TEST_ACH_SETTLES.into(),
        holder_name: "A".into(),
        account_type: None,
    };
    assert_eq!(
        refusal(tokenize(&f.gateway, &bad_routing, t).await).0,
        "routing_number"
    );
    assert_eq!(
        refusal(tokenize(&f.gateway, &bank_request("123"), t).await).0,
        "account_number"
    );
    assert_eq!(
        f.count("SELECT count(*) FROM sandbox_tokens").await,
        before,
        "nothing was tokenized"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_card_token_must_be_known_a_card_and_saved_once(pool: PgPool) {
    let f = fixture(pool).await;
    let before = f.count("SELECT count(*) FROM payment_methods").await;
    let add = |token: String| {
        let f = &f;
        async move { f.add_card_token(&token, "A Holder").await }
    };
    assert_eq!(
        field_of(add("tok_unknown".into()).await.unwrap_err()).0,
        "token"
    );
    let bank = f.bank_token(TEST_ACH_SETTLES).await;
    assert!(field_of(add(bank).await.unwrap_err())
        .1
        .contains("bank account, not a card"));
    let card = tokenize(&f.gateway, &card_request("4242424242424242"), today())
        .await
        .unwrap()
        .token;
    add(card.clone()).await.unwrap();
    assert_eq!(
        field_of(add(card).await.unwrap_err()).1,
        "This card is already saved for this company."
    );
    assert_eq!(
        f.count("SELECT count(*) FROM payment_methods").await,
        before + 1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn ach_cannot_be_added_without_its_signed_authorization(pool: PgPool) {
    let f = fixture(pool).await;
    let before = f.count("SELECT count(*) FROM payment_methods").await;
    let token = f.bank_token(TEST_ACH_SETTLES).await;
    let e = f
        .add_ach(&f.clerk, f.ach_input(&token, None, "2026-01-15"))
        .await
        .unwrap_err();
    let (field, message) = field_of(e);
    assert_eq!(field, "document");
    assert!(
        message.contains("ACH cannot be added without it"),
        "{message}"
    );
    // The database refuses it too, whatever the code above does.
    let direct = sqlx::query(
        "INSERT INTO payment_methods (company_id, kind, gateway_token, holder_name, last4, routing_number, account_type, holder_type) \
         VALUES ($1, 'ach', 'ba_direct', 'X', '6789', '110000000', 'checking', 'business')",
    )
    .bind(f.company_id)
    .execute(&f.pool)
    .await;
    assert!(
        direct.is_err(),
        "the schema requires the authorization document"
    );
    // A signed date in the future is refused, and so is another company's or another user's upload.
    let doc = methods::store_document(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        "auth.pdf",
        PDF,
    )
    .await
    .unwrap();
    let tomorrow = (today() + chrono::Days::new(1)).to_string();
    let e = f
        .add_ach(&f.clerk, f.ach_input(&token, Some(doc.id), &tomorrow))
        .await
        .unwrap_err();
    assert_eq!(
        field_of(e),
        (
            "signed_on".into(),
            "The signed date cannot be in the future.".into()
        )
    );
    let e = f
        .add_ach(
            &f.other_clerk,
            f.ach_input(&token, Some(doc.id), "2026-01-15"),
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(e).0, "document");
    let e = f
        .add_ach_for(
            &f.clerk,
            CompanyId(f.company_id.0 + 1),
            f.ach_input(&token, Some(doc.id), "2026-01-15"),
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(e).0, "document");
    assert_eq!(
        f.count("SELECT count(*) FROM payment_methods").await,
        before,
        "nothing was added"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn ach_with_its_authorization_is_saved_and_keeps_the_document(pool: PgPool) {
    let f = fixture(pool).await;
    let token = f.bank_token("000555666777").await;
    let doc = methods::store_document(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        "C:\\scans\\auth.pdf",
        PDF,
    )
    .await
    .unwrap();
    assert_eq!(
        (doc.file_name.as_str(), doc.content_type.as_str()),
        ("auth.pdf", "application/pdf")
    );
    let m = f
        .add_ach(&f.clerk, f.ach_input(&token, Some(doc.id), "2026-01-15"))
        .await
        .unwrap();
    assert_eq!(m.label(), "First Sandbox Bank savings •••• 6777");
    let d = methods::detail(&f.pool, &f.clerk.staff().unwrap(), m.id, today())
        .await
        .unwrap();
    let kept = d
        .document
        .expect("the authorization is kept with the method");
    assert_eq!(kept.id, doc.id);
    assert_eq!(
        kept.signed_on.map(|s| s.to_string()).as_deref(),
        Some("2026-01-15")
    );
    assert_eq!(kept.sha256.len(), 64);
    assert_eq!(d.routing_number.as_deref(), Some(TEST_ROUTING));
    let (name, content_type, bytes) = methods::document_file(&f.pool, &f.clerk, doc.id)
        .await
        .unwrap();
    assert_eq!(
        (name.as_str(), content_type.as_str(), bytes.as_slice()),
        ("auth.pdf", "application/pdf", PDF)
    );
    // Another company cannot open it; the same document cannot authorize a second account.
    assert!(matches!(
        methods::document_file(&f.pool, &f.customer_of("C1003").await, doc.id)
            .await
            .unwrap_err()
            .into_app(),
        AppError::NotFound(_)
    ));
    let second = f.bank_token("000111222333").await;
    let e = f
        .add_ach(&f.clerk, f.ach_input(&second, Some(doc.id), "2026-01-15"))
        .await
        .unwrap_err();
    assert!(field_of(e).1.contains("already on file"));
}

#[sqlx::test(migrations = "./migrations")]
async fn uploads_are_judged_by_content_and_size(pool: PgPool) {
    let f = fixture(pool).await;
    let before = f.count("SELECT count(*) FROM documents").await;
    let refused = |name: &'static str, bytes: Vec<u8>| {
        let f = &f;
        async move {
            let e = methods::store_document(
                &f.pool,
                &f.clerk.staff().unwrap(),
                &f.scope(&f.clerk),
                name,
                &bytes,
            )
            .await
            .unwrap_err();
            let (field, message) = field_of(e);
            assert_eq!(field, "document");
            message
        }
    };
    assert!(refused("auth.pdf", Vec::new())
        .await
        .starts_with("The file is empty"));
    assert!(refused("auth.docx", b"PK\x03\x04 word".to_vec())
        .await
        .starts_with("This file type is not accepted"));
    assert!(refused("auth.pdf", b"GIF89a not a pdf".to_vec())
        .await
        .starts_with("This file is named .pdf but is not a PDF"));
    let mut big = PDF.to_vec();
    big.resize(11 * 1024 * 1024, b' ');
    assert!(refused("big.pdf", big)
        .await
        .contains("11.0 MB — larger than the 10 MB limit"));
    assert_eq!(
        f.count("SELECT count(*) FROM documents").await,
        before,
        "nothing was stored"
    );
    let png = methods::store_document(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        "scan.pdf",
        b"\x89PNG\r\n\x1a\nrest",
    )
    .await
    .unwrap();
    assert_eq!(
        png.content_type, "image/png",
        "the content decides, not the name"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_methods_list_searches_filters_sorts_and_pages_on_the_server(pool: PgPool) {
    let f = fixture(pool).await;
    let search = |q: &str, company: &str, sort: &str, dir: &str, page: i64| {
        MethodSearch::parse(&MethodQuery {
            q: q.into(),
            company: company.into(),
            sort: sort.into(),
            dir: dir.into(),
            page,
        })
        .unwrap()
    };
    let all = f.count("SELECT count(*) FROM payment_methods").await;
    let page1 = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search("", "", "", "", 1),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(page1.total, all);
    assert_eq!(page1.items.len() as i64, all.min(50));
    let page2 = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search("", "", "", "", 2),
        today(),
    )
    .await
    .unwrap();
    assert!(page2
        .items
        .iter()
        .all(|m| !page1.items.iter().any(|p| p.method.id == m.method.id)));

    let c1002 = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search("", "C1002", "", "", 1),
        today(),
    )
    .await
    .unwrap();
    assert!(
        c1002.total >= 4
            && c1002
                .items
                .iter()
                .all(|m| m.company_code.as_str() == "C1002")
    );
    let by_last4 = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search("9995", "", "", "", 1),
        today(),
    )
    .await
    .unwrap();
    assert_eq!(by_last4.total, 10);
    assert!(by_last4.items.iter().all(|m| m.method.last4 == "9995"));
    let name: String = sqlx::query_scalar("SELECT name FROM companies WHERE code = 'C1003'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    let by_name = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search(&name[..6], "", "", "", 1),
        today(),
    )
    .await
    .unwrap();
    assert!(by_name
        .items
        .iter()
        .any(|m| m.company_code.as_str() == "C1003"));

    let sorted = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search("", "", MethodSort::Company.key(), "desc", 1),
        today(),
    )
    .await
    .unwrap();
    let codes: Vec<String> = sorted
        .items
        .iter()
        .map(|m| m.company_code.to_string())
        .collect();
    assert!(codes.windows(2).all(|w| w[0] >= w[1]), "{codes:?}");

    // Deactivated shows as inactive, and sorts after active ones by status.
    let visa = f.method("4242").await;
    methods::set_active(&f.pool, &f.clerk, visa, false)
        .await
        .unwrap();
    let by_status = methods::search(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &search("", "C1002", MethodSort::Status.key(), "asc", 1),
        today(),
    )
    .await
    .unwrap();
    let last = by_status.items.last().unwrap();
    assert_eq!(
        (last.method.id, last.status),
        (visa, MethodStatus::Inactive)
    );
    let company = methods::company_methods(&f.pool, &f.scope(&f.clerk), today())
        .await
        .unwrap();
    assert_eq!(company.len() as i64, c1002.total);
    f.assert_no_card_numbers().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn one_default_per_company_and_only_an_active_method_can_be_it(pool: PgPool) {
    let f = fixture(pool).await;
    let visa = f.method("4242").await;
    let other = f.method("0002").await;
    let default_of = || async {
        sqlx::query_scalar::<_, shared::MethodId>(
            "SELECT id FROM payment_methods WHERE company_id = $1 AND is_default",
        )
        .bind(f.company_id)
        .fetch_all(&f.pool)
        .await
        .unwrap()
    };
    assert_eq!(default_of().await, vec![visa]);
    methods::set_default(&f.pool, &f.clerk, other, today())
        .await
        .unwrap();
    assert_eq!(default_of().await, vec![other]);
    // The payment dialog offers the default first.
    assert_eq!(
        methods::active_methods(&f.pool, &f.scope(&f.clerk))
            .await
            .unwrap()[0]
            .id,
        other
    );
    // Another company's scope cannot touch it; an inactive method cannot be the default.
    assert!(matches!(
        methods::set_default(&f.pool, &f.customer_of("C1003").await, visa, today())
            .await
            .unwrap_err()
            .into_app(),
        AppError::NotFound(_)
    ));
    methods::set_active(&f.pool, &f.clerk, other, false)
        .await
        .unwrap();
    assert!(
        default_of().await.is_empty(),
        "deactivating the default leaves none"
    );
    let (field, _) = field_of(
        methods::set_default(&f.pool, &f.clerk, other, today())
            .await
            .unwrap_err(),
    );
    assert_eq!(field, "method");
    methods::set_default(&f.pool, &f.clerk, visa, today())
        .await
        .unwrap();
    assert_eq!(default_of().await, vec![visa]);
    assert_eq!(
        f.count(&format!("SELECT count(*) FROM audit_events WHERE action = 'payment_method.default_set' AND on_behalf_company_id = {}", f.company_id)).await,
        2
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_customer_authorizes_ach_in_the_portal_and_the_agreement_is_kept(pool: PgPool) {
    let f = fixture(pool).await;
    let customer = f.customer_of("C1002").await;
    let token = f.bank_token("000777888999").await;
    let input = |agreed: bool, name: &str, version: &str| NewBankAccountInput {
        company: String::new(),
        token: token.clone(),
        holder_name: "C1002 AP".into(),
        holder_type: "business".into(),
        account_type: "checking".into(),
        authorization: AuthorizationInput::InPortal {
            version: version.into(),
            signed_name: name.into(),
            agreed,
        },
    };
    let before = f.count("SELECT count(*) FROM payment_methods").await;
    let add = |i: NewBankAccountInput| {
        let (f, customer) = (&f, &customer);
        async move { f.add_ach(customer, i).await }
    };
    let v = shared::method::ACH_AUTHORIZATION_VERSION;
    assert_eq!(
        field_of(add(input(false, "Ana Diaz", v)).await.unwrap_err()).0,
        "agreed"
    );
    assert_eq!(
        field_of(add(input(true, "  ", v)).await.unwrap_err()).0,
        "signed_name"
    );
    assert_eq!(
        field_of(add(input(true, "Ana Diaz", "ACH-OLD")).await.unwrap_err()).0,
        "agreed"
    );
    assert_eq!(
        f.count("SELECT count(*) FROM payment_methods").await,
        before,
        "nothing added"
    );

    let m = add(input(true, "Ana  Diaz", v)).await.unwrap();
    let d = methods::detail(&f.pool, &f.clerk.staff().unwrap(), m.id, today())
        .await
        .unwrap();
    let doc = d
        .document
        .expect("the agreement is the authorization document");
    assert_eq!(doc.content_type, "text/plain");
    assert_eq!(doc.signed_on, Some(today()));
    let (_, _, bytes) = methods::document_file(&f.pool, &f.clerk, doc.id)
        .await
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for part in [
        v,
        "Signed (typed name): Ana Diaz",
        "ap@c1002.example",
        "From address: 203.0.113.7",
        "I authorize",
        "•••• 8999",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
    assert!(
        d.history[0].who.ends_with("(customer)"),
        "{}",
        d.history[0].who
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn one_authorization_attached_twice_at_once_makes_one_method(pool: PgPool) {
    let f = fixture(pool).await;
    let doc = methods::store_document(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        "auth.pdf",
        PDF,
    )
    .await
    .unwrap();
    let (a, b) = (
        f.bank_token("000444555666").await,
        f.bank_token("000111222333").await,
    );
    let (ia, ib) = (
        f.ach_input(&a, Some(doc.id), "2026-01-15"),
        f.ach_input(&b, Some(doc.id), "2026-01-15"),
    );
    let (ra, rb) = tokio::join!(f.add_ach(&f.clerk, ia), f.add_ach(&f.clerk, ib),);
    let (ok, err): (Vec<_>, Vec<_>) = [ra, rb].into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 1, "exactly one account gets the authorization");
    let (field, message) = field_of(err.into_iter().next().unwrap().unwrap_err());
    assert_eq!(field, "document");
    assert!(message.contains("already on file"), "{message}");
    assert_eq!(
        f.count(&format!(
            "SELECT count(*) FROM payment_methods WHERE authorization_document_id = {}",
            doc.id
        ))
        .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_same_card_or_account_is_not_saved_twice(pool: PgPool) {
    let f = fixture(pool).await;
    let before = f.count("SELECT count(*) FROM payment_methods").await;
    // A retry after a lost answer tokenizes again: a new token for the same card.
    f.add_card("5555555555554444").await;
    let again = tokenize(&f.gateway, &card_request("5555 5555 5555 4444"), today())
        .await
        .unwrap();
    let e = f.add_card_token(&again.token, "A").await.unwrap_err();
    assert_eq!(
        field_of(e).1,
        "This card is already saved for this company."
    );
    // C1002's demo ACH account (routing 110000000, •••• 6789), deactivated: activate it instead.
    let ach: shared::MethodId =
        sqlx::query_scalar("SELECT id FROM payment_methods WHERE company_id = $1 AND kind = 'ach'")
            .bind(f.company_id)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    methods::set_active(&f.pool, &f.clerk, ach, false)
        .await
        .unwrap();
    let token = f.bank_token(TEST_ACH_SETTLES).await;
    let doc = methods::store_document(
        &f.pool,
        &f.clerk.staff().unwrap(),
        &f.scope(&f.clerk),
        "auth.pdf",
        PDF,
    )
    .await
    .unwrap();
    let e = f
        .add_ach(&f.clerk, f.ach_input(&token, Some(doc.id), "2026-01-15"))
        .await
        .unwrap_err();
    assert!(field_of(e).1.contains("inactive: activate it instead"));
    assert_eq!(
        f.count("SELECT count(*) FROM payment_methods").await,
        before + 1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn every_ach_authorization_is_exported_with_its_index_and_revoked_ones_for_two_years(
    pool: PgPool,
) {
    use server::reports::authorizations;
    use sha2::{Digest, Sha256};
    use shared::authorization::{AuthorizationSource, AuthorizationsFilter};
    use std::io::Read;

    let f = fixture(pool).await;
    let staff = f.clerk.staff().unwrap();
    // An online agreement beside the demo's signed documents.
    let customer = f.customer_of("C1002").await;
    let token = f.bank_token("000777888999").await;
    let online = f
        .add_ach(
            &customer,
            NewBankAccountInput {
                company: String::new(),
                token,
                holder_name: "C1002 AP".into(),
                holder_type: "business".into(),
                account_type: "checking".into(),
                authorization: AuthorizationInput::InPortal {
                    version: shared::method::ACH_AUTHORIZATION_VERSION.into(),
                    signed_name: "Ana Diaz".into(),
                    agreed: true,
                },
            },
        )
        .await
        .unwrap();
    let every = AuthorizationsFilter::default();
    let list = authorizations::list(&f.pool, &staff, &every).await.unwrap();
    let ach = f
        .count("SELECT count(*) FROM payment_methods WHERE kind = 'ach'")
        .await;
    assert!(ach >= 2);
    assert_eq!(list.total as i64, ach);
    let row = list
        .rows
        .iter()
        .find(|r| r.method_id == online.id.0)
        .unwrap();
    assert_eq!(row.source, AuthorizationSource::Portal);
    assert_eq!(row.signed_by, "Ana Diaz");
    assert_eq!(row.address.as_deref(), Some("203.0.113.7"));
    assert_eq!(row.revoked_at, None);
    let signed = list
        .rows
        .iter()
        .find(|r| r.source == AuthorizationSource::Document)
        .unwrap();
    assert_eq!(signed.signed_at, "2026-01-15");
    assert_eq!(signed.signed_by, signed.holder_name);

    // Revoked: still produced, with when; two years and a day later, no more.
    methods::set_active(&f.pool, &customer, online.id, false)
        .await
        .unwrap();
    let list = authorizations::list(&f.pool, &staff, &every).await.unwrap();
    let row = list
        .rows
        .iter()
        .find(|r| r.method_id == online.id.0)
        .unwrap();
    assert!(row.revoked_at.is_some());
    assert_eq!(list.total as i64, ach);
    sqlx::query(
        "UPDATE payment_methods SET deactivated_at = now() - interval '731 days' WHERE id = $1",
    )
    .bind(online.id)
    .execute(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        authorizations::list(&f.pool, &staff, &every)
            .await
            .unwrap()
            .total as i64,
        ach - 1
    );
    sqlx::query(
        "UPDATE payment_methods SET deactivated_at = now() - interval '729 days' WHERE id = $1",
    )
    .bind(online.id)
    .execute(&f.pool)
    .await
    .unwrap();

    // Filtered by company and by the day given.
    let c1002 = AuthorizationsFilter {
        company: Some("C1002".into()),
        ..Default::default()
    };
    let mine = authorizations::list(&f.pool, &staff, &c1002).await.unwrap();
    assert_eq!(mine.total, 2, "the demo's account and the online one");
    assert!(mine.rows.iter().all(|r| r.company_code == "C1002"));
    let tomorrow = AuthorizationsFilter {
        from: Some(today() + chrono::Days::new(1)),
        ..Default::default()
    };
    assert_eq!(
        authorizations::list(&f.pool, &staff, &tomorrow)
            .await
            .unwrap()
            .total,
        0
    );

    // The zip: every authorization as kept, its index, each file's SHA-256; audited.
    let export = authorizations::export(&f.pool, &staff, &c1002)
        .await
        .unwrap();
    assert_eq!(export.authorizations, 2);
    let mut file = export.zip.file;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes.len() as u64, export.zip.bytes);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(zip.len(), 3);
    let mut index = String::new();
    zip.by_name("index.csv")
        .unwrap()
        .read_to_string(&mut index)
        .unwrap();
    let mut reader = csv::Reader::from_reader(index.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, shared::authorization::INDEX_COLUMNS);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    for r in &records {
        let mut content = Vec::new();
        zip.by_name(&r[col("file")])
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        let kept: Vec<u8> = sqlx::query_scalar(
            "SELECT d.sha256 FROM payment_methods m JOIN documents d ON d.id = m.authorization_document_id WHERE m.id = $1",
        )
        .bind(r[col("method_id")].parse::<i64>().unwrap())
        .fetch_one(&f.pool)
        .await
        .unwrap();
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(hex(&Sha256::digest(&content)), hex(&kept));
        assert_eq!(&r[col("sha256")], hex(&kept));
        assert_eq!(&r[col("company_code")], "C1002");
    }
    let online_row = records
        .iter()
        .find(|r| r[col("method_id")] == online.id.to_string())
        .unwrap();
    assert_eq!(&online_row[col("authorization")], "portal");
    assert_eq!(&online_row[col("signed_by")], "Ana Diaz");
    assert_eq!(&online_row[col("signed_from_address")], "203.0.113.7");
    assert!(!online_row[col("revoked_at")].is_empty());
    let audit: serde_json::Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'export.ach_authorizations' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(audit["authorizations"], 2);
    assert_eq!(audit["company"], "C1002");
    assert_eq!(
        audit["sha256"],
        Sha256::digest(&bytes)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    );
}
