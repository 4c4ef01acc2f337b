//! The invitation form (a customer user on a company's Users tab, a clerk or an admin on
//! System → Staff Users): name, email and, for staff, the role; then "invitation sent", never a
//! password.

use super::{field_error, general_error, ErrorBanner, TextField};
use crate::error::ApiError;
use leptos::prelude::*;
use shared::auth::CustomerUser;

/// What the form sends: name, email, role (empty for a customer user).
pub type InviteAction = Action<(String, String, String), Result<CustomerUser, ApiError>>;

#[component]
pub fn InviteForm(
    send: InviteAction,
    /// Offer clerk or admin (staff invitations).
    #[prop(default = false)]
    with_role: bool,
    on_done: Callback<bool>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(String::from("clerk"));
    let error = move |f: &'static str| field_error(send, f);
    let general = general_error(send);
    let sent = move || send.value().get().and_then(Result::ok);
    view! {
        {move || match sent() {
            Some(u) => view! {
                <div class="modal-body" data-testid="invitation-sent">
                    <p>{format!("Invitation sent to {} ({}).", u.name, u.email)}</p>
                    <p class="muted">"They choose their own password from the link in the email. The link works once and expires in 72 hours."</p>
                    <div class="modal-actions">
                        <button type="button" class="btn btn-primary" on:click=move |_| on_done.run(true)>"Done"</button>
                    </div>
                </div>
            }.into_any(),
            None => view! {
                <form class="form" novalidate on:submit=move |ev| {
                    ev.prevent_default();
                    if !send.pending().get_untracked() {
                        let r = if with_role { role.get_untracked() } else { String::new() };
                        send.dispatch((name.get_untracked(), email.get_untracked(), r));
                    }
                }>
                    <ErrorBanner message=general/>
                    <TextField name="name" label="Name" autocomplete="off" value=name error=error("name")/>
                    <TextField name="email" label="Email" input_type="email" autocomplete="off" value=email error=error("email")/>
                    {with_role.then(|| view! {
                        <div class="field" class:has-error=move || error("role").get().is_some()>
                            <label for="role">"Role"</label>
                            <select id="role" name="role" aria-describedby="role-error"
                                prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                                <option value="clerk">"Clerk: takes payments and manages methods"</option>
                                <option value="admin">"Admin: also manages users and integrations"</option>
                            </select>
                            <super::FieldMessage id="role-error" message=error("role")/>
                        </div>
                    })}
                    <p class="help">"An email with a link to choose a password goes to this address. Inviting someone again who has not accepted yet sends a fresh link."</p>
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| on_done.run(false)>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || send.pending().get()>
                            <Show when=move || send.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                            "Send invitation"
                        </button>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}
