//! Company → Users: the company's customer users. Admins add one (a temporary password is
//! shown once, to hand over; the user chooses their own at first sign-in) and disable or
//! enable them; disabling ends their sessions at once.

use super::use_company_code;
use crate::api::{company_users, create_customer_user, current_user, set_customer_user_active};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::{
    field_error, general_error, loading_rows, DataTable, ErrorBanner, ErrorView, TextField,
};
use leptos::prelude::*;
use shared::auth::{CreatedUser, CustomerUser, Role};
use shared::format::date;

#[component]
pub fn UsersTab() -> impl IntoView {
    let code = use_company_code();
    let version = RwSignal::new(0u32);
    let users = Resource::new(
        move || (code.get(), version.get()),
        |(c, _)| company_users(c),
    );
    let me = Resource::new(|| (), |_| current_user());
    let is_admin = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|u| u.role == Role::Admin)
    };
    let adding = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedUser>);
    let message = RwSignal::new(None::<String>);
    let toggle = Action::new(move |u: &CustomerUser| {
        let (id, active, name) = (u.id, !u.active, u.name.clone());
        async move {
            set_customer_user_active(code.get_untracked(), id, active)
                .await
                .map(|_| (name, active))
        }
    });
    Effect::new(move |_| {
        if let Some(Ok((name, active))) = toggle.value().get() {
            message.set(Some(if active {
                format!("{name} can sign in again.")
            } else {
                format!("{name} is disabled and signed out everywhere.")
            }));
            version.update(|v| *v += 1);
        }
    });
    let confirming = RwSignal::new(None::<CustomerUser>);
    Effect::new(move |_| {
        if toggle.value().get().is_some() {
            confirming.set(None);
        }
    });
    let toggle_error = Signal::derive(move || {
        toggle
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    });
    view! {
        <div class="tab-head">
            <h2>"Customer users"</h2>
            <Show when=is_admin>
                <button type="button" class="btn btn-primary" on:click=move |_| { message.set(None); adding.set(true); }>"Add a user"</button>
            </Show>
        </div>
        <div role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="banner banner-success" data-testid="users-message">{m}</div> })}
        </div>
        <ErrorBanner message=toggle_error/>
        <Transition fallback=move || loading_rows(5)>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state"><p>"No one from this company can sign in to the customer portal yet."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <DataTable label="Customer users" testid="company-users">
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Last sign-in"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|u| {
                                    let (tone, status) = match (u.active, u.must_set_password) {
                                        (false, _) => ("badge-neutral", "Disabled"),
                                        (true, true) => ("badge-amber", "Awaiting first sign-in"),
                                        (true, false) => ("badge-green", "Active"),
                                    };
                                    let verb = if u.active { "Disable" } else { "Enable" };
                                    let label = format!("{verb} {}", u.name);
                                    let user = u.clone();
                                    view! {
                                        <tr data-user=u.email.clone()>
                                            <td>{u.name.clone()}</td>
                                            <td>{u.email.clone()}</td>
                                            <td><span class=format!("badge {tone}")>{status}</span></td>
                                            <td>{u.last_sign_in.map(|t| date(t.date_naive())).unwrap_or_else(|| "Never".into())}</td>
                                            <td class="actions-cell">
                                                <Show when=is_admin>
                                                    <button type="button" class="btn btn-small" aria-label=label.clone()
                                                        disabled=move || toggle.pending().get()
                                                        on:click={let user = user.clone(); move |_| {
                                                            message.set(None);
                                                            // Disabling signs them out: asked first. Enabling is harmless.
                                                            if user.active { confirming.set(Some(user.clone())); } else { toggle.dispatch(user.clone()); }
                                                        }}>{verb}</button>
                                                </Show>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </DataTable>
                    }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || !is_admin()>
            <p class="help">"Only admins can add or disable users."</p>
        </Show>
        {move || confirming.get().map(|u| view! {
            <ConfirmDialog title="Disable this user?" question=format!("Disable {} ({})?", u.name, u.email)
                detail="They are signed out at once and cannot sign in until enabled again. Their payments and payment methods stay."
                confirm="Disable" pending=toggle.pending()
                on_confirm=Callback::new(move |_| { toggle.dispatch(u.clone()); })
                on_cancel=Callback::new(move |_| confirming.set(None))/>
        })}
        {move || adding.get().then(|| view! {
            <Modal title="Add a customer user" on_close=Callback::new(move |_| { adding.set(false); created.set(None); })>
                <AddUserForm code=code.get_untracked() created=created
                    on_done=Callback::new(move |_| { adding.set(false); created.set(None); version.update(|v| *v += 1); })/>
            </Modal>
        })}
    }
}

#[component]
fn AddUserForm(
    code: String,
    created: RwSignal<Option<CreatedUser>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let save = Action::new(move |(n, e): &(String, String)| {
        create_customer_user(code.clone(), n.clone(), e.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(u)) = save.value().get() {
            created.set(Some(u));
        }
    });
    let error = move |f: &'static str| field_error(save, f);
    let general = general_error(save);
    view! {
        {move || match created.get() {
            Some(u) => view! {
                <div class="modal-body" data-testid="user-created">
                    <p>{format!("{} ({}) can now sign in to the customer portal with this temporary password:", u.user.name, u.user.email)}</p>
                    <p class="temp-password mono" data-testid="temporary-password">{u.temporary_password.clone()}</p>
                    <p class="muted">"It is shown only now. Give it to them over a channel you trust; at their first sign-in they choose their own password."</p>
                    <div class="modal-actions">
                        <button type="button" class="btn btn-primary" on:click=move |_| on_done.run(())>"Done"</button>
                    </div>
                </div>
            }.into_any(),
            None => view! {
                <form class="form" novalidate on:submit=move |ev| {
                    ev.prevent_default();
                    if !save.pending().get_untracked() {
                        save.dispatch((name.get_untracked(), email.get_untracked()));
                    }
                }>
                    <ErrorBanner message=general/>
                    <TextField name="name" label="Name" autocomplete="off" value=name error=error("name")/>
                    <TextField name="email" label="Email" input_type="email" autocomplete="off" value=email error=error("email")/>
                    <div class="modal-actions">
                        <button type="button" class="btn" on:click=move |_| on_done.run(())>"Cancel"</button>
                        <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                            <Show when=move || save.pending().get()><span class="spinner" aria-hidden="true"></span></Show>
                            "Add user"
                        </button>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}
