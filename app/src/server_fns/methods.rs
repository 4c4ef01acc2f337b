//! Server functions of saved payment methods: those a payer may choose, a company's methods,
//! adding a card or a bank account (staff, a customer, or through a pay link), the System →
//! Payment Methods list and one method's detail, activating and the default.

use crate::codec::{Form, Json};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::method::{
    MethodDetail, MethodOption, MethodQuery, MethodSummary, NewBankAccountInput, NewCardInput,
};
use shared::page::Page;
use shared::MethodId;

#[cfg(feature = "ssr")]
use {
    crate::request::{principal, principal_via, staff, state},
    server::authority::Principal,
    server::companies::today,
};

/// The active saved methods a payer may choose (the payment dialog), default first. Through
/// a pay link (`link`): those saved through it, and the company's default by its label only.
#[server(endpoint = "payment_options", input = Form)]
pub async fn payment_options(
    code: String,
    #[server(default)] link: Option<String>,
) -> Result<Vec<MethodOption>, ApiError> {
    let (st, who) = (state()?, principal_via(link.as_deref()).await?);
    Ok(match &who {
        Principal::PayLink(link) => server::methods::offered_through_link(&st.pool, link).await?,
        _ => {
            let scope = who.company(&st.pool, &code).await?;
            server::methods::active_methods(&st.pool, &scope).await?
        }
    })
}

/// Every saved method of a company, active and inactive.
#[server(endpoint = "saved_methods", input = Form)]
pub async fn saved_methods(code: String) -> Result<Vec<MethodSummary>, ApiError> {
    let st = state()?;
    let scope = principal()?.company(&st.pool, &code).await?;
    Ok(server::methods::company_methods(&st.pool, &scope, today()).await?)
}

/// Saves a card from the gateway's token (with `link`: through a pay link).
#[server(endpoint = "add_card", input = Json)]
pub async fn add_card(
    card: NewCardInput,
    #[server(default)] link: Option<String>,
) -> Result<MethodOption, ApiError> {
    let (st, who) = (state()?, principal_via(link.as_deref()).await?);
    let scope = who.company(&st.pool, &card.company).await?;
    let mut parsed = shared::method::NewCard::parse(&card)?;
    // With Stripe the form sends the SetupIntent Stripe.js confirmed: its card, when it was
    // set up for this company.
    if let Some(stripe) = &st.stripe {
        parsed.token = stripe
            .card_from_setup(scope.id().0, &parsed.token)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "Stripe card not taken");
                shared::AppError::Invalid(shared::error::FieldError::new(
                    "card_number",
                    "The card could not be confirmed with the payment gateway. Enter it again.",
                ))
            })?;
    }
    Ok(server::methods::add_card(&st.pool, st.gateway.as_ref(), &scope, &parsed, today()).await?)
}

/// How the add-card form takes the number: the sandbox's tokenizer, or (Stripe) Stripe.js
/// with a SetupIntent made now for the company's Stripe customer.
#[server(endpoint = "card_entry", input = Json)]
pub async fn card_entry(
    company: String,
    #[server(default)] link: Option<String>,
) -> Result<shared::method::CardEntry, ApiError> {
    let (st, who) = (state()?, principal_via(link.as_deref()).await?);
    let scope = who.company(&st.pool, &company).await?;
    let Some(stripe) = &st.stripe else {
        return Ok(shared::method::CardEntry::Sandbox);
    };
    let setup = async {
        let customer = stripe.customer(scope.id().0).await?;
        stripe.card_setup(&customer).await
    };
    match setup.await {
        Ok(s) => Ok(shared::method::CardEntry::Stripe {
            publishable_key: stripe.settings().publishable_key.clone(),
            client_secret: s.client_secret.unwrap_or_default(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "Stripe card setup failed");
            Err(shared::AppError::Invalid(shared::error::FieldError::new(
                "card_number",
                "The payment gateway is not answering, so cards cannot be added right now. Try again in a minute.",
            ))
            .into())
        }
    }
}

/// Saves an ACH bank account from the gateway's token, with the customer's debit
/// authorization (staff: the uploaded signed document; a customer or a pay link's holder:
/// agreed on the page), recording where the request came from.
#[server(endpoint = "add_bank_account", input = Json)]
pub async fn add_bank_account(
    account: NewBankAccountInput,
    #[server(default)] link: Option<String>,
) -> Result<MethodOption, ApiError> {
    let (st, who) = (state()?, principal_via(link.as_deref()).await?);
    let scope = who.company(&st.pool, &account.company).await?;
    let parsed = shared::method::NewBankAccount::parse(&account, today())?;
    let address = crate::request::client_address();
    let user_agent = crate::request::header("user-agent");
    Ok(server::methods::add_bank_account(
        &st.pool,
        st.gateway.as_ref(),
        &scope,
        &parsed,
        address.as_deref(),
        user_agent.as_deref(),
        today(),
    )
    .await?)
}

/// System → Payment Methods: one page of every company's saved methods. Staff only.
#[server(endpoint = "list_payment_methods", input = Json)]
pub async fn list_payment_methods(query: MethodQuery) -> Result<Page<MethodSummary>, ApiError> {
    let (st, staff) = (state()?, staff()?);
    let search = shared::method::MethodSearch::parse(&query)?;
    Ok(server::methods::search(&st.pool, &staff, &search, today()).await?)
}

/// A saved method with its authorization document and history. Staff only.
#[server(endpoint = "payment_method_detail", input = Form)]
pub async fn payment_method_detail(id: MethodId) -> Result<MethodDetail, ApiError> {
    let (st, staff) = (state()?, staff()?);
    Ok(server::methods::detail(&st.pool, &staff, id, today()).await?)
}

/// Activates or deactivates a saved method.
#[server(endpoint = "set_method_active", input = Form)]
pub async fn set_method_active(id: MethodId, active: bool) -> Result<(), ApiError> {
    let (st, who) = (state()?, principal()?);
    Ok(server::methods::set_active(&st.pool, &who, id, active).await?)
}

/// Makes a method its company's default.
#[server(endpoint = "set_default_method", input = Form)]
pub async fn set_default_method(id: MethodId) -> Result<(), ApiError> {
    let (st, who) = (state()?, principal()?);
    Ok(server::methods::set_default(&st.pool, &who, id, today()).await?)
}
