//! System → Statements (admins): the day each month the month before's statements are emailed
//! to every company with a balance (off when empty), the remittance details printed on every
//! statement, and what the last run sent. Staff download any company's statement from its page.

use crate::components::{field_error, loading_rows, ErrorView, FieldMessage};
use crate::server_fns::reports::{set_statement_schedule, statement_schedule};
use leptos::prelude::*;
use leptos_meta::Title;
use shared::statement::{StatementSchedule, REMITTANCE_MAX};

fn last_run(s: &StatementSchedule) -> String {
    match &s.last_month {
        None => "No statement has been emailed yet.".into(),
        Some(m) => format!(
            "Last emailed: the statements of {m}, {} {}.",
            shared::format::count(s.last_count),
            if s.last_count == 1 {
                "company"
            } else {
                "companies"
            }
        ),
    }
}

#[component]
fn ScheduleForm(current: StatementSchedule) -> impl IntoView {
    let save = Action::new(move |(day, remittance): &(String, String)| {
        set_statement_schedule(day.clone(), remittance.clone())
    });
    let day = RwSignal::new(current.day.map(|d| d.to_string()).unwrap_or_default());
    let remittance = RwSignal::new(current.remittance.clone());
    let saved = move || save.value().get().and_then(Result::ok);
    let summary = move || saved().unwrap_or_else(|| current.clone());
    view! {
        <form class="form" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save.dispatch((day.get_untracked(), remittance.get_untracked()));
        }>
            <div class="field" class:has-error=move || field_error(save, "day").get().is_some()>
                <label for="day">"Email statements each month on day"</label>
                <select id="day" name="day" aria-describedby="day-help day-error"
                    prop:value=move || day.get() on:change=move |ev| day.set(event_target_value(&ev))>
                    <option value="">"Never (off)"</option>
                    {(1..=28).map(|d| view! { <option value=d.to_string()>{d.to_string()}</option> }).collect_view()}
                </select>
                <p class="help" id="day-help">"On this day of the month (the seller's), each company with an open balance is emailed last month's statement, the PDF attached, at every AP contact with an email address; once per company and month."</p>
                <FieldMessage id="day-error" message=field_error(save, "day")/>
            </div>
            <div class="field" class:has-error=move || field_error(save, "remittance").get().is_some()>
                <label for="remittance">"Remittance details"</label>
                <textarea id="remittance" name="remittance" rows="4" maxlength=REMITTANCE_MAX
                    aria-describedby="remittance-help remittance-error"
                    prop:value=move || remittance.get() on:input=move |ev| remittance.set(event_target_value(&ev))></textarea>
                <p class="help" id="remittance-help">"Printed under \"How to pay\" on every statement, beside its pay link: where to mail checks, bank details for a wire."</p>
                <FieldMessage id="remittance-error" message=field_error(save, "remittance")/>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>"Save"</button>
                <span class="muted" role="status" aria-live="polite">{move || saved().map(|_| "Saved.")}</span>
            </div>
        </form>
        <p class="help" data-testid="statements-last">{move || last_run(&summary())}</p>
    }
}

#[component]
pub fn StatementsPage() -> impl IntoView {
    let schedule = Resource::new(|| (), |_| statement_schedule());
    view! {
        <Title text="Statements"/>
        <div class="page-head">
            <h1>"Statements"</h1>
            <p class="subtitle">"Monthly customer statements: when they are emailed, and how they say to pay."</p>
        </div>
        <section class="card-panel" aria-label="Statement schedule">
            <Transition fallback=move || loading_rows(2)>
                {move || Suspend::new(async move {
                    match schedule.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(s) => view! { <ScheduleForm current=s/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// System → Payment policy and System → Statements in one lazy chunk (both the seller's
/// settings of how customers pay), by the route.
#[component]
pub fn SellerSettingsScreens() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    move || {
        if location.pathname.read().ends_with("/statements") {
            view! { <StatementsPage/> }.into_any()
        } else {
            view! { <crate::ops::policy::PaymentPolicyPage/> }.into_any()
        }
    }
}
