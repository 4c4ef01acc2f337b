//! A payment's receipt: printable.

use crate::error::ApiError;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::format::date;
use shared::payment::{PaymentStatus, Receipt};
use shared::refund::{RefundKind, RefundStatus, RefundView};

/// The status badge of a payment; "Checking with the gateway" while its gateway answer is
/// overdue and Settle keeps asking.
#[component]
pub fn PaymentBadge(status: PaymentStatus, #[prop(optional)] checking: bool) -> impl IntoView {
    let tone = match status {
        PaymentStatus::Approved | PaymentStatus::Settled => "badge-green",
        PaymentStatus::Pending | PaymentStatus::Processing => "badge-amber",
        PaymentStatus::Declined | PaymentStatus::Returned | PaymentStatus::Failed => "badge-red",
        PaymentStatus::Voided => "badge-neutral",
    };
    let label = if checking {
        "Checking with the gateway"
    } else {
        status.label()
    };
    view! { <span class=format!("badge {tone}") data-testid="payment-status">{label}</span> }
}

#[component]
pub fn ReceiptView(receipt: Receipt) -> impl IntoView {
    let r = receipt;
    let who = if r.on_behalf {
        format!("{} on behalf of {}", r.taken_by, r.company_name)
    } else {
        r.taken_by.clone()
    };
    view! {
        <div class="receipt" data-testid="receipt">
            <div class="receipt-head">
                <div>
                    <div class="receipt-label">"Payment"</div>
                    <div class="receipt-number mono" data-testid="payment-number">{r.number.clone()}</div>
                </div>
                <PaymentBadge status=r.status checking=r.checking_with_gateway/>
            </div>
            <dl class="receipt-facts">
                <dt>"Company"</dt><dd>{format!("{} ({})", r.company_name, r.company_code)}</dd>
                <dt>"Amount"</dt><dd class="num-left strong">{r.amount.display()}</dd>
                <dt>"Method"</dt><dd>{r.method.clone()}</dd>
                <dt>"Date"</dt><dd>{format!("{} {}", date(r.at.date_naive()), r.at.format("%H:%M UTC"))}</dd>
                <dt>"Taken by"</dt><dd>{who}</dd>
                {r.consent.clone().map(|c| view! {
                    <dt>"Authorization"</dt><dd>{format!("{}: {}", c.channel.label(), c.reference)}</dd>
                })}
                {r.failure_message.clone().map(|m| view! { <dt>"Note"</dt><dd>{m}</dd> })}
                {r.dispute.clone().map(|m| view! { <dt>"Dispute"</dt><dd class="text-alert" data-testid="dispute">{m}</dd> })}
            </dl>
            <table class="table compact receipt-lines">
                <caption class="sr-only">"Invoices paid"</caption>
                <thead><tr>
                    <th scope="col">"Invoice"</th>
                    <th scope="col" class="num">"Applied"</th>
                    <th scope="col" class="num">"New balance"</th>
                </tr></thead>
                <tbody>
                    {r.lines.iter().map(|l| view! {
                        <tr>
                            <td>
                                <span class="mono">{l.invoice_number.clone()}</span>
                                {l.short_pay.clone().map(|why| view! { <div class="small muted" data-testid="short-pay">{format!("Paid short: {why}")}</div> })}
                                {l.fee.map(|fee| view! { <div class="small muted">{format!("Its share of the surcharge: {}", fee.display())}</div> })}
                            </td>
                            <td class="num">{l.applied.display()}</td>
                            <td class="num">{l.new_balance.display()}</td>
                        </tr>
                    }).collect_view()}
                    {r.surcharge.clone().map(|c| view! {
                        <tr data-testid="receipt-surcharge">
                            <td>
                                {c.label()}
                                <div class="small muted">"Spread over the invoices above; never part of a balance"</div>
                            </td>
                            <td class="num">{c.amount.display()}</td>
                            <td class="num">"—"</td>
                        </tr>
                    })}
                    {r.on_account.clone().map(|c| view! {
                        <tr data-testid="on-account">
                            <td>
                                "On account "<span class="mono">{c.credit_number}</span>
                                <div class="small muted">{format!("Unapplied credit · {} left", c.unapplied.display())}</div>
                            </td>
                            <td class="num">{c.amount.display()}</td>
                            <td class="num">"—"</td>
                        </tr>
                    })}
                </tbody>
            </table>
            <RefundsList refunds=r.refunds/>
        </div>
    }
}

/// A payment's refunds and reversals: when, where each stands, on which invoices, why, who
/// asked and decided (staff only: the payer's receipt carries no names or notes).
#[component]
fn RefundsList(refunds: Vec<RefundView>) -> impl IntoView {
    (!refunds.is_empty()).then(|| view! {
        <table class="table compact receipt-lines" data-testid="refunds">
            <caption class="receipt-caption">"Money given back"</caption>
            <thead><tr>
                <th scope="col">"Refund"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Details"</th>
                <th scope="col" class="num">"Amount"</th>
            </tr></thead>
            <tbody>
                {refunds.into_iter().map(|g| {
                    let tone = match g.status {
                        RefundStatus::Succeeded => "badge-green",
                        RefundStatus::Pending | RefundStatus::AwaitingApproval => "badge-amber",
                        _ => "badge-red",
                    };
                    let lines = g.lines.iter().map(|l| format!("{} {}", l.invoice_number, l.amount.display())).collect::<Vec<_>>().join(", ");
                    let mut who = vec![format!("{} · {}", date(g.requested_at.date_naive()), g.reason_label)];
                    if g.kind == RefundKind::Dispute {
                        who.push("taken by the card network".to_string());
                    } else if !g.requested_by.is_empty() {
                        who.push(format!("asked by {}", g.requested_by));
                    }
                    if let Some(d) = &g.decided_by {
                        who.push(format!("{} by {d}", if g.status == RefundStatus::Refused { "refused" } else { "approved" }));
                    }
                    view! {
                        <tr data-refund=g.number.clone()>
                            <td class="mono">{g.title()}</td>
                            <td><span class=format!("badge {tone}")>{g.status.label()}</span></td>
                            <td class="small wrap">
                                <div class="mono">{lines}</div>
                                <div class="muted">{who.join(", ")}</div>
                                {g.note.map(|n| view! { <div>{n}</div> })}
                                {g.refusal_reason.or(g.failure_message).map(|m| view! { <div class="text-alert">{m}</div> })}
                            </td>
                            <td class="num">{g.amount.display()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    })
}

/// A receipt's own page (the portal's, the emailed link's): the receipt and "Print receipt",
/// or the error with its HTTP status (a real 404 for a payment that is not there).
#[component]
pub fn ReceiptPage(receipt: Resource<Result<Receipt, ApiError>>) -> impl IntoView {
    view! {
        <Suspense fallback=super::loading_page>
            {move || Suspend::new(async move {
                match receipt.await {
                    Err(e) => {
                        // A link past its days is gone (410); anything else keeps its status.
                        #[cfg(feature = "ssr")]
                        crate::request::set_page_status(if e.message_for("token").is_some() {
                            http::StatusCode::GONE
                        } else {
                            crate::request::status_for(e.app())
                        });
                        view! { <Title text="Not found"/><super::ErrorView error=e/> }.into_any()
                    }
                    Ok(r) => view! {
                        <Title text=format!("Receipt {}", r.number)/>
                        <section class="card-panel"><ReceiptView receipt=r/></section>
                        <button type="button" class="btn" on:click=move |_| { let _ = window().print(); }>"Print receipt"</button>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
