//! Company → Users: the company's customer users. Admins invite one by email (the user
//! chooses their password from the link) and disable or enable them; disabling ends their
//! sessions at once.

use super::use_company_code;
use crate::components::invite::{InviteAction, InviteForm};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::{action_error, loading_rows, DataTable, ErrorBanner, ErrorView};
use crate::server_fns::people::{company_users, create_customer_user, set_customer_user_active};
use leptos::prelude::*;
use shared::auth::{CustomerUser, Role, SessionUser};
use shared::format::date;

#[component]
pub fn UsersTab() -> impl IntoView {
    let code = use_company_code();
    let version = RwSignal::new(0u32);
    let users = Resource::new(
        move || (code.get(), version.get()),
        |(c, _)| company_users(c),
    );
    // The staff shell provides who is signed in.
    let admin = use_context::<SessionUser>().is_some_and(|u| u.role == Role::Admin);
    let is_admin = move || admin;
    let adding = RwSignal::new(false);
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
    let toggle_error = action_error(toggle);
    view! {
        <div class="tab-head">
            <h2>"Customer users"</h2>
            <Show when=is_admin>
                <button type="button" class="btn btn-primary" on:click=move |_| { message.set(None); adding.set(true); }>"Invite a user"</button>
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
                                        (true, true) => ("badge-amber", "Invited"),
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
        {move || adding.get().then(|| {
            let send: InviteAction = Action::new(move |(n, e, _): &(String, String, String)| {
                create_customer_user(code.get_untracked(), n.clone(), e.clone())
            });
            let done = Callback::new(move |sent: bool| {
                adding.set(false);
                if sent { version.update(|v| *v += 1); }
            });
            view! {
                <Modal title="Invite a customer user" on_close=Callback::new(move |_| done.run(send.value().get_untracked().is_some_and(|r| r.is_ok())))>
                    <InviteForm send=send on_done=done/>
                </Modal>
            }
        })}
    }
}
