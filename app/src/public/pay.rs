//! `/pay/:token`: a pay link's page. The payer sees the seller, the company and the link's
//! invoices at their balances now, keeps or lowers each amount (as in the portal), and pays
//! with a saved method or a new card or bank account (authorizing the debit here). No account
//! is needed; the link is spent once paid. `/receipts/:token`: a receipt by its emailed link.

use super::{use_token, PublicFrame};
use crate::components::add_method::AuthorizingCompany;
use crate::components::payment_dialog::PayLine;
use crate::components::receipt::ReceiptPage;
use crate::components::{loading_page, ErrorView, InvoiceTable, Payer, PaymentDialog, Selection};
use crate::server_fns::pay_links::pay_link;
use crate::server_fns::payments::receipt_by_link;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::email::PayLinkStatus;

#[component]
pub fn PayLinkPage() -> impl IntoView {
    let token = use_token();
    let version = RwSignal::new(0u32);
    let link = Resource::new(move || (token.get(), version.get()), |(t, _)| pay_link(t));
    let selection = Selection::new();
    selection.offer_reasons(Some(token.get_untracked()));
    let paying = RwSignal::new(None::<Vec<PayLine>>);
    let problem = RwSignal::new(None::<String>);
    // The ACH wording of a bank account added here names the link's company.
    let company_name = RwSignal::new(String::new());
    provide_context(AuthorizingCompany(company_name));
    let open = move |_| {
        problem.set(None);
        // In the browser, after the link loaded (the button is in its view).
        if let Some(Ok(l)) = link.get_untracked() {
            company_name.set(l.company_name);
        }
        match selection.lines() {
            Ok(lines) if !lines.is_empty() => paying.set(Some(lines)),
            Ok(_) => problem.set(Some("Select at least one invoice to pay.".into())),
            Err(e) => {
                if !crate::components::focus::focus_field(&e.field) {
                    problem.set(Some(e.message));
                }
            }
        }
    };
    let closed = Callback::new(move |paid: bool| {
        paying.set(None);
        if paid {
            version.update(|v| *v += 1);
        }
    });
    view! {
        <Title text="Pay invoices"/>
        <Suspense fallback=|| view! { <PublicFrame brand=String::new()>{loading_page()}</PublicFrame> }>
            {move || Suspend::new(async move {
                match link.await {
                    Err(e) => {
                        #[cfg(feature = "ssr")]
                        crate::request::set_page_status(crate::request::status_for(e.app()));
                        view! {
                            <PublicFrame brand="Settle">
                                <h1>"This pay link does not work"</h1>
                                <ErrorView error=e/>
                            </PublicFrame>
                        }.into_any()
                    }
                    Ok(l) => {
                        let expires = l.expires_at.format("%B %-d, %Y").to_string();
                        let body = match l.status {
                            PayLinkStatus::Paid => view! {
                                <div class="banner banner-success" role="status" data-testid="pay-link-paid">
                                    {format!("Paid, thank you. Payment {}: a receipt is on its way by email. This link cannot be used again.", l.payment_number.clone().unwrap_or_default())}
                                </div>
                            }.into_any(),
                            PayLinkStatus::Expired => view! {
                                <div class="banner banner-error" role="alert">{format!("This link expired on {expires}. Ask {} for a new one.", l.seller)}</div>
                            }.into_any(),
                            PayLinkStatus::Revoked => view! {
                                <div class="banner banner-error" role="alert">{format!("This link was withdrawn. Ask {} for a new one.", l.seller)}</div>
                            }.into_any(),
                            PayLinkStatus::Locked => view! {
                                <div class="banner banner-error" role="alert">{format!("This link is locked after several declined payments. Ask {} for a new one.", l.seller)}</div>
                            }.into_any(),
                            _ if l.invoices.is_empty() => view! {
                                <div class="banner banner-info" role="status">"Nothing is due on these invoices any more: they have been paid or closed."</div>
                            }.into_any(),
                            _ => {
                                selection.clear();
                                selection.add(&l.invoices);
                                view! {
                                    <p>{format!("Keep or lower the amount of each invoice, then review and pay. The link works until {expires}.")}</p>
                                    <InvoiceTable invoices=l.invoices.clone() empty="" selection=selection/>
                                    <div class="selection-bar" role="region" aria-label="Selection">
                                        <span class="selection-summary" data-testid="selection-summary" aria-live="polite">
                                            {move || selection.summary()}
                                        </span>
                                        <button type="button" class="btn btn-primary" on:click=open disabled=move || selection.count() == 0>"Review and pay"</button>
                                    </div>
                                    <div role="alert">{move || problem.get().map(|m| view! { <div class="banner banner-error">{m}</div> })}</div>
                                }.into_any()
                            }
                        };
                        view! {
                            <PublicFrame brand=l.seller.clone()>
                                <div class="page-head">
                                    <h1>{format!("Pay {}'s invoices", l.company_name)}</h1>
                                    <p class="subtitle">{format!("{} of {} sent this link to {}.", l.sent_by, l.seller, l.contact_name)}</p>
                                </div>
                                {body}
                            </PublicFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        {move || paying.get().map(|lines| view! { <PaymentDialog payer=Payer::Link(token.get_untracked()) lines=lines on_close=closed/> })}
    }
}

/// `/receipts/:token`: a payment's receipt from the link in its email.
#[component]
pub fn ReceiptLinkPage() -> impl IntoView {
    let token = use_token();
    let receipt = Resource::new(move || token.get(), receipt_by_link);
    view! {
        <PublicFrame brand="Receipt">
            <ReceiptPage receipt=receipt/>
        </PublicFrame>
    }
}
